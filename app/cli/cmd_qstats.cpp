// rilq qstats MODEL --method ... [--json] [--stats FILE.json]: quantizes in memory and reports
// the per-linear metrics without writing a model.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/quant_cli.h"

#include "core/io/model_loader.h"
#include "core/quant/quant_stats_json.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace rilq::cli {

namespace {

void print_linear_table(const ModelQuantResult& result, std::ostream& out) {
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %9s %8s %9s %8s %8s %9s %9s\n", "linear", "rel.err", "SQNR dB",
                  "max|dW|", "H group", "H pool", "E(64)", "out.err");
    out << line;
    for (const auto& s : result.linears) {
        double e64 = -1;
        for (const auto& [r, e] : s.energy_at_rank)
            if (r == 64) e64 = e;
        char e64s[32] = "-", outs[32] = "-";
        if (e64 >= 0) std::snprintf(e64s, sizeof e64s, "%.5f", e64);
        if (s.has_output_error) std::snprintf(outs, sizeof outs, "%.5f", s.output_rel_error);
        std::snprintf(line, sizeof line, "%-28s %9.5f %8.2f %9.4g %8.4f %8.4f %9s %9s\n", s.name.c_str(),
                      s.rel_error, s.sqnr_db, s.max_abs_error, s.mean_group_entropy_bits,
                      s.pooled_entropy_bits, e64s, outs);
        out << line;
    }
}

} // namespace

int cmd_qstats(const QStringList& args) {
    QCommandLineParser p;
    add_quant_options(p);
    add_model_options(p);
    p.addPositionalArgument("model", "HF model folder or llama2.c .bin file.");
    p.addOptions({
        {"json", "Print the full stats document (format rilq.quant_stats) as JSON on stdout."},
        {"stats", "Also write the JSON document to a file.", "file.json"},
        {"full-groups", "Include every group's error and entropy in the JSON (large for big models)."},
        {"quiet", "No progress bar."},
    });
    int exit_code = kExitOk;
    if (!parse_args(
            p, args,
            "Quantizes a model in memory and prints per-linear metrics: weight error, SQNR, code entropy, "
            "ICQ gains and offsets, and the singular-value energy of W - Q(W).",
            1, 1, exit_code))
        return exit_code;
    QuantSpec spec;
    try {
        spec = quant_spec_from_options(p);
    } catch (const Error& e) {
        std::cerr << "rilq qstats: " << e.what() << "\n";
        return kExitUsage;
    }
    return run_guarded([&] {
        init_runtime(threads_from(p));
        const std::string model_path = to_std(p.positionalArguments().at(0));
        LlamaModel model = load_model(model_path, model_options_from(p));
        QuantizeModelOptions options;
        options.metrics = metrics_from_options(p);
        if (p.isSet("full-groups")) options.metrics.group_grid_max = 0;
        ModelQuantResult result;
        {
            QuantProgress progress(!p.isSet("quiet"));
            options.calib_ids = calibration_ids_from_options(p, model, model_path, progress.sink());
            result = quantize_model(model, spec, options, progress.sink());
            progress.finish();
        }
        StatsJsonOptions jo;
        jo.full_group_arrays = p.isSet("full-groups");
        if (p.isSet("json") || p.isSet("stats")) {
            const std::string doc = quant_stats_to_json(result, model_path, jo).dump(1) + "\n";
            if (p.isSet("stats")) write_file_atomic(to_std(p.value("stats")), doc);
            if (p.isSet("json")) {
                std::cout << doc;
                return kExitOk;
            }
        }
        print_linear_table(result, std::cout);
        print_quant_summary(result, std::cout);
        return kExitOk;
    });
}

} // namespace rilq::cli
