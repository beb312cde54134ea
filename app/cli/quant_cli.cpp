#include "app/cli/quant_cli.h"

#include "app/cli/cli_support.h"
#include "app/cli/model_args.h"
#include "core/data/calibration.h"
#include "core/data/text_sources.h"
#include "core/quant/quant_registry.h"
#include "core/quant/quant_stats_json.h"
#include "core/util/config_fields.h"
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

} // namespace

void add_quant_spec_options(QCommandLineParser& p) {
    QString methods, variants, knobs;
    for (const auto& m : quant_methods()) {
        methods += (methods.isEmpty() ? "" : ", ") + QString::fromStdString(m.name);
        QString names;
        for (const auto& v : m.variants)
            names += (names.isEmpty() ? "" : ", ") + QString::fromStdString(v.name);
        variants += QString::fromStdString(m.name) + ": " + names + "; ";
    }
    for (const auto& f : quant_spec_fields())
        if (is_method_knob(f.key)) knobs += (knobs.isEmpty() ? "" : ", ") + QString::fromStdString(f.key);
    p.addOptions({
        {"method", "Quantization method: " + methods + " (default rtn).", "method"},
        {"bits", "Bits per weight (default 2; the methods' widths: rilq schema --markdown).", "B"},
        {"group",
         "Group length along in_features (row-group methods; 0 = per channel) or absmax block (block "
         "methods). Default 64.",
         "G"},
        {"variant", "The method's variant, its first by default: " + variants, "name"},
        {"set", "Any other quant setting as in an experiment's quant section (repeatable): " + knobs + ".",
         "KEY=VALUE"},
        {"targets", "Comma-separated projections or linear names (default: q,k,v,o,gate,up,down_proj).",
         "list"},
        {"spec",
         "Read the settings from a JSON file holding an experiment's quant section (options given "
         "override it).",
         "file.json"},
    });
}

void add_quant_options(QCommandLineParser& p) {
    add_quant_spec_options(p);
    p.addOptions({
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
    nlohmann::json j = nlohmann::json::object();
    std::string source = "quantization options";
    if (p.isSet("spec")) {
        source = to_std(p.value("spec"));
        j = read_json_file(source); // bounded nesting; "<path>: invalid JSON: ..." or "cannot open"
        if (!j.is_object())
            throw Error(source + ": expected a JSON object like an experiment's quant section");
    }
    // A value is JSON when it parses as JSON (3, true, [..]), else a bare string (rtn), as --set does.
    const auto value_of = [](const QString& text) {
        const auto v = nlohmann::json::parse(to_std(text), nullptr, /*allow_exceptions=*/false);
        return v.is_discarded() ? nlohmann::json(to_std(text)) : v;
    };
    if (p.isSet("method")) j["method"] = to_std(p.value("method"));
    if (p.isSet("bits")) j["bits"] = value_of(p.value("bits"));
    if (p.isSet("group")) j["group_size"] = value_of(p.value("group"));
    if (p.isSet("variant")) j["variant"] = to_std(p.value("variant"));
    for (const auto& assignment : p.values("set")) {
        const int eq = assignment.indexOf(QLatin1Char('='));
        if (eq <= 0)
            throw Error("--set: expected KEY=VALUE (e.g. icq_tau_n=50), found \"" + to_std(assignment) +
                        "\"");
        j[to_std(assignment.left(eq))] = value_of(assignment.mid(eq + 1));
    }
    if (p.isSet("targets")) {
        nlohmann::json targets = nlohmann::json::array();
        for (const auto& t : p.value("targets").split(QLatin1Char(','), Qt::SkipEmptyParts))
            targets.push_back(to_std(t.trimmed()));
        j["targets"] = targets;
    }
    return quant_spec_from_json(j, source + ": $");
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
    for (const auto& [metric, value] : o.method_means) {
        std::snprintf(line, sizeof line, "  %s %+.4f (mean over weights)\n", metric.c_str(), value);
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
