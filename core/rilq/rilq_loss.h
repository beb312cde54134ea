// The RILQ objective, in one place (Lee et al., "RILQ: Rank-Insensitive LoRA-based
// Quantization Error Compensation", arXiv 2412.01129; official code aiha-lab/RILQ main.py,
// "Step 4-3-2 Model-Loss" and "Step 4-3-3 GT-Loss"):
//   L = a_dis_weight * L_model + gt_weight * L_GT,   defaults 0.5 / 0.5
//   L_model = MSE(student output, FP teacher output)   (core/rilq/model_loss.h)
//   L_GT    = next-token CE of the student's logits     (core/rilq/gt_loss.h)
// The paper's figure writes L_RILQ = L_Model + L_GT: the same objective up to a factor 2.
#pragma once
#include "core/util/tensor.h"

#include "core/rilq/train_config.h"

namespace rilq {

class LlamaModel;

struct LossWeights {
    double model = 0.5;   // a_dis_weight
    double gt = 0.5;      // gt_weight
};

struct RilqLoss {
    torch::Tensor model_loss;   // 0-dim fp32
    torch::Tensor gt_loss;      // 0-dim fp32
    torch::Tensor total;        // weighted sum; carries the graph to the adapters
};

// From outputs already computed: student_out is the hidden state (hid) or the logits (logit),
// teacher_target the cached FP output of the same windows, logits the student's (B, T, V).
RilqLoss combine_rilq_loss(const torch::Tensor& student_out, const torch::Tensor& teacher_target,
                           const torch::Tensor& logits, const torch::Tensor& ids, const LossWeights& weights);

// One student forward on ids (B, T), then the loss against teacher_target
// ((B, T, C) for hid, (B, T, V) for logit). `checkpoint_layers`: ForwardOptions::checkpoint_layers.
RilqLoss rilq_loss(const LlamaModel& student, const torch::Tensor& ids, const torch::Tensor& teacher_target,
                   TargetType a_type, const LossWeights& weights, bool checkpoint_layers = false);

} // namespace rilq
