// Scope "model": the RILQ objective on cached teacher targets (core/rilq/rilq_loss.h).
#pragma once
#include "core/rilq/objective.h"
#include "core/rilq/rilq_loss.h"
#include "core/rilq/teacher_targets.h"

namespace rilq {

class LlamaModel;

class ModelObjective final : public TrainObjective {
public:
    // `student` must outlive the objective; the targets are rows of the train / val windows.
    // `checkpoint_layers`: training forwards recompute each layer in the backward
    // (rilq.activation_checkpointing; ForwardOptions::checkpoint_layers).
    ModelObjective(const LlamaModel& student, TeacherTargets train_targets, TeacherTargets val_targets,
                   LossWeights weights, bool checkpoint_layers = false);

    LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) override;
    // Official: v_loss = a_dis_weight * mean(v_a_loss) + gt_weight * mean(v_gt_loss).
    double validation_loss(double a_loss, double gt_loss) const override;
    std::string name() const override { return "model (" + to_string(train_.type()) + ")"; }

    const TeacherTargets& targets(DataSplit split) const { return split == DataSplit::Train ? train_ : val_; }

private:
    const LlamaModel& student_;
    TeacherTargets train_, val_;
    LossWeights weights_;
    bool checkpoint_layers_ = false;
};

} // namespace rilq
