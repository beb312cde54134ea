// RMSNorm (HF LlamaRMSNorm: normalise in fp32, round to the input dtype, scale by the weight) as
// one fused pass per row, forward and backward, for fp32 and bf16 activations on the CPU. The
// ATen composition it replaces (to(fp32), pow, mean, add, rsqrt, mul, to(dtype), mul) makes
// eight passes over (B, T, C) forward and more backward, each a parallel region, plus two dtype
// round trips in bf16. The backward is written out: with n = x r, r = (mean(x^2) + eps)^-1/2,
//   dx = r (g w - n mean(g w n)),   dw = sum over rows of g n   (only when w requires grad).
// Equal to the composition to fp32 rounding (tests/test_head_attention), not bit for bit.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// x (..., C) fp32 or bf16 on the CPU, weight (C) of x's dtype; y (..., C) of x's dtype.
torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

} // namespace rilq
