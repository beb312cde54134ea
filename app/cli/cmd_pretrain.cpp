// rilq pretrain --train FILE --val FILE --out DIR [model shape, optimiser settings]
#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/pretrain/pretrain_pipeline.h"
#include "core/pretrain/pretrain_record.h"
#include "core/store/run_store.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace rilq::cli {

namespace {

struct NumericOption {
    const char* name;
    const char* help;
    double* target;
};

} // namespace

int cmd_pretrain(const QStringList& args) {
    PretrainJob job;
    PretrainConfig& c = job.config;
    double vocab = 1024, dim = static_cast<double>(c.hidden_size), layers = static_cast<double>(c.num_layers),
           heads = static_cast<double>(c.num_heads), kv_heads = static_cast<double>(c.num_kv_heads),
           ffn = static_cast<double>(c.intermediate_size), seqlen = static_cast<double>(c.seqlen),
           batch = static_cast<double>(c.batch_size), steps = static_cast<double>(c.max_steps),
           warmup = static_cast<double>(c.warmup_steps), eval_every = static_cast<double>(c.eval_every),
           seed = static_cast<double>(c.seed);
    const NumericOption numeric[] = {
        {"vocab", "Tokenizer vocabulary when training one (default 1024).", &vocab},
        {"dim", "Hidden size (default 128).", &dim},
        {"layers", "Decoder layers (default 4).", &layers},
        {"heads", "Attention heads (default 4).", &heads},
        {"kv-heads", "Key/value heads (default = heads).", &kv_heads},
        {"ffn", "SwiGLU intermediate size (default 344).", &ffn},
        {"seqlen", "Training window length (default 128).", &seqlen},
        {"batch", "Windows per step (default 16).", &batch},
        {"steps", "Optimizer steps (default 1000).", &steps},
        {"lr", "Peak learning rate (default 3e-3).", &c.lr},
        {"min-lr", "Final learning rate of the cosine (default 3e-4).", &c.min_lr},
        {"warmup", "Linear warmup steps (default 50).", &warmup},
        {"weight-decay", "AdamW weight decay on matrices (default 0.1).", &c.weight_decay},
        {"grad-clip", "Max gradient L2 norm, 0 = off (default 1.0).", &c.grad_clip},
        {"eval-every", "Steps between validations and checkpoints (default 100).", &eval_every},
        {"seed", "Initialisation and batch seed (default 1337).", &seed},
    };
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("train"), QStringLiteral("Training text file."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("val"), QStringLiteral("Validation text file."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("out"), QStringLiteral("Model folder to write (HF format)."), QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("tokenizer"), QStringLiteral("Use this tokenizer.model instead of training one."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("work"), QStringLiteral("Folder for the tokenizer and the resume checkpoint "
                                                             "(default OUT.work); rerun to resume."),
                      QStringLiteral("DIR")});
    for (const auto& o : numeric)
        parser.addOption({QString::fromLatin1(o.name), QString::fromLatin1(o.help), QStringLiteral("X")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Compute threads (default: all cores)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("experiment"),
                      QStringLiteral("Run-store experiment to record the run under (default \"pretrain\")."),
                      QStringLiteral("NAME"), QStringLiteral("pretrain")});
    add_db_option(parser);
    int code = 0;
    if (!parse_args(parser, args,
                    QStringLiteral("Train a small Llama from scratch: SentencePiece BPE tokenizer, AdamW with warmup "
                                   "and cosine decay, gradient clipping, validation, resumable checkpoints."),
                    0, 0, code))
        return code;
    for (const char* required : {"train", "val", "out"}) {
        if (!parser.isSet(QString::fromLatin1(required))) {
            std::cerr << "rilq: pretrain needs --" << required << "\n\n" << to_std(parser.helpText());
            return kExitUsage;
        }
    }
    for (const auto& o : numeric) {
        if (!parser.isSet(QString::fromLatin1(o.name))) continue;
        bool ok = false;
        *o.target = parser.value(QString::fromLatin1(o.name)).toDouble(&ok);
        if (!ok || *o.target < 0) {
            std::cerr << "rilq: --" << o.name << " takes a non-negative number, found \""
                      << to_std(parser.value(QString::fromLatin1(o.name))) << "\"\n";
            return kExitUsage;
        }
    }
    if (!parser.isSet(QStringLiteral("kv-heads"))) kv_heads = heads;
    c.hidden_size = static_cast<int64_t>(dim);
    c.num_layers = static_cast<int64_t>(layers);
    c.num_heads = static_cast<int64_t>(heads);
    c.num_kv_heads = static_cast<int64_t>(kv_heads);
    c.intermediate_size = static_cast<int64_t>(ffn);
    c.seqlen = static_cast<int64_t>(seqlen);
    c.batch_size = static_cast<int64_t>(batch);
    c.max_steps = static_cast<int64_t>(steps);
    c.warmup_steps = static_cast<int64_t>(warmup);
    c.eval_every = std::max<int64_t>(1, static_cast<int64_t>(eval_every));
    c.seed = static_cast<uint64_t>(seed);
    job.vocab_size = static_cast<int64_t>(vocab);
    job.train_text = to_std(parser.value(QStringLiteral("train")));
    job.val_text = to_std(parser.value(QStringLiteral("val")));
    job.out_dir = to_std(parser.value(QStringLiteral("out")));
    job.tokenizer_model = to_std(parser.value(QStringLiteral("tokenizer")));
    job.work_dir = to_std(parser.value(QStringLiteral("work")));

    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        ProgressLine bar;
        ProgressSink sink;
        sink.cancel = interrupt_cancel_token();
        sink.on_progress = [&](const ProgressInfo& p) {
            bar.finish();
            std::fprintf(stderr, "%s\n", p.stage.c_str());
        };
        double last_loss = 0.0;
        store::RunStore store(store_path(parser));
        const auto r = run_recorded_pretrain_job(
            store, to_std(parser.value(QStringLiteral("experiment"))), job,
            [&](const PretrainEvent& e) {
                if (e.kind == PretrainEvent::Kind::Step) {
                    last_loss = e.train_loss;
                    char stage[96];
                    std::snprintf(stage, sizeof stage, "step loss %.3f lr %.1e %.0f tok/s", e.train_loss, e.lr,
                                  e.tokens_per_s);
                    bar.update(stage, e.step, e.max_steps, "steps", e.eta_s);
                } else if (e.kind == PretrainEvent::Kind::Validation) {
                    bar.finish();
                    std::fprintf(stderr, "step %lld: train loss %.4f  val loss %.4f (ppl %.2f)\n",
                                 static_cast<long long>(e.step), last_loss, e.val_loss, std::exp(e.val_loss));
                }
            },
            sink);
        bar.finish();
        std::printf("pretrained %lld parameters on %lld tokens in %.1f s: val loss %.4f, ppl %.2f -> %s\n",
                    static_cast<long long>(r.parameters), static_cast<long long>(r.train_tokens),
                    r.training.seconds, r.training.final_val_loss, std::exp(r.training.final_val_loss),
                    job.out_dir.c_str());
        return kExitOk;
    });
}

} // namespace rilq::cli
