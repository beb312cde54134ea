// rilq make-random: a random Llama of a real shape as an HF folder of bf16 safetensors shards,
// written tensor by tensor (core/io/random_checkpoint.h).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/bench_shape.h"
#include "core/io/random_checkpoint.h"

#include <cstdio>

namespace rilq::cli {

int cmd_make_random(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption(
        {QStringLiteral("shape"),
         QStringLiteral(
             "llama2-7b, llama3-8b or a size d<hidden>-l<layers>-h<heads>-kv<kv>-f<ffn>-v<vocab>."),
         QStringLiteral("SHAPE")});
    parser.addOption({QStringLiteral("out"),
                      QStringLiteral("The folder to write (must not exist, or be empty)."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("seed"), QStringLiteral("Seed of the weights (default 0)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("shard-mb"), QStringLiteral("Largest shard in MiB (default 2048)."),
                      QStringLiteral("N"), QStringLiteral("2048")});
    parser.addOption(
        {QStringLiteral("tokenizer"),
         QStringLiteral("A tokenizer file to copy into the folder (e.g. a Llama-2 tokenizer.model)."),
         QStringLiteral("FILE")});
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("Write a random Llama of a real shape (config.json, bf16 safetensors shards, "
                           "model.safetensors.index.json), one tensor in memory at a time."),
            0, 0, code))
        return code;
    return run_guarded([&] {
        if (!parser.isSet(QStringLiteral("shape")) || !parser.isSet(QStringLiteral("out"))) {
            std::fprintf(stderr, "rilq make-random: --shape and --out are required\n");
            return kExitUsage;
        }
        int64_t seed = 0, shard_mb = 2048; // the defaults of --seed and --shard-mb
        if (!read_integer_option(parser, "seed", seed, 0) ||
            !read_integer_option(parser, "shard-mb", shard_mb, 1))
            return kExitUsage;
        const LlamaShape shape = parse_llama_shape(to_std(parser.value(QStringLiteral("shape"))));
        RandomCheckpointOptions options;
        options.seed = static_cast<uint64_t>(seed);
        options.max_shard_bytes = shard_mb << 20;
        options.tokenizer_file = to_std(parser.value(QStringLiteral("tokenizer")));
        const std::string out = to_std(parser.value(QStringLiteral("out")));
        ProgressLine bar;
        ProgressSink sink;
        sink.cancel = interrupt_cancel_token();
        sink.on_progress = [&](const ProgressInfo& p) {
            bar.update(p.stage, p.done, p.total, p.unit, p.eta_s);
        };
        const RandomCheckpointInfo info =
            write_random_checkpoint(llama_shape_config(shape), out, options, sink);
        bar.finish();
        std::printf("make-random %s: %lld parameters, %.2f GB in %lld shard(s) in %s, %.1f s\n",
                    shape.name.c_str(), static_cast<long long>(info.parameters),
                    static_cast<double>(info.total_bytes) / 1e9, static_cast<long long>(info.shards),
                    out.c_str(), info.seconds);
        return kExitOk;
    });
}

} // namespace rilq::cli
