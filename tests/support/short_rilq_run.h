// A short RILQ training run for stories260K-sized tests: rank 4, alpha 8, lr 1e-3, one optimizer
// update per micro-step, no early stopping; the training loss of every update is recorded.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rilq/compensation.h"
#include "core/rilq/train_config.h"

namespace rilq::test {

inline TrainConfig short_rilq_config(int64_t batch, int64_t updates, int64_t eval_every) {
    TrainConfig c;
    c.lora.r = 4;
    c.lora.alpha = 8.0;
    c.approx_lr = 1e-3;
    c.approx_batch_size = batch;
    c.gradient_accumulation_steps = 1;
    c.approx_total_steps = updates;
    c.approx_eval_steps = eval_every;
    c.approx_early_stop = false;
    return c;
}

// Trains fresh adapters on `student` against the teacher's targets; `losses` gets each update's
// training loss.
inline CompensationResult short_rilq_run(LlamaModel& student, const LlamaModel& teacher,
                                         const torch::Tensor& train_ids, const torch::Tensor& val_ids,
                                         const TrainConfig& config, std::vector<double>& losses) {
    auto targets = cache_teacher_targets(teacher, train_ids, val_ids, config);
    TrainerOptions options;
    options.on_event = [&](const TrainEvent& e) {
        if (e.kind == TrainEventKind::Update) losses.push_back(e.t_loss);
    };
    return train_on_targets(student, std::move(targets), train_ids, val_ids, config, options);
}

} // namespace rilq::test
