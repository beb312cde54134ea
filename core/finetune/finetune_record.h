// One fine-tuning run recorded in the run store like any other run (as
// core/pretrain/pretrain_record.h records pretraining): params = the caller's (model, data file,
// quantization) plus every setting of the FinetuneConfig ("data.source_max_len",
// "train.max_grad_norm", ...) and the prepared data ("sft.train_examples", ...); per update the
// metrics t_loss, grad_norm, lr, tokens_per_s and per evaluation v_loss (the keys the RILQ runner
// logs, so the GUI draws both kinds of curve alike); final_eval_loss at the last update; the
// caller's outputs as artifacts; FINISHED / KILLED / FAILED at the end.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/finetune/finetune.h"
#include "core/finetune/finetune_metrics.h" // finetune_event_metrics: what each event logs
#include "core/store/run_types.h"

namespace rilq::store {
class RunStore;
}

namespace rilq {

struct FinetuneRecording {
    std::string experiment = "finetune";
    std::string run_name;
    std::vector<std::pair<std::string, std::string>> params; // besides the config's
    std::vector<std::pair<std::string, std::string>> tags;   // besides kind=finetune
    // Writes the outputs once training ended (FINISHED or early-stopped), before the run is closed;
    // returns them as the run's artifacts. Not called for a killed or failed run.
    std::function<std::vector<store::Artifact>(const FinetuneResult&)> save_outputs;
};

// The flat params of a fine-tuning config: "data.<field>" and "train.<field>" with JSON values
// (strings unquoted).
std::vector<std::pair<std::string, std::string>> finetune_params(const FinetuneConfig& config);

// run_finetune() recorded in `store`. A killed or failed training closes the run KILLED / FAILED
// and returns the result (the caller decides what to report); an exception (from training setup or
// save_outputs) closes it FAILED (KILLED for Cancelled) and is rethrown.
FinetuneResult run_recorded_finetune(store::RunStore& store, const FinetuneRecording& recording,
                                     LlamaModel& student, LoraSet& adapters, FinetuneData data,
                                     const FinetuneConfig& config, const TrainerOptions& options = {});

} // namespace rilq
