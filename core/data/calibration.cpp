// RILQ calibration windows and their train/validation split (see calibration.h).
#include "core/data/calibration.h"

#include <algorithm>
#include <sstream>

#include "core/data/document_drawer.h"
#include "core/data/python_random.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

namespace rilq {

std::vector<CalibrationSource> calibration_sources(const std::vector<DatasetSpec>& specs,
                                                   const std::vector<int64_t>& counts) {
    if (specs.empty()) throw Error("calibration needs at least one dataset");
    for (int64_t c : counts)
        if (c < 0) throw Error("calibration sample counts must be >= 0, got " + std::to_string(c));
    std::vector<CalibrationSource> sources;
    if (counts.size() == specs.size()) {
        for (size_t i = 0; i < specs.size(); ++i)
            sources.push_back({specs[i], counts[i]});
        return sources;
    }
    if (counts.size() != 1)
        throw Error("calibration: " + std::to_string(counts.size()) + " sample counts for " +
                    std::to_string(specs.size()) + " datasets; give one count per dataset or one total");
    const int64_t k = static_cast<int64_t>(specs.size());
    for (int64_t i = 0; i < k; ++i)
        sources.push_back({specs[static_cast<size_t>(i)], counts[0] / k + (i < counts[0] % k ? 1 : 0)});
    return sources;
}

namespace {

// Windows i = randint(0, len-L-1), [i, i+L) of one stream (RILQ get_wikitext2 / get_ptb).
void draw_stream_windows(const std::vector<int64_t>& stream, int64_t n, int64_t seqlen, int64_t source,
                         const std::string& file, PythonRandom& rng, TokenWindows& out,
                         const ProgressSink& progress) {
    const int64_t length = static_cast<int64_t>(stream.size());
    if (length - seqlen - 1 < 0)
        throw Error("calibration file '" + file + "' gives " + std::to_string(length) +
                    " tokens; windows of " + std::to_string(seqlen) + " need at least " +
                    std::to_string(seqlen + 1));
    for (int64_t s = 0; s < n; ++s) {
        progress.check_cancel();
        const int64_t offset = rng.randint(0, length - seqlen - 1);
        out.append(stream, offset, WindowOrigin{source, -1, offset, 0});
    }
}

// RILQ get_c4: documents with > L tokens (strict), then i = randint(0, len-L-1).
void draw_c4_windows(const DocumentSet& documents, const Tokenizer& tokenizer, int64_t n, int64_t seqlen,
                     int64_t source, const std::string& file, PythonRandom& rng, TokenWindows& out,
                     const ProgressSink& progress) {
    DocumentDrawer drawer(documents, tokenizer, seqlen + 1, file);
    for (int64_t s = 0; s < n; ++s) {
        DrawnDocument doc = drawer.draw(rng, progress);
        const int64_t offset = rng.randint(0, static_cast<int64_t>(doc.ids.size()) - seqlen - 1);
        out.append(doc.ids, offset, WindowOrigin{source, doc.index, offset, doc.draws});
        progress.report(ProgressInfo{"calibration c4 windows", s + 1, n, "windows", 0.0, -1.0});
    }
}

// Rows `order[0..]` of `windows`, in that order.
TokenWindows reorder(const TokenWindows& windows, const std::vector<int64_t>& order) {
    TokenWindows out;
    out.seqlen = windows.seqlen;
    out.ids.reserve(windows.ids.size());
    for (int64_t index : order) {
        out.ids.insert(out.ids.end(), windows.row(index), windows.row(index) + windows.seqlen);
        out.origins.push_back(windows.origins[static_cast<size_t>(index)]);
    }
    return out;
}

// random.shuffle on the list of samples: shuffling their indices makes the same swaps.
TokenWindows shuffled(const TokenWindows& windows, PythonRandom& rng) {
    std::vector<int64_t> order(static_cast<size_t>(windows.count()));
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<int64_t>(i);
    rng.shuffle(order);
    return reorder(windows, order);
}

} // namespace

CalibrationSet build_calibration(const std::vector<CalibrationSource>& sources, const Tokenizer& tokenizer,
                                 const CalibrationOptions& options, const ProgressSink& progress) {
    const int64_t seqlen = options.seqlen;
    if (seqlen <= 0) throw Error("calibration seqlen must be positive, got " + std::to_string(seqlen));
    if (!(options.val_ratio >= 0.0 && options.val_ratio < 1.0))
        throw Error("calibration val_ratio must be in [0, 1), got " + std::to_string(options.val_ratio));
    if (sources.empty()) throw Error("calibration needs at least one dataset");

    CalibrationSet result;
    TokenWindows train_unshuffled;
    TokenWindows val_unshuffled;
    train_unshuffled.seqlen = val_unshuffled.seqlen = result.train.seqlen = result.val.seqlen = seqlen;
    PythonRandom rng(options.seed);
    std::ostringstream description;
    description << "RILQ calibration, L=" << seqlen << ", seed " << options.seed << ", val_ratio "
                << options.val_ratio << ":";

    for (size_t d = 0; d < sources.size(); ++d) {
        const CalibrationSource& source = sources[d];
        const std::string file = resolve_dataset_file(source.spec, DataUse::Calibration);
        result.files.push_back(file);
        result.file_sha256.push_back(sha256_file(file));
        const std::string name = dataset_kind_name(source.spec.kind);
        if (!source.spec.whole())
            description << " (" << name << " part [" << source.spec.range_begin << ", " << source.spec.range_end
                        << ") of the file)";
        if (source.n_samples < 0) throw Error("calibration " + name + ": sample count must be >= 0");
        if (source.n_samples == 0) { // RILQ: `if calib_num_sample == 0: continue` (no re-seed)
            description << " " << name << " skipped (0 samples);";
            continue;
        }
        const int64_t val_num =
            static_cast<int64_t>(static_cast<double>(source.n_samples) * options.val_ratio);
        if (options.val_ratio > 0.0 && val_num == 0)
            throw Error("calibration " + name + ": int(" + std::to_string(source.n_samples) + " * " +
                        std::to_string(options.val_ratio) +
                        ") = 0 validation samples; RILQ's each_dset[-0:] would then put every sample in "
                        "validation. Use more samples or val_ratio 0");

        rng.seed(options.seed); // get_dataset re-seeds for every dataset
        TokenWindows drawn;
        drawn.seqlen = seqlen;
        const int64_t source_index = static_cast<int64_t>(d);
        progress.report(ProgressInfo{"calibration " + name, 0, source.n_samples, "windows", 0.0, -1.0});
        switch (source.spec.kind) {
        case DatasetKind::C4: {
            const DocumentSet documents = documents_in_range(read_c4_documents(file), source.spec);
            draw_c4_windows(documents, tokenizer, source.n_samples, seqlen, source_index, file, rng, drawn,
                            progress);
            description << " c4 " << source.n_samples << " windows from " << documents.size()
                        << " documents (draw until > L tokens) of " << file << ";";
            break;
        }
        case DatasetKind::WikiText2: {
            WikiTextRows rows = read_wikitext_rows(file);
            rows.rows = rows_in_range(std::move(rows.rows), source.spec);
            const std::string text = wikitext_calibration_text(rows.rows, options.wikitext_rows);
            const std::vector<int64_t> stream = tokenizer.encode(text, /*add_bos=*/true);
            draw_stream_windows(stream, source.n_samples, seqlen, source_index, file, rng, drawn, progress);
            description << " wikitext2 " << source.n_samples << " windows from the first "
                        << std::min(options.wikitext_rows, rows.rows.size()) << " rows joined with \"\" ("
                        << stream.size() << " tokens) of " << file
                        << (rows.layout_rebuilt ? " (blank rows rebuilt)" : "") << ";";
            break;
        }
        case DatasetKind::Text: {
            const std::vector<int64_t> stream = tokenizer.encode(text_in_range(read_text_file(file), source.spec), /*add_bos=*/true);
            draw_stream_windows(stream, source.n_samples, seqlen, source_index, file, rng, drawn, progress);
            description << " text " << source.n_samples << " windows from " << stream.size() << " tokens of "
                        << file << ";";
            break;
        }
        }
        // The last val_num windows of each dataset validate, the rest train.
        const int64_t train_num = source.n_samples - val_num;
        for (int64_t s = 0; s < source.n_samples; ++s) {
            TokenWindows& target = s < train_num ? train_unshuffled : val_unshuffled;
            target.ids.insert(target.ids.end(), drawn.row(s), drawn.row(s) + seqlen);
            target.origins.push_back(drawn.origins[static_cast<size_t>(s)]);
        }
    }
    if (train_unshuffled.count() == 0)
        throw Error("calibration produced no training windows (all counts are 0)");
    // calib_data_loader.py: random.shuffle(tot) then random.shuffle(v_tot), with the RNG state
    // the last dataset's sampling left behind.
    result.train = shuffled(train_unshuffled, rng);
    if (options.val_ratio > 0.0) result.val = shuffled(val_unshuffled, rng);
    description
        << " last int(n*val_ratio) of each dataset -> validation; train shuffled, then validation shuffled"
        << " with the continuing RNG: " << result.train.count() << " train, " << result.val.count()
        << " validation windows";
    result.description = description.str();
    return result;
}

} // namespace rilq
