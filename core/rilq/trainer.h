// The RILQ training loop (aiha-lab/RILQ main.py "Step 4", METHODS.md 3), independent of the
// objective:
//   - validation before training (update 0): logged, never the best;
//   - micro-step k = 1..approx_total_steps takes training micro-batch (k - 1) mod #batches, the
//     windows cycled in their given order, never reshuffled; loss / accumulation is back-propagated;
//   - the objective may reorder the training rows for each pass over them (SFT's length
//     grouping, core/rilq/objective.h train_order);
//   - every gradient_accumulation_steps micro-steps one optimizer update (Adam by default, no
//     weight decay; AdamW, a cosine schedule and gradient-norm clipping as options);
//   - every approx_eval_steps updates a validation (means over validation micro-batches), early
//     stopping (core/rilq/early_stopping.h), a snapshot of the best adapters and a checkpoint;
//   - at the end the best snapshot is restored, whatever the status (when there is one and
//     restore_best is on; IR-QLoRA's recipe keeps the last adapters).
// A non-finite loss stops the run as Failed; the CancelToken is checked before every micro-step
// and every validation batch, and a cancelled run ends Killed. Errors thrown by the objective
// also end the run as Failed with their message: run() itself does not throw for them.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/util/tensor.h"

#include "core/lora/lora_set.h"
#include "core/rilq/early_stopping.h"
#include "core/rilq/objective.h"
#include "core/rilq/train_config.h"
#include "core/rilq/train_event.h"
#include "core/util/progress.h"

namespace torch::optim {
class Optimizer;
}

namespace rilq {

struct ValidationLosses {
    double a_loss = kNotMeasured;
    double gt_loss = kNotMeasured;
    double loss = kNotMeasured;   // what early stopping compares
};

struct TrainerOptions {
    TrainEventCallback on_event;          // every Update, Validation, EarlyStop and the Finished event
    const CancelToken* cancel = nullptr;
    std::string checkpoint_dir;           // empty: no checkpoints; else replaced at every validation
    std::string resume_from;              // a checkpoint folder of an earlier run with the same config
    // Replaces the objective's validation (tests script the loss sequence with it).
    std::function<ValidationLosses(int64_t update_step)> validate_override;
};

class Trainer {
public:
    // train_ids / val_ids: (N, T) int64 windows. The objective, adapters and tensors must
    // outlive run().
    Trainer(TrainConfig config, LoraSet& adapters, TrainObjective& objective, torch::Tensor train_ids,
            torch::Tensor val_ids, TrainerOptions options = {});
    ~Trainer();

    TrainResult run();
    // The validation losses of the adapters as they are now (no event, no early stopping):
    // e.g. the final evaluation after the last update, as irlora.py's trainer.evaluate().
    ValidationLosses evaluate();

  private:
    struct Clock;
    ValidationLosses validate(int64_t update_step);
    void set_learning_rate(double lr);
    void emit(TrainEvent event);
    void save_checkpoint();
    void resume();

    TrainConfig config_;
    LoraSet& adapters_;
    TrainObjective& objective_;
    torch::Tensor train_ids_, val_ids_;
    TrainerOptions options_;
    std::unique_ptr<torch::optim::Optimizer> optimizer_;

    // run state
    int64_t micro_step_ = 0;
    int64_t update_step_ = 0;
    int64_t validations_ = 0;
    EarlyStopping early_stop_;
    ValidationLosses best_losses_;
    int64_t best_update_step_ = -1;
    AdapterState best_snapshot_;
    double last_lr_ = 0.0;
    // session timing (this process, after a resume too)
    int64_t session_start_micro_ = 0;
    double train_seconds_ = 0.0;
    int64_t train_tokens_ = 0;
    std::unique_ptr<Clock> clock_;
};

} // namespace rilq
