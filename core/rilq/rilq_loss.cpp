#include "core/rilq/rilq_loss.h"

#include "core/model/llama_model.h"
#include "core/rilq/gt_loss.h"
#include "core/rilq/model_loss.h"

#include <torch/torch.h>

namespace rilq {

RilqLoss combine_rilq_loss(const torch::Tensor& student_out, const torch::Tensor& teacher_target,
                           const torch::Tensor& logits, const torch::Tensor& ids, const LossWeights& weights) {
    RilqLoss loss;
    loss.model_loss = model_discrepancy_mse(student_out, teacher_target);
    loss.gt_loss = next_token_cross_entropy(logits, ids);
    loss.total = weights.model * loss.model_loss + weights.gt * loss.gt_loss;
    return loss;
}

RilqLoss rilq_loss(const LlamaModel& student, const torch::Tensor& ids, const torch::Tensor& teacher_target,
                   TargetType a_type, const LossWeights& weights, bool checkpoint_layers) {
    ForwardOptions opts;
    opts.checkpoint_layers = checkpoint_layers;
    opts.want_logits = true;                              // L_GT needs them in both modes
    opts.want_hidden = a_type == TargetType::Hidden;
    const auto out = student.forward(ids, opts);
    const auto& student_out = a_type == TargetType::Hidden ? out.hidden : out.logits;
    return combine_rilq_loss(student_out, teacher_target, out.logits, ids, weights);
}

} // namespace rilq
