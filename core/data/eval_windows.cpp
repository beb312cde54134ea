// Evaluation windows: GPTQ / OmniQuant protocol (see eval_windows.h).
#include "core/data/eval_windows.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/data/document_drawer.h"
#include "core/data/python_random.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

namespace rilq {

void to_json(nlohmann::json& j, const EvalProtocol& p) {
    j = nlohmann::json{{"dataset", p.dataset},
                       {"spec", p.spec},
                       {"file", p.file},
                       {"file_sha256", p.file_sha256},
                       {"tokenizer_kind", p.tokenizer_kind},
                       {"tokenizer_path", p.tokenizer_path},
                       {"seqlen", p.seqlen},
                       {"n_windows", p.n_windows},
                       {"n_tokens", p.n_tokens},
                       {"stream_tokens", p.stream_tokens},
                       {"documents", p.documents},
                       {"sampling", p.sampling}};
}

TokenWindows stream_windows(const std::vector<int64_t>& stream, int64_t seqlen, int64_t max_windows) {
    if (seqlen <= 0) throw Error("evaluation seqlen must be positive, got " + std::to_string(seqlen));
    TokenWindows out;
    out.seqlen = seqlen;
    int64_t n = static_cast<int64_t>(stream.size()) / seqlen; // the tail shorter than seqlen is dropped
    if (max_windows > 0) n = std::min(n, max_windows);
    out.ids.reserve(static_cast<size_t>(n * seqlen));
    for (int64_t k = 0; k < n; ++k)
        out.append(stream, k * seqlen, WindowOrigin{0, -1, k * seqlen, 0});
    return out;
}

TokenWindows sample_c4_eval_windows(const DocumentSet& documents, const Tokenizer& tokenizer,
                                    const EvalWindowOptions& options, const ProgressSink& progress) {
    if (options.seqlen <= 0)
        throw Error("evaluation seqlen must be positive, got " + std::to_string(options.seqlen));
    if (options.c4_windows <= 0)
        throw Error("c4 evaluation needs at least one window, got c4_windows = " +
                    std::to_string(options.c4_windows));
    // Windows are drawn in order from one RNG, so a cap keeps exactly the first windows.
    const int64_t n =
        options.max_windows > 0 ? std::min(options.c4_windows, options.max_windows) : options.c4_windows;
    PythonRandom rng(options.c4_seed);
    DocumentDrawer drawer(documents, tokenizer, options.seqlen, "c4 documents");
    TokenWindows out;
    out.seqlen = options.seqlen;
    out.ids.reserve(static_cast<size_t>(n * options.seqlen));
    const auto start = std::chrono::steady_clock::now();
    for (int64_t w = 0; w < n; ++w) {
        DrawnDocument doc = drawer.draw(rng, progress);
        const int64_t length = static_cast<int64_t>(doc.ids.size());
        // length == seqlen: Python's randint(0, -1) would raise; take the whole document (header).
        const int64_t offset = length == options.seqlen ? 0 : rng.randint(0, length - options.seqlen - 1);
        out.append(doc.ids, offset, WindowOrigin{0, doc.index, offset, doc.draws});
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.report(
            ProgressInfo{"sample c4 eval windows", w + 1, n, "windows", elapsed_s,
                         elapsed_s / static_cast<double>(w + 1) * static_cast<double>(n - w - 1)});
    }
    return out;
}

namespace {

std::vector<int64_t> tokenize_stream(const std::string& text, const Tokenizer& tokenizer,
                                     const std::string& what, const ProgressSink& progress) {
    progress.check_cancel();
    progress.report(ProgressInfo{"tokenize " + what, 0, 1, "streams", 0.0, -1.0});
    const auto start = std::chrono::steady_clock::now();
    std::vector<int64_t> ids = tokenizer.encode(text, /*add_bos=*/true);
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.report(ProgressInfo{"tokenize " + what, 1, 1, "streams", elapsed_s, 0.0});
    progress.check_cancel();
    return ids;
}

} // namespace

EvalWindows build_eval_windows(const DatasetSpec& spec, const Tokenizer& tokenizer,
                               const EvalWindowOptions& options, const ProgressSink& progress) {
    if (options.seqlen <= 0)
        throw Error("evaluation seqlen must be positive, got " + std::to_string(options.seqlen));
    EvalWindows result;
    EvalProtocol& p = result.protocol;
    p.dataset = dataset_kind_name(spec.kind);
    p.spec = format_dataset_spec(spec);
    p.file = resolve_dataset_file(spec, DataUse::Evaluation);
    p.file_sha256 = sha256_file(p.file);
    p.tokenizer_kind = tokenizer.kind();
    p.tokenizer_path = tokenizer.path();
    p.seqlen = options.seqlen;
    std::string cap = options.max_windows > 0
                          ? "; capped at the first " + std::to_string(options.max_windows) + " windows"
                          : "";
    if (!spec.whole()) {
        std::ostringstream part;
        part << "; only the part [" << spec.range_begin << ", " << spec.range_end << ") of the file ("
             << (spec.kind == DatasetKind::Text ? "bytes, cut at line starts"
                 : spec.kind == DatasetKind::WikiText2 ? "rows" : "documents")
             << ")";
        cap += part.str();
    }

    switch (spec.kind) {
    case DatasetKind::WikiText2: {
        WikiTextRows rows = read_wikitext_rows(p.file);
        rows.rows = rows_in_range(std::move(rows.rows), spec);
        const std::vector<int64_t> stream =
            tokenize_stream(wikitext_eval_text(rows.rows), tokenizer, p.dataset, progress);
        result.windows = stream_windows(stream, options.seqlen, options.max_windows);
        p.stream_tokens = static_cast<int64_t>(stream.size());
        p.documents = static_cast<int64_t>(rows.rows.size());
        p.sampling =
            "GPTQ/OmniQuant wikitext2: \"\\n\\n\".join(" + std::to_string(rows.rows.size()) +
            " HF rows) tokenized once with BOS, non-overlapping windows of seqlen, tail dropped" +
            (rows.layout_rebuilt ? "; blank rows rebuilt by the WikiText layout rule (file had none)" : "") +
            cap;
        break;
    }
    case DatasetKind::Text: {
        const std::vector<int64_t> stream =
            tokenize_stream(text_in_range(read_text_file(p.file), spec), tokenizer, p.dataset, progress);
        result.windows = stream_windows(stream, options.seqlen, options.max_windows);
        p.stream_tokens = static_cast<int64_t>(stream.size());
        p.sampling = "text: the file's bytes tokenized once with BOS, non-overlapping windows of seqlen, "
                     "tail dropped" +
                     cap;
        break;
    }
    case DatasetKind::C4: {
        const DocumentSet documents = documents_in_range(read_c4_documents(p.file), spec);
        p.documents = static_cast<int64_t>(documents.size());
        result.windows = sample_c4_eval_windows(documents, tokenizer, options, progress);
        p.sampling =
            "GPTQ/OmniQuant c4: random.seed(" + std::to_string(options.c4_seed) + "); " +
            std::to_string(options.c4_windows) +
            " windows; per window draw documents randint(0, D-1) until tokenized length (BOS) >= seqlen, "
            "offset randint(0, len-seqlen-1) (a document of exactly seqlen tokens is taken whole)" +
            cap;
        break;
    }
    }
    if (result.windows.count() == 0)
        throw Error(p.dataset + " file '" + p.file + "' gives " + std::to_string(p.stream_tokens) +
                    " tokens, fewer than one window of seqlen " + std::to_string(options.seqlen));
    p.n_windows = result.windows.count();
    p.n_tokens = p.n_windows * p.seqlen;
    return result;
}

} // namespace rilq
