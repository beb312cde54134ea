// What the trainer minimises: one interface, one implementation per objective
// (model_objective: RILQ; linear_objective, layer_objective: the paper's comparison scopes;
// core/finetune/sft_objective: IR-QLoRA's instruction fine-tuning on Alpaca data).
// The trainer owns the loop (batches, accumulation, clipping, validation, early stopping); an
// objective only turns a batch of rows into losses. A row is a token window for the RILQ scopes
// and an example number (one column) for SFT, whose objective holds the tokenized examples.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/util/tensor.h"

#include "core/util/error.h"

namespace rilq {

class LlamaModel;

enum class DataSplit { Train, Validation };

struct LossParts {
    torch::Tensor a_loss;   // the discrepancy part (0-dim fp32); undefined where there is none (SFT)
    torch::Tensor gt_loss;  // next-token CE; undefined where the scope does not measure it
    torch::Tensor total;    // what is minimised (carries the graph in training)
    // The batch's weight in the validation mean: 1 = the mean of batch means (RILQ's official
    // loop); the row count = a mean over rows (HF Trainer's eval_loss repeats each batch's loss
    // batch-size times).
    double weight = 1.0;
    int64_t tokens = 0; // tokens the batch trained on, for tokens/s; 0 = ids.numel()
};

class TrainObjective {
public:
    virtual ~TrainObjective() = default;
    // ids (b, T) are rows [first, first + b) of `split`, as the trainer was given them, or, for
    // training rows that train_order() reorders, rows [first, first + b) of that pass's order.
    // Called under NoGradGuard for validation.
    virtual LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) = 0;
    // The order of the training rows in pass `epoch` (0, 1, ...) over them: a permutation of
    // 0..rows-1 (int64), or an undefined tensor for the given order. The RILQ scopes keep the
    // given order (the official loop cycles its windows, never reshuffled); SFT groups by length.
    // Must depend only on the epoch, so a resumed run takes the same batches.
    virtual torch::Tensor train_order(int64_t /*epoch*/, int64_t /*rows*/) { return {}; }
    // Settings outside the TrainConfig that a checkpoint must match to be resumed (SFT: the data
    // file's sha256 and the data settings), as JSON text; empty when there are none.
    virtual std::string resume_key() const { return {}; }
    // The validation loss early stopping compares, from the means over validation batches.
    virtual double validation_loss(double a_loss, double gt_loss) const = 0;
    virtual std::string name() const = 0;
};

// The layer-wise comparison scopes (linear, layer): fitted to the FP teacher's outputs, which they
// recompute per batch, so the teacher stays alive; no ground-truth term, so early stopping
// compares the discrepancy alone.
class TeacherObjective : public TrainObjective {
  public:
    TeacherObjective(std::shared_ptr<const LlamaModel> teacher, const LlamaModel& student,
                     const std::string& scope)
        : teacher_(std::move(teacher)), student_(student) {
        if (!teacher_) throw Error(scope + " scope needs the FP teacher model during training");
    }
    double validation_loss(double a_loss, double /*gt_loss*/) const override { return a_loss; }

  protected:
    std::shared_ptr<const LlamaModel> teacher_;
    const LlamaModel& student_;
};

} // namespace rilq
