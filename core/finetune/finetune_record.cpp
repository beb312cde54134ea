#include "core/finetune/finetune_record.h"

#include "core/store/recorded_run.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace rilq {

namespace {

store::RunStatus finetune_store_status(TrainStatus status) {
    switch (status) {
    case TrainStatus::Killed:
        return store::RunStatus::Killed;
    case TrainStatus::Failed:
        return store::RunStatus::Failed;
    default:
        return store::RunStatus::Finished;
    }
}

} // namespace

std::vector<std::pair<std::string, std::string>> finetune_params(const FinetuneConfig& config) {
    // json::flatten() keys are JSON pointers ("/data/source_max_len"): "data.source_max_len".
    const auto flat = nlohmann::json{{"data", sft_data_config_json(config.data)},
                                     {"train", train_config_json(config.train)}}
                          .flatten();
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [pointer, value] : flat.items()) {
        std::string key = pointer.substr(1);
        for (auto& c : key)
            if (c == '/') c = '.';
        out.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    return out;
}

FinetuneResult run_recorded_finetune(store::RunStore& store, const FinetuneRecording& recording,
                                     LlamaModel& student, LoraSet& adapters, FinetuneData data,
                                     const FinetuneConfig& config, const TrainerOptions& options) {
    store::NewRun run;
    run.experiment = recording.experiment;
    run.name = recording.run_name;
    run.params = recording.params;
    for (auto& p : finetune_params(config))
        run.params.push_back(std::move(p));
    run.params.emplace_back("sft.data_sha256", data.source_sha256);
    run.params.emplace_back("sft.records", std::to_string(data.records));
    run.params.emplace_back("sft.train_examples", std::to_string(data.train.size()));
    run.params.emplace_back("sft.eval_examples", std::to_string(data.eval.size()));
    run.params.emplace_back("sft.source_truncated", std::to_string(data.source_truncated));
    run.params.emplace_back("sft.target_truncated", std::to_string(data.target_truncated));
    run.params.emplace_back("sft.tokenizer", data.tokenizer);
    run.tags = recording.tags;
    run.tags.emplace_back("kind", "finetune");
    FinetuneResult result;
    store::run_recorded(store, run, [&](const std::string& uuid) {
        TrainerOptions recorded = options;
        recorded.on_event = [&](const TrainEvent& e) {
            const auto metrics = finetune_event_metrics(e);
            if (!metrics.empty()) store.log_metrics(uuid, e.update_step, metrics);
            if (options.on_event) options.on_event(e);
        };
        result = run_finetune(student, adapters, std::move(data), config, recorded);
        const store::RunStatus status = finetune_store_status(result.train.status);
        if (status == store::RunStatus::Finished) {
            if (std::isfinite(result.final_eval.loss))
                store.log_metrics(uuid, result.train.updates, {{"final_eval_loss", result.final_eval.loss}});
            if (recording.save_outputs)
                for (const auto& artifact : recording.save_outputs(result))
                    store.log_artifact(uuid, artifact);
        }
        return store::RunEnd{status, result.train.message};
    });
    return result;
}

} // namespace rilq
