// One compensation run on plain inputs: an FP teacher, its fake-quantized student, calibration
// windows and a TrainConfig in; trained adapters (attached to the student) and a TrainResult out.
// The caller (core/run's Runner) owns loading, quantization, evaluation and recording; it
// records metrics through TrainerOptions::on_event.
//
// Memory: scope "model" needs the teacher only to cache its outputs. For the smallest peak, call
// cache_teacher_targets(), then turn the teacher into the student (quantize it in place) or
// free it, then train_on_targets(): about one model copy plus the targets. run_compensation()
// does the same in one call when both models already exist, and drops its own reference to
// the teacher right after caching (so pass the last reference with std::move to free it).
// Scopes "linear" and "layer" keep the teacher for the whole run; "weight-svd" needs it for
// the SVD only.
#pragma once
#include <functional>
#include <memory>

#include "core/util/tensor.h"

#include "core/lora/lora_set.h"
#include "core/rilq/teacher_targets.h"
#include "core/rilq/train_config.h"
#include "core/rilq/train_event.h"
#include "core/rilq/trainer.h"
#include "core/util/progress.h"

namespace rilq {

class LlamaModel;

struct CachedTargets {
    TeacherTargets train; // (N_train, T, D)
    TeacherTargets val;   // (N_val, T, D)
};

struct CompensationResult {
    LoraSet adapters; // attached to the student; empty at rank 0
    TrainResult train;
};

// Sets the adapters right after they are attached to the student, before any training (a closed-form
// lora_init: core/rilq/adapter_init.h). Empty: attach_lora's random init stays.
using AdapterInitializer = std::function<void(LoraSet& adapters)>;

// Teacher outputs (config.a_type) of both splits, batched by approx_batch_size, stored by the
// rule of core/rilq/teacher_targets.h with config.target_memory_budget_bytes. Cancellable.
CachedTargets cache_teacher_targets(const LlamaModel& teacher, const torch::Tensor& train_ids,
                                    const torch::Tensor& val_ids, const TrainConfig& config,
                                    const ProgressSink& progress = {}, const std::string& temp_dir = {});

// Scope "model" (RILQ) on cached targets: attaches fresh adapters to the student, runs `init`, trains.
CompensationResult train_on_targets(LlamaModel& student, CachedTargets targets,
                                    const torch::Tensor& train_ids, const torch::Tensor& val_ids,
                                    const TrainConfig& config, const TrainerOptions& options = {},
                                    const AdapterInitializer& init = {});

// Any scope, each starting from `init` when given. "model": caches targets then releases `teacher`;
// "weight-svd": no training, a validation-only run (model-level losses, for the same reporting) of
// the adapters `init` sets, or without one the SVD of W - Q(W) (one-round LoftQ); "linear" and
// "layer": train their objectives with the teacher alive. A cancel while caching returns Killed.
CompensationResult run_compensation(std::shared_ptr<const LlamaModel> teacher, LlamaModel& student,
                                    const torch::Tensor& train_ids, const torch::Tensor& val_ids,
                                    const TrainConfig& config, const TrainerOptions& options = {},
                                    const ProgressSink& progress = {}, const AdapterInitializer& init = {});

} // namespace rilq
