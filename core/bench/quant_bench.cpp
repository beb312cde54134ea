#include "core/bench/quant_bench.h"
#include "core/bench/cpu_clock.h"

#include "core/quant/gptq.h"
#include "core/quant/metrics.h"
#include "core/quant/quantizer.h"
#include "core/util/config_fields.h"
#include "core/util/error.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <time.h>

namespace rilq {

namespace {

struct Timing {
    double wall_s = std::numeric_limits<double>::infinity();
    double cpu_s = std::numeric_limits<double>::infinity();
};

// Best wall time and best process CPU time (all threads, user + system) over the repeats. On a
// machine shared with other jobs the wall time stretches while the CPU time stays put.
Timing time_best_of(int repeats, const std::function<void()>& f) {
    Timing best;
    for (int i = 0; i < std::max(repeats, 1); ++i) {
        const double c0 = process_cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best.wall_s = std::min(best.wall_s,
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        best.cpu_s = std::min(best.cpu_s, process_cpu_seconds() - c0);
    }
    return best;
}

// A method's spec as the bench times it; knobs in `settings` that the method does not read are
// left out.
QuantSpec bench_spec(const QuantMethod& method,
                     const std::vector<std::pair<std::string, std::string>>& settings) {
    nlohmann::json j = {{"method", method.name}, {"bits", method.grouping == GroupKind::FlatBlocks ? 4 : 2}};
    for (const auto& [key, text] : settings) {
        if (!config::find_field(quant_spec_fields(), key))
            throw Error("bench quantize: --set " + key + ": unknown quant setting (expected " +
                        config::one_of_text(config::keys_of(quant_spec_fields())) + ")");
        if (is_method_knob(key) && !method.reads(key)) continue;
        const auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        j[key] = value.is_discarded() ? nlohmann::json(text) : value;
    }
    return quant_spec_from_json(j, "bench quantize");
}

// The goals, seconds on 2 cores for the 4096 x 11008 matrix at the defaults.
double goal_seconds(const QuantSpec& spec) {
    if (spec.method == "rtn") return 0.5;
    if (spec.method == "icq-nf" && spec.icq_tau_n == 100) return 10.0;
    return 0.0;
}

} // namespace

QuantBenchResult run_quant_bench(const QuantBenchOptions& o, std::ostream& out) {
    at::set_num_threads(o.threads);
    QuantBenchResult result;
    result.threads = at::get_num_threads();
    result.rows = o.rows;
    result.cols = o.cols;
    auto gen = at::detail::createCPUGenerator(o.seed);
    const auto w = (torch::randn({o.rows, o.cols}, gen, torch::kFloat32) * 0.02).contiguous(); // (O, I)
    const double mweights = static_cast<double>(w.numel()) / 1e6;

    char line[256];
    std::snprintf(line, sizeof line,
                  "quantize benchmark: %lld x %lld fp32 N(0, 0.02), %d threads, best of %d\n",
                  static_cast<long long>(o.rows), static_cast<long long>(o.cols), result.threads,
                  std::max(o.repeats, 1));
    out << line;
    std::snprintf(line, sizeof line, "%-44s %8s %8s %10s %10s %9s\n", "case", "wall s", "cpu s", "goal",
                  "Mweights/s", "rel.err");
    out << line;

    auto report = [&](QuantBenchEntry e) {
        e.mweights_per_s = mweights / e.seconds;
        const std::string goal = e.goal_seconds > 0 ? (std::to_string(e.goal_seconds).substr(0, 4) +
                                                       (e.seconds <= e.goal_seconds ? " ok" : " MISS"))
                                                    : "-";
        std::snprintf(line, sizeof line, "%-44s %8.3f %8.3f %10s %10.1f %9.5f\n", e.name.c_str(), e.seconds,
                      e.cpu_seconds, goal.c_str(), e.mweights_per_s, e.rel_error);
        out << line;
        out.flush();
        result.entries.push_back(e);
    };
    auto rel = [&](const torch::Tensor& q) { return ((w - q).norm() / w.norm()).item<double>(); };
    // GPTQ's Hessian of calib_windows N(0, 1) windows, each made and added on its own (GPTQ reads
    // its inputs only through it); built once, for the first case that needs it, and timed.
    if (o.calib_windows <= 0 || o.calib_seqlen <= 0)
        throw Error("bench quantize: the calibration windows and their length must be positive");
    GptqHessian hessian;
    const std::string calib_text =
        std::to_string(o.calib_windows) + " x " + std::to_string(o.calib_seqlen) + " calibration tokens";
    auto hessian_for = [&](const QuantSpec& spec) {
        if (hessian.samples() > 0) return;
        QuantBenchEntry e;
        e.name = spec.method + " Hessian of " + calib_text;
        const Timing t = time_best_of(1, [&] {
            hessian = GptqHessian(o.cols);
            for (int64_t k = 0; k < o.calib_windows; ++k)
                hessian.add_batch(torch::randn({1, o.calib_seqlen, o.cols}, gen, torch::kFloat32));
        });
        e.seconds = t.wall_s;
        e.cpu_seconds = t.cpu_s;
        report(e);
    };
    auto bench_method = [&](const QuantSpec& spec, double goal) {
        QuantResult r;
        QuantBenchEntry e;
        e.name = spec.describe();
        e.goal_seconds = goal;
        std::function<QuantResult()> quantize = [&] { return quantize_weight(w, spec, "bench"); };
        if (quant_method(spec.method).needs_calibration) {
            if (spec.method != gptq_method().name)
                throw Error("bench quantize: no calibration inputs for method " + spec.method);
            hessian_for(spec);
            e.name += " (Hessian given)";
            quantize = [&] { return gptq_quantize(w, hessian.matrix(), spec, "bench"); };
        }
        const Timing t = time_best_of(o.repeats, [&] { r = quantize(); });
        e.seconds = t.wall_s;
        e.cpu_seconds = t.cpu_s;
        e.rel_error = rel(r.dequantized);
        report(e);
        return r;
    };

    std::vector<std::string> cases = o.cases;
    if (cases.empty()) {
        cases = quant_method_names();
        cases.push_back("metrics");
    }
    const QuantSpec metrics_spec = bench_spec(quant_methods().front(), {});
    QuantResult for_metrics;
    for (const auto& m : cases) {
        if (const QuantMethod* method = find_quant_method(m)) {
            const QuantSpec spec = bench_spec(*method, o.settings);
            QuantResult r = bench_method(spec, goal_seconds(spec));
            if (spec.method == metrics_spec.method && !for_metrics.dequantized.defined()) for_metrics = r;
        } else if (m == "metrics") {
            if (!for_metrics.dequantized.defined()) for_metrics = quantize_weight(w, metrics_spec, "bench");
            MetricsOptions mo;
            mo.spectrum = false;
            QuantBenchEntry e;
            e.name = "metrics (no spectrum) of " + metrics_spec.describe();
            const Timing t =
                time_best_of(o.repeats, [&] { compute_linear_stats("bench", w, for_metrics, mo); });
            e.seconds = t.wall_s;
            e.cpu_seconds = t.cpu_s;
            e.rel_error = rel(for_metrics.dequantized);
            report(e);
            QuantBenchEntry sp;
            sp.name = "spectrum of W - Q(W) (Gram + eigvalsh)";
            const Timing ts =
                time_best_of(o.repeats, [&] { error_singular_values(w, for_metrics.dequantized); });
            sp.seconds = ts.wall_s;
            sp.cpu_seconds = ts.cpu_s;
            sp.rel_error = e.rel_error;
            report(sp);
        } else {
            std::vector<std::string> known = quant_method_names();
            known.push_back("metrics");
            throw Error("bench quantize: unknown case \"" + m + "\" (expected " + config::one_of_text(known) +
                        ")");
        }
    }
    return result;
}

} // namespace rilq
