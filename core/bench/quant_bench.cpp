#include "core/bench/quant_bench.h"
#include "core/bench/cpu_clock.h"

#include "core/quant/metrics.h"
#include "core/quant/quantizer.h"
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

QuantSpec make_spec(QuantMethod m, int bits, int64_t group) {
    QuantSpec s;
    s.method = m;
    s.bits = bits;
    s.group_size = group;
    if (m == QuantMethod::IcqInt) s.rtn_variant = RtnVariant::Gptq;
    return s;
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
    auto bench_method = [&](const QuantSpec& spec, double goal) {
        QuantResult r;
        QuantBenchEntry e;
        e.name = spec.describe();
        e.goal_seconds = goal;
        const Timing t = time_best_of(o.repeats, [&] { r = quantize_weight(w, spec, "bench"); });
        e.seconds = t.wall_s;
        e.cpu_seconds = t.cpu_s;
        e.rel_error = rel(r.dequantized);
        report(e);
        return r;
    };

    QuantResult for_metrics;
    for (const auto& m : o.methods) {
        if (m == "rtn") {
            for_metrics = bench_method(make_spec(QuantMethod::Rtn, 2, 64), 0.5);
        } else if (m == "nf") {
            bench_method(make_spec(QuantMethod::Nf, 4, 64), 0.0);
        } else if (m == "icq-nf") {
            QuantSpec s = make_spec(QuantMethod::IcqNf, 4, 64);
            s.icq_n = o.icq_n;
            s.double_quant = true;
            bench_method(s, o.icq_n == 100 ? 10.0 : 0.0);
        } else if (m == "icq-int") {
            bench_method(make_spec(QuantMethod::IcqInt, 2, 64), 0.0);
        } else if (m == "metrics") {
            if (!for_metrics.dequantized.defined())
                for_metrics = quantize_weight(w, make_spec(QuantMethod::Rtn, 2, 64), "bench");
            MetricsOptions mo;
            mo.spectrum = false;
            QuantBenchEntry e;
            e.name = "metrics (no spectrum) of rtn w2";
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
            throw Error("bench quantize: unknown case \"" + m + "\" (rtn, nf, icq-nf, icq-int, metrics)");
        }
    }
    return result;
}

} // namespace rilq
