#include "core/rilq/model_objective.h"

#include "core/util/error.h"

namespace rilq {

ModelObjective::ModelObjective(const LlamaModel& student, TeacherTargets train_targets, TeacherTargets val_targets,
                               LossWeights weights, bool checkpoint_layers)
    : student_(student), train_(std::move(train_targets)), val_(std::move(val_targets)), weights_(weights),
      checkpoint_layers_(checkpoint_layers) {
    if (train_.type() != val_.type()) throw Error("model objective: train and validation targets differ in a_type");
}

LossParts ModelObjective::loss(DataSplit split, const torch::Tensor& ids, int64_t first) {
    const auto& targets = split == DataSplit::Train ? train_ : val_;
    const auto target = targets.rows(first, first + ids.size(0));
    const auto l = rilq_loss(student_, ids, target, targets.type(), weights_, checkpoint_layers_);
    return {l.model_loss, l.gt_loss, l.total};
}

double ModelObjective::validation_loss(double a_loss, double gt_loss) const {
    return weights_.model * a_loss + weights_.gt * gt_loss;
}

} // namespace rilq
