// RILQ's model-level discrepancy L_model (METHODS.md 3): the MSE between the student's and the
// FP teacher's output, averaged over every element, as nn.MSELoss(reduction="mean") does.
// The output is the last hidden state after the final RMSNorm (a_type "hid", (B, T, C)) or
// the logits (a_type "logit", (B, T, V)); the same function serves both.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// mean((student - teacher)^2) over all elements, in fp32 whatever the inputs' dtype
// (the official code runs it in bf16; fp32 keeps small differences from rounding to 0).
// teacher carries no gradient. Shapes must match.
torch::Tensor model_discrepancy_mse(const torch::Tensor& student, const torch::Tensor& teacher);

} // namespace rilq
