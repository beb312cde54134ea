#include "core/rilq/rilq_loss.h"

#include "core/model/llama_model.h"
#include "core/rilq/gt_loss.h"
#include "core/rilq/model_loss.h"

#include <torch/torch.h>

namespace rilq {

namespace {

RilqLoss weighted(torch::Tensor model_loss, torch::Tensor gt_loss, const LossWeights& weights) {
    RilqLoss loss;
    loss.model_loss = std::move(model_loss);
    loss.gt_loss = std::move(gt_loss);
    loss.total = weights.model * loss.model_loss + weights.gt * loss.gt_loss;
    return loss;
}

} // namespace

RilqLoss combine_rilq_loss(const torch::Tensor& student_out, const torch::Tensor& teacher_target,
                           const torch::Tensor& logits, const torch::Tensor& ids,
                           const LossWeights& weights) {
    return weighted(model_discrepancy_mse(student_out, teacher_target), next_token_cross_entropy(logits, ids),
                    weights);
}

RilqLoss rilq_loss(const LlamaModel& student, const torch::Tensor& ids, const torch::Tensor& teacher_target,
                   TargetType a_type, const LossWeights& weights, bool checkpoint_layers) {
    ForwardOptions opts;
    opts.checkpoint_layers = checkpoint_layers;
    // hid: L_GT from the hidden state through the head chunk by chunk, so the logits of the whole
    // window (1 GB in fp32 with a 128k vocabulary, plus their gradient) are never held.
    const bool hidden = a_type == TargetType::Hidden;
    opts.want_logits = !hidden;
    opts.want_hidden = hidden;
    const auto out = student.forward(ids, opts);
    if (!hidden) return combine_rilq_loss(out.logits, teacher_target, out.logits, ids, weights);
    return weighted(model_discrepancy_mse(out.hidden, teacher_target),
                    next_token_cross_entropy_from_hidden(out.hidden, student.lm_head_weight(), ids), weights);
}

} // namespace rilq
