// rilq bench step: RILQ training-step and eval tokens/s on a random Llama (core/bench/step_bench.h),
// in each compute dtype asked for, optionally next to the PyTorch-eager reference of the same
// step run in the same invocation (tests/reference/step_bench_reference.py).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/step_bench.h"
#include "core/util/error.h"

#include <QStringList>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rilq::cli {

namespace {

struct StepBenchRow {
    double train_tokens_per_s = 0.0;
    double eval_tokens_per_s = 0.0;
};

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The number before " tokens/s" on the reference's line starting with `label`.
double reference_tokens_per_s(const std::string& output, const std::string& label) {
    const auto line = output.find("\n" + label);
    const auto at = output.find_first_not_of(' ', (line == std::string::npos ? 0 : line + 1) + label.size());
    if (line == std::string::npos || at == std::string::npos)
        throw Error("bench step: the reference printed no \"" + label + "\" line:\n" + output);
    return std::stod(output.substr(at));
}

// Runs the PyTorch-eager reference with the same shape and threads; its figures.
StepBenchRow run_reference(const std::string& python, const std::string& script, int threads,
                           const StepBenchOptions& o) {
    const std::string command = "'" + python + "' '" + script + "' --threads " + std::to_string(threads) +
                                " --seqlen " + std::to_string(o.seqlen) + " --rank " + std::to_string(o.rank) +
                                " --steps " + std::to_string(o.steps) + " 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) throw Error("bench step: cannot run " + command);
    std::string output = "\n";
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe.get()) != nullptr) output += buffer;
    const int status = ::pclose(pipe.release());
    if (status != 0) throw Error("bench step: the reference " + script + " failed:\n" + output);
    return {reference_tokens_per_s(output, "train"), reference_tokens_per_s(output, "eval")};
}

} // namespace

int run_bench_step(const QStringList& args) {
    QCommandLineParser parser;
    auto number = [&](const char* name, const char* help, const char* fallback) {
        parser.addOption({QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"),
                          QString::fromLatin1(fallback)});
    };
    number("threads", "Threads (default 2, the comparison setting).", "2");
    number("seqlen", "Window length (default 512).", "512");
    number("batch", "Windows per micro-batch (default 1).", "1");
    number("rank", "LoRA rank on all seven projections (default 16).", "16");
    number("steps", "Timed training steps after 2 warm-up steps (default 8).", "8");
    number("rounds", "Repeat every measurement this many times, interleaved; medians (default 1).", "1");
    parser.addOption({QStringLiteral("dtype"), QStringLiteral("Compute dtypes, comma-separated (default fp32,bf16)."),
                      QStringLiteral("LIST"), QStringLiteral("fp32,bf16")});
    parser.addOption({QStringLiteral("iec"), QStringLiteral("Add IR-QLoRA's IEC to every adapter.")});
    parser.addOption({QStringLiteral("checkpointing"),
                      QStringLiteral("Recompute each decoder layer's forward in the backward "
                                     "(rilq.activation_checkpointing).")});
    parser.addOption({QStringLiteral("reference"),
                      QStringLiteral("Also run this PyTorch-eager reference script (tests/reference/"
                                     "step_bench_reference.py) in each round, same shape and threads."),
                      QStringLiteral("SCRIPT")});
    parser.addOption({QStringLiteral("python"), QStringLiteral("Python for --reference (default /usr/bin/python3)."),
                      QStringLiteral("PATH"), QStringLiteral("/usr/bin/python3")});
    int code = 0;
    if (!parse_args(parser, args,
                    QStringLiteral("RILQ training step (forward + backward into LoRA + Adam, cached hidden targets) "
                                   "and eval tokens/s on a random Llama: dim 512, 8 layers, 8 heads, ffn 1376, "
                                   "vocab 4096."),
                    0, 0, code))
        return code;
    return run_guarded([&] {
        const int threads = parser.value(QStringLiteral("threads")).toInt();
        init_runtime(threads);
        StepBenchOptions o;
        o.seqlen = parser.value(QStringLiteral("seqlen")).toLongLong();
        o.batch = parser.value(QStringLiteral("batch")).toLongLong();
        o.rank = parser.value(QStringLiteral("rank")).toLongLong();
        o.steps = parser.value(QStringLiteral("steps")).toLongLong();
        o.iec = parser.isSet(QStringLiteral("iec"));
        o.activation_checkpointing = parser.isSet(QStringLiteral("checkpointing"));
        const int rounds = std::max(1, parser.value(QStringLiteral("rounds")).toInt());
        std::vector<std::string> dtypes;
        for (const auto& d : parser.value(QStringLiteral("dtype")).split(QLatin1Char(','), Qt::SkipEmptyParts))
            dtypes.push_back(to_std(d.trimmed()));
        const std::string reference = to_std(parser.value(QStringLiteral("reference")));
        const std::string python = to_std(parser.value(QStringLiteral("python")));

        std::printf("step     dim=%lld layers=%lld seqlen=%lld batch=%lld rank=%lld%s%s  threads %d  rounds %d\n",
                    static_cast<long long>(o.hidden), static_cast<long long>(o.layers),
                    static_cast<long long>(o.seqlen), static_cast<long long>(o.batch),
                    static_cast<long long>(o.rank), o.iec ? " iec" : "",
                    o.activation_checkpointing ? " checkpointing" : "", threads, rounds);
        std::map<std::string, std::vector<StepBenchRow>> rows;
        for (int round = 0; round < rounds; ++round) {
            for (const auto& dtype : dtypes) {
                o.dtype = dtype;
                const StepBenchFigures f = run_step_bench(o);
                rows[dtype].push_back({f.train_tokens_per_s, f.eval_tokens_per_s});
                std::printf("%-8s train %.0f tokens/s  %.1f ms/step  cpu %.1f ms/step  %.1f GFLOP/s (fp32 GEMM "
                            "%.1f)  loss %.4f  graph %.0f MiB | eval %.0f tokens/s  cpu %.1f ms/window\n",
                            dtype.c_str(), f.train_tokens_per_s, f.train_step_ms, f.train_cpu_ms_per_step,
                            f.train_gflops, f.gemm_gflops, f.final_loss, f.graph_mib, f.eval_tokens_per_s,
                            f.eval_cpu_ms_per_window);
                std::fflush(stdout);
            }
            if (!reference.empty()) {
                const StepBenchRow r = run_reference(python, reference, threads, o);
                rows["pytorch"].push_back(r);
                std::printf("%-8s train %.0f tokens/s | eval %.0f tokens/s\n", "pytorch", r.train_tokens_per_s,
                            r.eval_tokens_per_s);
                std::fflush(stdout);
            }
        }
        std::printf("median of %d round(s), tokens/s:\n", rounds);
        const bool paired = rows.count("pytorch") > 0;
        const double ref_train = paired ? median_of([&] {
            std::vector<double> v;
            for (const auto& r : rows["pytorch"]) v.push_back(r.train_tokens_per_s);
            return v;
        }()) : 0.0;
        const double ref_eval = paired ? median_of([&] {
            std::vector<double> v;
            for (const auto& r : rows["pytorch"]) v.push_back(r.eval_tokens_per_s);
            return v;
        }()) : 0.0;
        for (const auto& [dtype, list] : rows) {
            std::vector<double> train, eval;
            for (const auto& r : list) {
                train.push_back(r.train_tokens_per_s);
                eval.push_back(r.eval_tokens_per_s);
            }
            const double t = median_of(train), e = median_of(eval);
            if (paired && dtype != "pytorch")
                std::printf("  %-8s train %6.0f (%.2fx pytorch)  eval %6.0f (%.2fx pytorch)\n", dtype.c_str(), t,
                            t / ref_train, e, e / ref_eval);
            else
                std::printf("  %-8s train %6.0f  eval %6.0f\n", dtype.c_str(), t, e);
        }
        return kExitOk;
    });
}

} // namespace rilq::cli
