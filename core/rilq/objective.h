// What the trainer minimises: one interface, one implementation per scope
// (model_objective: RILQ; linear_objective, layer_objective: the paper's comparison scopes).
// The trainer owns the loop (batches, accumulation, validation, early stopping); an objective
// only turns a batch of windows into losses.
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
    torch::Tensor a_loss;   // the discrepancy part (0-dim fp32)
    torch::Tensor gt_loss;  // next-token CE; undefined where the scope does not measure it
    torch::Tensor total;    // what is minimised (carries the graph in training)
};

class TrainObjective {
public:
    virtual ~TrainObjective() = default;
    // ids (b, T) are windows [first, first + b) of `split`, as the trainer was given them.
    // Called under NoGradGuard for validation.
    virtual LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) = 0;
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
