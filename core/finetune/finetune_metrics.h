// A fine-tuning trainer event as run-store metrics, and the prefix under which the run pipeline's
// fine-tuning stage logs them ("sft.t_loss", "sft.v_loss", ...), so its curves never mix with
// RILQ's t_loss / v_loss of the same run. Torch-free (rilq_base): the Slurm follower
// (core/cluster/slurm_follow.cpp) reads these keys back from a task's shard and turns them into
// the events a local run emits, so a remote run's SFT curves are drawn while it trains.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/rilq/train_event.h"

namespace rilq {

// Per update t_loss, lr, tokens_per_s and grad_norm (when measured), per evaluation v_loss; each
// key after `prefix`.
std::vector<std::pair<std::string, double>> finetune_event_metrics(const TrainEvent& event,
                                                                   const std::string& prefix = "");

} // namespace rilq

namespace rilq::run {

// The run pipeline's fine-tuning stage (core/run/finetune_stage.h): "sft.t_loss", "sft.v_loss",
// "sft.final_eval_loss".
inline constexpr const char* kFinetuneMetricPrefix = "sft.";

} // namespace rilq::run
