// A resumable snapshot of a training run, written at every validation into one folder that is
// replaced atomically (core/util/atomic_dir.h: a crash or a full disk mid-write leaves the
// previous checkpoint intact, and the failure is an Error, "disk full" naming the file). Only a
// folder that already is a checkpoint (or an empty one) is ever replaced:
//   checkpoint.json     format_version, counters, early-stopping state, the TrainConfig, tensor names
//   adapters.pt         current adapter tensors (torch::save of a tensor list, names in the JSON)
//   best_adapters.pt    the best validation's snapshot (absent while there is none)
//   optimizer.pt        torch::save of the optimizer (Adam/AdamW moments and step counts)
//   dropout_rng.pt      the dropout mask generator's state
// Checkpoints are taken right after an optimizer update, so no gradient is pending.
#pragma once
#include <cstdint>
#include <limits>
#include <string>

#include "core/util/tensor.h"

#include "core/lora/lora_set.h"

namespace torch::optim {
class Optimizer;
}

namespace rilq {

struct TrainingCheckpoint {
    static constexpr int kFormatVersion = 1;
    int64_t micro_step = 0;
    int64_t update_step = 0;
    int64_t validations = 0;
    int64_t es_counter = 0;
    double best_v_loss = std::numeric_limits<double>::infinity();
    double best_v_a_loss = std::numeric_limits<double>::quiet_NaN();
    double best_v_gt_loss = std::numeric_limits<double>::quiet_NaN();
    int64_t best_update_step = -1;
    std::string config_json;       // TrainConfig::to_json().dump() of the run that wrote it
    AdapterState adapters;
    AdapterState best_adapters;    // empty while no validation has been best
    torch::Tensor dropout_rng_state;
};

// True when `dir` holds checkpoint.json (what write_checkpoint writes last).
bool is_checkpoint_dir(const std::string& dir);
// Removes `dir` when it is a checkpoint; anything else is left alone.
void remove_checkpoint(const std::string& dir);
// The optimizer update the checkpoint in `dir` was taken after (checkpoint.json only).
int64_t checkpoint_update_step(const std::string& dir);

void write_checkpoint(const std::string& dir, const TrainingCheckpoint& checkpoint,
                      const torch::optim::Optimizer& optimizer);
// Reads everything but the optimizer; Error naming the file when something is missing or malformed.
TrainingCheckpoint read_checkpoint(const std::string& dir);
// Loads optimizer.pt into an optimizer built over the same parameters in the same order.
void load_optimizer_state(const std::string& dir, torch::optim::Optimizer& optimizer);

} // namespace rilq
