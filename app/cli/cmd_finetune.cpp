// rilq finetune MODEL --data ALPACA.json --out DIR [--method ... quantize first] [--adapter DIR]
// IR-QLoRA's instruction fine-tuning (core/finetune/finetune.h) from the command line: prints the
// train loss, the eval loss and the final eval loss, writes DIR/adapter (PEFT), DIR/quantized
// (when it quantized), DIR/finetune.json (settings, curves, result), DIR/checkpoint (resumable),
// and records the run in the run store (core/finetune/finetune_record.h).
#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/quant_cli.h"

#include "core/finetune/finetune.h"
#include "core/finetune/finetune_record.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"
#include "core/store/run_store.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace rilq::cli {

namespace {

struct FinetuneIntOption {
    const char* name;
    const char* help;
    int64_t* target;
    int64_t min;
};
struct FinetuneRealOption {
    const char* name;
    const char* help;
    double* target;
};

nlohmann::json finetune_event_json(const TrainEvent& e) {
    auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    return {{"update", e.update_step},
            {"micro_step", e.micro_step},
            {"t_loss", number(e.t_loss)},
            {"grad_norm", number(e.grad_norm)},
            {"lr", e.lr},
            {"v_loss", number(e.v_loss)},
            {"elapsed_s", e.elapsed_s}};
}

} // namespace

int cmd_finetune(const QStringList& args) {
    FinetuneConfig config = irqlora_finetune_config();
    SftDataConfig& d = config.data;
    TrainConfig& t = config.train;
    int64_t updates = t.total_updates(), log_every = 10, seeds[2] = {42, 42};
    const FinetuneIntOption ints[] = {
        {"source-max-len", "Source (\"<s>\" + prompt) tokens kept (default 384).", &d.source_max_len, 1},
        {"target-max-len", "Target (output + \"</s>\") tokens kept (default 128).", &d.target_max_len, 1},
        {"eval-size", "Records held out by the seed-42 split (default 1024; must be below the record count).",
         &d.eval_dataset_size, 1},
        {"max-eval", "Held-out records evaluated, the first N (default 1000; 0 = all).", &d.max_eval_samples,
         0},
        {"max-train", "Training records used, the first N (default 0 = all).", &d.max_train_samples, 0},
        {"steps", "Optimizer updates (default 10000).", &updates, 0},
        {"batch", "Examples per micro-batch (default 16).", &t.approx_batch_size, 1},
        {"accum", "Micro-batches per update (default 1).", &t.gradient_accumulation_steps, 1},
        {"eval-steps", "Updates between eval-loss measurements (default 1000).", &t.approx_eval_steps, 1},
        {"eval-batch", "Examples per eval batch (default 4).", &t.eval_batch_size, 1},
        {"lora-r", "LoRA rank of fresh adapters (default 64).", &t.lora.r, 1},
        {"data-seed", "Seed of the length-grouped batch order (default 42).", &seeds[0], 0},
        {"seed", "Seed of fresh adapters' initialisation (default 42).", &seeds[1], 0},
        {"log-steps", "Print the train loss every N updates (default 10, as HF logging_steps).", &log_every,
         1},
    };
    const FinetuneRealOption reals[] = {
        {"lr", "Learning rate (default 2e-4, constant).", &t.approx_lr},
        {"weight-decay", "AdamW decoupled weight decay (default 0).", &t.weight_decay},
        {"max-grad-norm", "Clip the adapters' gradient to this L2 norm, 0 = off (default 0.3).",
         &t.max_grad_norm},
        {"lora-alpha", "LoRA alpha of fresh adapters (default 16).", &t.lora.alpha},
        {"lora-dropout", "LoRA dropout (default 0).", &t.lora.dropout},
    };
    QCommandLineParser p;
    p.addPositionalArgument("model",
                            "HF model folder or llama2.c .bin file (already quantized, or see --method).");
    p.addOptions({
        {"data", "Alpaca-format JSON array or JSON Lines ({instruction, input, output}).", "file"},
        {"out", "Output folder: adapter/, quantized/ (with --method), finetune.json, checkpoint/.", "dir"},
        {"adapter",
         "Continue from this PEFT adapter folder (e.g. a RILQ run's adapter/) instead of fresh "
         "adapters.",
         "dir"},
        {"no-iec", "Plain LoRA, without IR-QLoRA's elastic connection."},
        {"no-group-by-length", "Shuffle the training examples instead of grouping them by length."},
        {"train-on-source", "Put the loss on the prompt tokens too."},
        {"no-pad-class", "Softmax over the model's vocabulary only (irlora.py adds a [PAD] class)."},
        {"resume", "Continue the run whose checkpoint is in --out (recorded as a new run in the store)."},
        {"experiment", "Run-store experiment to record the run under (default \"finetune\").", "name",
         "finetune"},
        {"name", "Run name in the store (default: the --out folder's name).", "name"},
        {"json", "Print the result as JSON."},
        {"quiet", "No per-update lines."},
    });
    for (const auto& o : ints)
        p.addOption({QString::fromLatin1(o.name), QString::fromLatin1(o.help), "N"});
    for (const auto& o : reals)
        p.addOption({QString::fromLatin1(o.name), QString::fromLatin1(o.help), "X"});
    add_quant_spec_options(p);
    add_model_options(p);
    add_db_option(p);
    int exit_code = kExitOk;
    if (!parse_args(
            p, args,
            "IR-QLoRA's instruction fine-tuning (irlora.py): Alpaca prompts, loss on the response, "
            "LoRA + IEC, AdamW with gradient clipping, length-grouped batches, eval loss on a held-out "
            "split. Quantizes first when --method or --spec is given.",
            1, 1, exit_code))
        return exit_code;
    for (const char* required : {"data", "out"}) {
        if (!p.isSet(QString::fromLatin1(required))) {
            std::cerr << "rilq finetune: --" << required << " is required\n\n" << to_std(p.helpText());
            return kExitUsage;
        }
    }
    for (const auto& o : ints)
        if (!read_integer_option(p, o.name, *o.target, o.min)) return kExitUsage;
    for (const auto& o : reals)
        if (!read_number_option(p, o.name, *o.target, 0.0)) return kExitUsage;
    d.data_seed = static_cast<uint64_t>(seeds[0]);
    t.lora.seed = static_cast<uint64_t>(seeds[1]);
    d.group_by_length = !p.isSet("no-group-by-length");
    d.train_on_source = p.isSet("train-on-source");
    d.pad_class = !p.isSet("no-pad-class");
    t.lora.iec = !p.isSet("no-iec");
    t.approx_total_steps = updates * t.gradient_accumulation_steps;
    const bool quantize = p.isSet("method") || p.isSet("spec");
    QuantSpec spec;
    try {
        if (quantize) spec = quant_spec_from_options(p);
        d.validate();
        t.validate();
    } catch (const Error& e) {
        std::cerr << "rilq finetune: " << e.what() << "\n";
        return kExitUsage;
    }
    const bool as_json = p.isSet("json"), quiet = p.isSet("quiet") || as_json;

    return run_guarded([&] {
        namespace fs = std::filesystem;
        init_runtime(threads_from(p));
        const std::string model_path = to_std(p.positionalArguments().at(0));
        const fs::path out = to_std(p.value("out"));
        const fs::path checkpoint = out / "checkpoint";
        const bool resume = p.isSet("resume");
        if (resume && !fs::exists(checkpoint / "checkpoint.json"))
            throw Error("--resume: no checkpoint in " + checkpoint.string());
        if (!resume && fs::exists(checkpoint))
            throw Error(checkpoint.string() +
                        " exists: pass --resume to continue that run, or choose another --out");

        const auto tokenizer = tokenizer_for(p, model_path);
        FinetuneData data = load_finetune_data(to_std(p.value("data")), *tokenizer, d);
        LlamaModel model = load_model(model_path, model_options_from(p));
        if (quantize) {
            QuantProgress progress(!quiet);
            quantize_model(model, spec, {}, progress.sink());
            progress.finish();
        }
        LoraSet adapters = finetune_adapters(model, t, to_std(p.value("adapter")));
        if (p.isSet("adapter")) { // the continued adapters' shape is what this run trains (and records)
            t.lora.r = adapters.config().r;
            t.lora.alpha = adapters.config().alpha;
            t.lora.dropout = adapters.config().dropout;
            t.lora.targets = adapters.config().targets;
            t.lora.init = adapters.config().init;
        }
        std::fprintf(
            stderr,
            "finetune: %lld records -> %zu train / %zu eval (%lld held out); %lld sources and %lld targets "
            "truncated; %lld adapter parameters (r %lld%s)\n",
            static_cast<long long>(data.records), data.train.size(), data.eval.size(),
            static_cast<long long>(data.split.held_out), static_cast<long long>(data.source_truncated),
            static_cast<long long>(data.target_truncated), static_cast<long long>(adapters.parameter_count()),
            static_cast<long long>(t.lora.r), t.lora.iec ? ", IEC" : "");

        nlohmann::json curve = nlohmann::json::array(), evals = nlohmann::json::array();
        TrainerOptions options;
        options.cancel = interrupt_cancel_token();
        options.checkpoint_dir = checkpoint.string();
        if (resume) options.resume_from = checkpoint.string();
        options.on_event = [&](const TrainEvent& e) {
            if (e.kind == TrainEventKind::Update) {
                curve.push_back(finetune_event_json(e));
                if (!quiet && (e.update_step % log_every == 0 || e.update_step == 1))
                    std::fprintf(stderr, "update %lld/%lld  loss %.4f  grad-norm %.3f  lr %.1e  %.0f tok/s\n",
                                 static_cast<long long>(e.update_step), static_cast<long long>(updates),
                                 e.t_loss, e.grad_norm, e.lr, e.tokens_per_s);
            } else if (e.kind == TrainEventKind::Validation) {
                evals.push_back(finetune_event_json(e));
                if (!quiet)
                    std::fprintf(stderr, "eval   update %lld: eval loss %.4f\n",
                                 static_cast<long long>(e.update_step), e.v_loss);
            }
        };
        const std::string data_file = data.source_name, data_sha = data.source_sha256;
        const int64_t n_train = static_cast<int64_t>(data.train.size()),
                      n_eval = static_cast<int64_t>(data.eval.size());
        FinetuneRecording recording;
        recording.experiment = to_std(p.value("experiment"));
        const auto full_path = [](const std::string& path) {
            return path.empty() ? path : fs::absolute(path).lexically_normal().string();
        };
        const fs::path out_full = fs::path(full_path(out.string())); // "runs/a/" names the run "a"
        recording.run_name =
            p.isSet("name")
                ? to_std(p.value("name"))
                : (out_full.has_filename() ? out_full : out_full.parent_path()).filename().string();
        recording.params = {{"model", full_path(model_path)},
                            {"data_file", full_path(data_file)},
                            {"output_dir", full_path(out.string())},
                            {"continued_from", full_path(to_std(p.value("adapter")))},
                            {"quantization", quantize ? quant_spec_json(spec).dump() : std::string("none")}};
        if (resume) recording.tags = {{"resumed_from", fs::absolute(checkpoint).string()}};
        auto summary_of = [&](const FinetuneResult& r) -> nlohmann::json {
            return {
                {"format_version", 1},
                {"model", model_path},
                {"quantization", quantize ? quant_spec_json(spec) : nlohmann::json(nullptr)},
                {"continued_from", to_std(p.value("adapter"))},
                {"data", {{"file", data_file}, {"sha256", data_sha}, {"train", n_train}, {"eval", n_eval}}},
                {"config", {{"data", d.to_json()}, {"train", train_config_json(t)}}},
                {"updates", curve},
                {"validations", evals},
                {"result",
                 {{"status", to_string(r.train.status)},
                  {"message", r.train.message},
                  {"updates", r.train.updates},
                  {"final_eval_loss", r.final_eval.loss},
                  {"elapsed_s", r.train.elapsed_s},
                  {"tokens_per_s", r.train.tokens_per_s}}},
            };
        };
        recording.save_outputs = [&](const FinetuneResult& r) {
            std::vector<store::Artifact> artifacts;
            auto record = [&](const char* kind, const fs::path& path) {
                store::Artifact a;
                a.kind = kind;
                a.path = fs::absolute(path).string();
                if (fs::is_regular_file(path)) {
                    a.sha256 = sha256_file(path.string());
                    a.size_bytes = static_cast<int64_t>(fs::file_size(path));
                } else {
                    for (const auto& entry : fs::recursive_directory_iterator(path))
                        if (entry.is_regular_file()) a.size_bytes += static_cast<int64_t>(entry.file_size());
                }
                artifacts.push_back(a);
            };
            fs::create_directories(out);
            if (quantize) {
                save_hf_model(model, (out / "quantized").string());
                copy_tokenizer_files(p, model_path, (out / "quantized").string());
                record("quantized_model", out / "quantized");
            }
            if (!adapters.empty()) {
                save_peft_adapter((out / "adapter").string(), adapters,
                                  quantize ? (out / "quantized").string() : model_path);
                record("adapter", out / "adapter");
            }
            write_file_atomic((out / "finetune.json").string(), summary_of(r).dump(1) + "\n");
            record("run_summary", out / "finetune.json");
            return artifacts;
        };
        store::RunStore store(store_path(p));
        const FinetuneResult r =
            run_recorded_finetune(store, recording, model, adapters, std::move(data), config, options);
        if (r.train.status == TrainStatus::Killed) throw Cancelled();
        if (r.train.status == TrainStatus::Failed) throw Error("fine-tuning failed: " + r.train.message);

        if (as_json) {
            std::cout << summary_of(r).at("result").dump(2) << std::endl;
        } else {
            char line[160];
            std::snprintf(line, sizeof line,
                          "fine-tuned %lld updates in %.1f s (%.0f tokens/s): final eval loss %.4f",
                          static_cast<long long>(r.train.updates), r.train.elapsed_s, r.train.tokens_per_s,
                          r.final_eval.loss);
            std::cout << line << "\nwrote " << out.string() << "; recorded in " << store.path() << std::endl;
        }
        return kExitOk;
    });
}

} // namespace rilq::cli
