#include "core/pretrain/pretrain_record.h"

#include <filesystem>

#include "core/store/recorded_run.h"
#include "core/store/run_store.h"

namespace fs = std::filesystem;

namespace rilq {

namespace {

std::vector<std::pair<std::string, std::string>> job_params(const PretrainJob& job) {
    const PretrainConfig& c = job.config;
    const auto num = [](auto v) { return std::to_string(v); };
    return {{"train_text", job.train_text},
            {"val_text", job.val_text},
            {"out_dir", fs::absolute(job.out_dir).string()},
            {"tokenizer_model", job.tokenizer_model},
            {"vocab_size", num(job.vocab_size)},
            {"hidden_size", num(c.hidden_size)},
            {"num_layers", num(c.num_layers)},
            {"num_heads", num(c.num_heads)},
            {"num_kv_heads", num(c.num_kv_heads)},
            {"intermediate_size", num(c.intermediate_size)},
            {"seqlen", num(c.seqlen)},
            {"batch_size", num(c.batch_size)},
            {"max_steps", num(c.max_steps)},
            {"lr", num(c.lr)},
            {"min_lr", num(c.min_lr)},
            {"warmup_steps", num(c.warmup_steps)},
            {"weight_decay", num(c.weight_decay)},
            {"grad_clip", num(c.grad_clip)},
            {"seed", num(c.seed)}};
}

} // namespace

PretrainJobResult run_recorded_pretrain_job(store::RunStore& store, const std::string& experiment,
                                            const PretrainJob& job,
                                            const std::function<void(const PretrainEvent&)>& on_event,
                                            const ProgressSink& progress) {
    store::NewRun run;
    run.experiment = experiment;
    run.name = fs::path(job.out_dir).filename().string();
    run.params = job_params(job);
    run.tags = {{"kind", "pretrain"}};
    PretrainJobResult result;
    store::run_recorded(store, run, [&](const std::string& uuid) {
        result = run_pretrain_job(
            job,
            [&](const PretrainEvent& e) {
                if (e.kind == PretrainEvent::Kind::Step)
                    store.log_metrics(uuid, e.step,
                                      {{"train_loss", e.train_loss}, {"lr", e.lr}, {"tokens_per_s", e.tokens_per_s}});
                else if (e.kind == PretrainEvent::Kind::Validation)
                    store.log_metrics(uuid, e.step, {{"val_loss", e.val_loss}});
                if (on_event) on_event(e);
            },
            progress);
        store::Artifact model;
        model.kind = "pretrained_model";
        model.path = fs::absolute(job.out_dir).string();
        store.log_artifact(uuid, model);
        return store::RunEnd{};
    });
    return result;
}

} // namespace rilq
