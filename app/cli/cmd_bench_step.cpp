// rilq bench step: RILQ training-step and eval tokens/s on a random Llama (core/bench/step_bench.h).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/step_bench.h"

#include <cstdio>

namespace rilq::cli {

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
    parser.addOption({QStringLiteral("iec"), QStringLiteral("Add IR-QLoRA's IEC to every adapter.")});
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
        const StepBenchFigures f = run_step_bench(o);
        std::printf("gemm     fp32 1024^3  %.1f GFLOP/s  (threads %d)\n", f.gemm_gflops, threads);
        std::printf("step     dim=%lld layers=%lld seqlen=%lld batch=%lld rank=%lld%s  trainable %lld\n",
                    static_cast<long long>(o.hidden), static_cast<long long>(o.layers),
                    static_cast<long long>(o.seqlen), static_cast<long long>(o.batch),
                    static_cast<long long>(o.rank), o.iec ? " iec" : "",
                    static_cast<long long>(f.trainable_parameters));
        std::printf("train    %.0f tokens/s  %.1f ms/step  cpu %.1f ms/step  %.1f GFLOP/s = %.0f%% of GEMM peak  (loss %.4f)\n",
                    f.train_tokens_per_s, f.train_step_ms, f.train_cpu_ms_per_step, f.train_gflops,
                    100.0 * f.train_gflops / f.gemm_gflops, f.final_loss);
        std::printf("eval     %.0f tokens/s  %.1f ms/window  cpu %.1f ms/window  %.1f GFLOP/s = %.0f%% of GEMM peak\n",
                    f.eval_tokens_per_s, 1e3 * static_cast<double>(o.seqlen) / f.eval_tokens_per_s,
                    f.eval_cpu_ms_per_window, f.eval_gflops, 100.0 * f.eval_gflops / f.gemm_gflops);
        return kExitOk;
    });
}

} // namespace rilq::cli
