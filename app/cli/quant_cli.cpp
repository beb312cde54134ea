#include "app/cli/quant_cli.h"

#include "app/cli/cli_support.h"
#include "app/cli/model_args.h"
#include "core/data/calibration.h"
#include "core/data/text_sources.h"
#include "core/quant/quant_stats_json.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <memory>

namespace rilq::cli {

namespace {

int to_int(const QCommandLineParser& p, const char* name) {
    bool ok = false;
    const int v = p.value(QString::fromLatin1(name)).toInt(&ok);
    if (!ok)
        throw Error(std::string("--") + name + ": expected an integer, found \"" +
                    to_std(p.value(QString::fromLatin1(name))) + "\"");
    return v;
}

double to_double(const QCommandLineParser& p, const char* name) {
    bool ok = false;
    const double v = p.value(QString::fromLatin1(name)).toDouble(&ok);
    if (!ok)
        throw Error(std::string("--") + name + ": expected a number, found \"" +
                    to_std(p.value(QString::fromLatin1(name))) + "\"");
    return v;
}

} // namespace

void add_quant_options(QCommandLineParser& p) {
    p.addOptions({
        {"method", "rtn (default), nf, icq-nf or icq-int.", "method", "rtn"},
        {"bits", "Bits per weight: 2 (default), 3, 4 (8 for rtn / icq-int).", "B", "2"},
        {"group",
         "Group length along in_features (rtn, icq-int; -1 = per channel) or absmax block (nf, icq-nf). "
         "Default 64.",
         "G", "64"},
        {"variant",
         "rtn: omniquant (default), gptq, gptq-sym, omniquant-sym; nf/icq-nf: bnb (default), sym; "
         "icq-int: gptq (default), gptq-sym.",
         "name"},
        {"double-quant", "nf / icq-nf: double-quantize the absmax values (bitsandbytes, blocks of 256)."},
        {"icq-n", "icq-nf: 2n+1 candidate offsets (default 100, the official training value).", "n"},
        {"icq-lambda", "icq-nf: candidate range +-lambda*sigma (default 0.1).", "lambda"},
        {"icq-superblock", "icq-nf: blocks per tau2 scale (default 256).", "S"},
        {"icq-entropy", "icq searches: float32 (the official arithmetic, default) or exact (true ties).",
         "mode"},
        {"icq-fp32-offset", "icq-nf: add tau back in fp32 instead of its uint8 dynamic-map storage."},
        {"icq-int-n", "icq-int: clip ratios 1 +- k*range/n (default 50).", "n"},
        {"icq-int-range", "icq-int: clip-ratio range (default 0.1).", "r"},
        {"targets", "Comma-separated projections or linear names (default: q,k,v,o,gate,up,down_proj).",
         "list"},
        {"spec", "Read the quantization spec from a JSON file (flags given override it).", "file.json"},
        {"no-spectrum", "Skip the singular values of W - Q(W) (the slowest metric on large models)."},
        {"calib",
         "Calibration data for the output error ||XW^T - XQ(W)^T|| / ||XW^T||: wikitext2=PATH, c4=PATH or "
         "text=PATH (repeatable; windows drawn as RILQ does, seed 42).",
         "NAME=PATH"},
        {"calib-samples", "Calibration windows in all (default 8).", "N", "8"},
        {"calib-seqlen", "Calibration window length (default 256, capped by the model's context).", "L",
         "256"},
    });
}

QuantSpec quant_spec_from_options(const QCommandLineParser& p) {
    QuantSpec s;
    if (p.isSet("spec")) {
        const std::string path = to_std(p.value("spec"));
        s = quant_spec_from_json(read_json_file(path), path + ": $");
    }
    if (p.isSet("method") || !p.isSet("spec")) {
        s.method = parse_quant_method(to_std(p.value("method")), "--method");
        if (s.method == QuantMethod::IcqInt) s.rtn_variant = RtnVariant::Gptq;
    }
    if (p.isSet("bits") || !p.isSet("spec")) s.bits = to_int(p, "bits");
    if (p.isSet("group") || !p.isSet("spec")) s.group_size = to_int(p, "group");
    if (p.isSet("variant")) set_variant(s, to_std(p.value("variant")), "--variant");
    if (p.isSet("double-quant")) s.double_quant = true;
    if (p.isSet("icq-n")) s.icq_n = to_int(p, "icq-n");
    if (p.isSet("icq-lambda")) s.icq_lambda = to_double(p, "icq-lambda");
    if (p.isSet("icq-superblock")) s.icq_superblock = to_int(p, "icq-superblock");
    if (p.isSet("icq-entropy"))
        s.icq_entropy = parse_icq_entropy(to_std(p.value("icq-entropy")), "--icq-entropy");
    if (p.isSet("icq-fp32-offset")) s.icq_quantize_offset = false;
    if (p.isSet("icq-int-n")) s.icq_int_n = to_int(p, "icq-int-n");
    if (p.isSet("icq-int-range")) s.icq_int_range = to_double(p, "icq-int-range");
    if (p.isSet("targets")) {
        s.targets.clear();
        for (const auto& t : p.value("targets").split(QLatin1Char(','), Qt::SkipEmptyParts))
            s.targets.push_back(to_std(t.trimmed()));
    }
    s.validate("quantization options");
    return s;
}

MetricsOptions metrics_from_options(const QCommandLineParser& p) {
    MetricsOptions m;
    m.spectrum = !p.isSet("no-spectrum");
    return m;
}

torch::Tensor calibration_ids_from_options(const QCommandLineParser& p, const LlamaModel& model,
                                           const std::string& model_path, const ProgressSink& progress) {
    if (!p.isSet("calib")) return {};
    std::vector<DatasetSpec> specs;
    for (const auto& c : p.values("calib"))
        specs.push_back(parse_dataset_spec(to_std(c)));
    const int samples = to_int(p, "calib-samples");
    if (samples < 1)
        throw Error("--calib-samples: expected a positive count, found " + std::to_string(samples));
    CalibrationOptions o;
    o.seqlen = std::min<int64_t>(to_int(p, "calib-seqlen"), model.config().max_position_embeddings);
    o.val_ratio = 0.0;
    const auto tokenizer = tokenizer_for(p, model_path);
    const CalibrationSet set =
        build_calibration(calibration_sources(specs, {samples}), *tokenizer, o, progress);
    return to_tensor(set.train);
}

QuantProgress::QuantProgress(bool enabled) : line_(std::make_unique<ProgressLine>(enabled)) {
    sink_.cancel = interrupt_cancel_token();
    sink_.on_progress = [line = line_.get()](const ProgressInfo& info) {
        line->update(info.stage, info.done, info.total, info.unit, info.eta_s);
    };
}

void print_quant_summary(const ModelQuantResult& result, std::ostream& out) {
    const QuantSummary s = summarize_quantization(result);
    const auto& o = s.overall;
    char line[320];
    std::snprintf(line, sizeof line, "quantized %lld linears (%lld weights) with %s in %.2f s\n",
                  static_cast<long long>(o.linears), static_cast<long long>(o.weights),
                  result.spec.describe().c_str(), result.seconds);
    out << line;
    std::snprintf(
        line, sizeof line,
        "  rel. weight error %.5f (SQNR %.2f dB), max |dW| %.4g, code entropy %.4f of %d bits, pooled %.4f\n",
        o.rel_error_overall, o.sqnr_db_overall, o.max_abs_error, o.mean_group_entropy_bits, result.spec.bits,
        s.pooled_entropy_bits);
    out << line;
    if (result.spec.method == QuantMethod::IcqNf) {
        std::snprintf(line, sizeof line,
                      "  ICQ entropy gain: %+.4f bits vs the median start, %+.4f vs plain NF\n",
                      o.icq_gain_vs_start_bits, o.icq_gain_vs_plain_bits);
        out << line;
    } else if (result.spec.method == QuantMethod::IcqInt) {
        std::snprintf(line, sizeof line, "  ICQ entropy gain: %+.4f bits vs clip ratio 1\n",
                      o.icq_gain_vs_start_bits);
        out << line;
    }
    if (o.output_rel_error_mean >= 0) {
        std::snprintf(line, sizeof line, "  output error on %lld calibration tokens: mean %.5f\n",
                      static_cast<long long>(result.calib_tokens), o.output_rel_error_mean);
        out << line;
    }
    if (s.partial_groups > 0)
        out << "  " << s.linears_with_partial_groups << " linears have a shorter last group ("
            << s.partial_groups << " partial groups)\n";
    std::snprintf(line, sizeof line, "  ~%.3f bits per weight (%s)\n", s.bits_per_weight,
                  s.storage_note.c_str());
    out << line;
    for (const auto& [proj, g] : s.by_projection) {
        char output[48] = "";
        if (g.output_rel_error_mean >= 0)
            std::snprintf(output, sizeof output, "  output error %.5f", g.output_rel_error_mean);
        std::snprintf(line, sizeof line, "  %-18s rel. error %.5f  entropy %.4f%s\n", proj.c_str(),
                      g.rel_error_overall, g.mean_group_entropy_bits, output);
        out << line;
    }
}

} // namespace rilq::cli
