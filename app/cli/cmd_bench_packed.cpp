// rilq bench packed: dense vs packed quantized student, memory and speed (core/bench/packed_bench.h).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/packed_bench.h"

#include <cstdio>

namespace rilq::cli {

namespace {

void print_packed_side(const char* name, const PackedBenchSide& s, int64_t linear_parameters) {
    const double mib = 1024.0 * 1024.0;
    std::printf("%-7s linears %9.2f MiB (%.4f B/weight)  model %9.2f MiB  scratch %7.2f MiB  "
                "forward %8.1f ms  forward+backward %8.1f ms\n",
                name, static_cast<double>(s.linear_bytes) / mib,
                static_cast<double>(s.linear_bytes) / static_cast<double>(linear_parameters),
                static_cast<double>(s.model_bytes) / mib, static_cast<double>(s.scratch_bytes) / mib,
                s.forward_ms, s.train_ms);
}

} // namespace

int run_bench_packed(const QStringList& args) {
    QCommandLineParser parser;
    auto number = [&](const char* name, const char* help, const char* fallback) {
        parser.addOption({QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"),
                          QString::fromLatin1(fallback)});
    };
    number("threads", "Threads (default 2).", "2");
    number("dim", "Hidden size of the random model (default 2048).", "2048");
    number("layers", "Decoder layers (default 2).", "2");
    number("heads", "Attention heads, as many KV heads (default 16).", "16");
    number("ffn", "MLP width (default 5632).", "5632");
    number("vocab", "Vocabulary (default 32000).", "32000");
    number("seqlen", "Tokens in the timed window (default 256).", "256");
    number("rank", "LoRA rank of the training step (default 16).", "16");
    number("repeats", "Timed repetitions after one warm-up, best kept (default 3).", "3");
    number("bits", "RTN bits (default 2).", "2");
    number("group-size", "RTN group size (default 64).", "64");
    parser.addOption({QStringLiteral("model"),
                      QStringLiteral("A llama2c .bin or HF checkpoint instead of the random model."),
                      QStringLiteral("PATH")});
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("Dense vs packed RTN student: bytes held, forward and forward+backward (LoRA) "
                           "time of one window, and whether the two agree bit for bit."),
            0, 0, code))
        return code;
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        PackedBenchOptions o;
        o.model = to_std(parser.value(QStringLiteral("model")));
        o.hidden = parser.value(QStringLiteral("dim")).toLongLong();
        o.layers = parser.value(QStringLiteral("layers")).toLongLong();
        o.heads = parser.value(QStringLiteral("heads")).toLongLong();
        o.kv_heads = o.heads;
        o.intermediate = parser.value(QStringLiteral("ffn")).toLongLong();
        o.vocab = parser.value(QStringLiteral("vocab")).toLongLong();
        o.seqlen = parser.value(QStringLiteral("seqlen")).toLongLong();
        o.rank = parser.value(QStringLiteral("rank")).toLongLong();
        o.repeats = parser.value(QStringLiteral("repeats")).toLongLong();
        o.spec.bits = parser.value(QStringLiteral("bits")).toInt();
        o.spec.group_size = parser.value(QStringLiteral("group-size")).toLongLong();
        const PackedBenchFigures f = run_packed_bench(o);
        std::printf("packed   %s, %s, seqlen %lld, LoRA r%lld, %lld quantized weights\n", f.shape.c_str(),
                    o.spec.describe().c_str(), static_cast<long long>(o.seqlen),
                    static_cast<long long>(o.rank), static_cast<long long>(f.linear_parameters));
        print_packed_side("dense", f.dense, f.linear_parameters);
        print_packed_side("packed", f.packed, f.linear_parameters);
        std::printf(
            "ratio   linears %.2fx smaller  model %.2fx smaller  forward %.2fx  forward+backward %.2fx "
            "(packed time / dense time)\n",
            static_cast<double>(f.dense.linear_bytes) / static_cast<double>(f.packed.linear_bytes),
            static_cast<double>(f.dense.model_bytes) / static_cast<double>(f.packed.model_bytes),
            f.packed.forward_ms / f.dense.forward_ms, f.packed.train_ms / f.dense.train_ms);
        std::printf("check   logits bit-identical: %s  adapter gradients bit-identical: %s\n",
                    f.logits_identical ? "yes" : "NO", f.gradients_identical ? "yes" : "NO");
        return kExitOk;
    });
}

} // namespace rilq::cli
