// rilq bench gemm|eval|...: speed figures printed next to the machine's GEMM peak.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/eval_bench.h"
#include "core/bench/gemm_bench.h"
#include "core/util/runtime.h"

#include <cstdio>
#include <cstring>
#include <iostream>

namespace rilq::cli {

namespace {

GemmFigures print_gemm(int64_t n) {
    const GemmFigures g = measure_gemm(n);
    std::printf("gemm     n=%lld threads=%d blas=%s  fp32 %.1f GFLOP/s  bf16 %.1f GFLOP/s\n",
                static_cast<long long>(g.n), g.threads, g.blas.c_str(), g.fp32_gflops, g.bf16_gflops);
    return g;
}

int bench_gemm(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("n"), QStringLiteral("Matrix size (default 2048)."), QStringLiteral("N"),
                      QStringLiteral("2048")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    int code = 0;
    if (!parse_args(parser, args, QStringLiteral("fp32 and bf16 GEMM GFLOP/s of this machine."), 0, 0, code))
        return code;
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        print_gemm(parser.value(QStringLiteral("n")).toLongLong());
        return kExitOk;
    });
}

int bench_eval(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("seqlen"), QStringLiteral("Window length (default 512)."),
                      QStringLiteral("N"), QStringLiteral("512")});
    parser.addOption({QStringLiteral("windows"), QStringLiteral("Windows to evaluate (default 8)."),
                      QStringLiteral("N"), QStringLiteral("8")});
    parser.addOption({QStringLiteral("dtype"), QStringLiteral("float32 (default) or bfloat16."),
                      QStringLiteral("D"), QStringLiteral("float32")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("Eval (forward) tokens/s on a random Llama: dim 512, 8 layers, 8 heads, ffn 1376, "
                           "vocab 4096."),
            0, 0, code))
        return code;
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        const GemmFigures g = print_gemm(1024);
        EvalBenchOptions o;
        o.seqlen = parser.value(QStringLiteral("seqlen")).toLongLong();
        o.windows = parser.value(QStringLiteral("windows")).toLongLong();
        o.dtype = to_std(parser.value(QStringLiteral("dtype")));
        const EvalBenchFigures f = run_eval_bench(o);
        const double peak = o.dtype == "bfloat16" ? g.bf16_gflops : g.fp32_gflops;
        std::printf("eval     dim=%lld layers=%lld seqlen=%lld dtype=%s  %.0f tokens/s  %.1f GFLOP/s = "
                    "%.0f%% of GEMM peak\n",
                    static_cast<long long>(o.hidden), static_cast<long long>(o.layers),
                    static_cast<long long>(o.seqlen), o.dtype.c_str(), f.tokens_per_s, f.gflops,
                    100.0 * f.gflops / peak);
        return kExitOk;
    });
}

struct Bench {
    const char* name;
    const char* summary;
    int (*run)(const QStringList&);
};

const Bench kBenches[] = {
    {"gemm", "fp32/bf16 GEMM GFLOP/s and the BLAS in use", bench_gemm},
    {"eval", "forward tokens/s on a random dim-512 Llama", bench_eval},
    {"store", "run store: insert 100,000 metric points, read one run's curve", run_bench_store},
    {"step", "RILQ training step tokens/s (LoRA r16, dim 512, 8 layers, seqlen 512)", run_bench_step},
    {"quantize",
     "RTN / NF / ICQ / GPTQ (128 x 2048 calibration tokens) on one 4096 x 11008 matrix (2 threads)",
     run_bench_quantize},
    {"tasks", "MMLU questions/s with and without prefix reuse (random dim-512, stories260K)",
     run_bench_tasks},
    {"packed", "dense vs packed quantized student: memory, forward/backward time (random dim 2048)",
     run_bench_packed},
    {"memory", "layer-streamed RILQ at a real shape (llama2-7b, llama3-8b): peak RSS by part, seconds",
     run_bench_memory},
};

} // namespace

int cmd_bench(const QStringList& args) {
    auto usage = [](std::ostream& out) {
        out << "usage: rilq bench <name> [options]\n\nbenchmarks:\n";
        for (const auto& b : kBenches)
            out << "  " << b.name << std::string(10 - std::strlen(b.name), ' ') << b.summary << "\n";
    };
    if (args.size() < 2) {
        usage(std::cerr);
        return kExitUsage;
    }
    const QString name = args.at(1);
    if (name == QLatin1String("--help") || name == QLatin1String("-h")) {
        usage(std::cout);
        return kExitOk;
    }
    for (const auto& b : kBenches) {
        if (name == QLatin1String(b.name)) {
            QStringList sub = args.mid(2);
            sub.prepend(args.at(0) + QLatin1Char(' ') + name);
            return b.run(sub);
        }
    }
    std::cerr << "rilq bench: unknown benchmark '" << to_std(name) << "'\n\n";
    usage(std::cerr);
    return kExitUsage;
}

} // namespace rilq::cli
