// rilq bench memory: the layer-streamed RILQ pipeline on a random real-shape Llama, with peak RSS
// by part and seconds per stage (core/bench/memory_bench.h).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/demo/demo_cache.h"
#include "core/bench/memory_bench.h"

#include <cstdio>
#include <filesystem>

namespace rilq::cli {

namespace {

double memory_bench_gb(int64_t bytes) {
    return static_cast<double>(bytes) / 1e9;
}

void print_memory_bench_run(const MemoryBenchRun& run) {
    std::printf("\n== %s: FP ppl %.2f, quantized ppl %.2f, LoRA %lld parameters\n", run.quantizer.c_str(),
                run.fp_ppl, run.quantized_ppl, static_cast<long long>(run.lora_parameters));
    std::printf("%-44s %10s %12s %12s\n", "stage", "seconds", "RSS GB", "peak GB");
    for (const auto& s : run.stages) {
        if (s.rss_bytes > 0)
            std::printf("%-44s %10.1f %12.2f %12.2f\n", s.name.c_str(), s.seconds,
                        memory_bench_gb(s.rss_bytes), memory_bench_gb(s.peak_bytes));
        else
            std::printf("%-44s %10.1f\n", s.name.c_str(), s.seconds);
    }
    for (size_t i = 0; i < run.micro_step_seconds.size(); ++i)
        std::printf("  micro-step %-32zu %10.1f\n", i + 1, run.micro_step_seconds[i]);
    std::printf("%-52s %12s\n", "part (held at the peak)", "GB");
    for (const auto& p : run.parts)
        std::printf("%-52s %12.3f\n", p.name.c_str(), memory_bench_gb(p.bytes));
}

} // namespace

int run_bench_memory(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption(
        {QStringLiteral("shape"),
         QStringLiteral(
             "llama2-7b, llama3-8b or a size d<hidden>-l<layers>-h<heads>-kv<kv>-f<ffn>-v<vocab>."),
         QStringLiteral("SHAPE"), QStringLiteral("llama2-7b")});
    parser.addOption(
        {QStringLiteral("model-dir"),
         QStringLiteral("Where the random model lives: made there when absent, reused when it has the "
                        "shape (default ~/.cache/rilq-workbench/random-SHAPE, or under $XDG_CACHE_HOME)."),
         QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("dtype"), QStringLiteral("Compute dtype: fp32 or bf16 (default fp32)."),
                      QStringLiteral("DTYPE"), QStringLiteral("fp32")});
    parser.addOption(
        {QStringLiteral("methods"),
         QStringLiteral("Quantization methods, comma-separated, each W2 g64 packed (default rtn,icq-nf)."),
         QStringLiteral("LIST"), QStringLiteral("rtn,icq-nf")});
    parser.addOption({QStringLiteral("tokenizer"),
                      QStringLiteral("A tokenizer file copied into a new model folder."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("checkpointing"),
                      QStringLiteral("Activation checkpointing per decoder layer in the micro-steps.")});
    auto number = [&](const char* name, const char* help, const char* fallback) {
        parser.addOption({QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"),
                          QString::fromLatin1(fallback)});
    };
    number("threads", "Threads (default 2).", "2");
    number("seqlen", "Tokens per window (default 512).", "512");
    number("windows", "Training windows whose teacher targets are cached (default 4).", "4");
    number("ppl-windows", "Perplexity windows (default 2).", "2");
    number("rank", "LoRA rank (default 64).", "64");
    number("steps", "RILQ micro-steps (default 2; 0 = preparation and perplexity only).", "2");
    number("seed", "Seed of the random model and windows (default 0).", "0");
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("The layer-streamed RILQ pipeline on a random Llama of a real shape: teacher "
                           "targets, packed quantization, RILQ micro-steps, perplexity; peak RSS by part "
                           "and seconds per stage."),
            0, 0, code))
        return code;
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        MemoryBenchOptions o;
        o.shape = parse_llama_shape(to_std(parser.value(QStringLiteral("shape"))));
        o.model_dir =
            parser.isSet(QStringLiteral("model-dir"))
                ? to_std(parser.value(QStringLiteral("model-dir")))
                : (std::filesystem::path(workbench_cache_dir()) / ("random-" + o.shape.name)).string();
        o.dtype = to_std(parser.value(QStringLiteral("dtype")));
        o.activation_checkpointing = parser.isSet(QStringLiteral("checkpointing"));
        o.tokenizer_file = to_std(parser.value(QStringLiteral("tokenizer")));
        int64_t seed = 0;
        if (!read_integer_option(parser, "seqlen", o.seqlen, 2) ||
            !read_integer_option(parser, "windows", o.target_windows, 1) ||
            !read_integer_option(parser, "ppl-windows", o.ppl_windows, 1) ||
            !read_integer_option(parser, "rank", o.rank, 1) ||
            !read_integer_option(parser, "steps", o.micro_steps, 0) ||
            !read_integer_option(parser, "seed", seed, 0))
            return kExitUsage;
        o.seed = static_cast<uint64_t>(seed);
        const QuantSpec base = memory_bench_quantizers().front();
        o.quantizers.clear();
        for (const QString& method :
             parser.value(QStringLiteral("methods")).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            QuantSpec spec = base;
            spec.method = to_std(method.trimmed());
            spec.validate();
            o.quantizers.push_back(spec);
        }
        ProgressLine bar;
        ProgressSink sink;
        sink.cancel = interrupt_cancel_token();
        sink.on_progress = [&](const ProgressInfo& p) {
            bar.update(p.stage, p.done, p.total, p.unit, p.eta_s);
        };
        const MemoryBenchFigures f = run_memory_bench(o, sink);
        bar.finish();
        std::printf("memory   %s (%lld parameters, %lld in linears), %s compute, %lld x %lld-token target "
                    "windows, r%lld, %lld micro-steps%s\n",
                    o.shape.name.c_str(), static_cast<long long>(f.parameters),
                    static_cast<long long>(f.linear_parameters), o.dtype.c_str(),
                    static_cast<long long>(o.target_windows), static_cast<long long>(o.seqlen),
                    static_cast<long long>(o.rank), static_cast<long long>(o.micro_steps),
                    o.activation_checkpointing ? " with activation checkpointing" : "");
        std::printf("model    %s (%s)\n", f.model_dir.c_str(),
                    f.made_model
                        ? ("made now in " + std::to_string(static_cast<int>(f.make_seconds)) + " s").c_str()
                        : "reused");
        for (const auto& run : f.runs)
            print_memory_bench_run(run);
        std::printf("\npeak RSS %.2f GB (getrusage ru_maxrss, the whole process)\n",
                    memory_bench_gb(f.peak_rss_bytes));
        return kExitOk;
    });
}

} // namespace rilq::cli
