// Scope "weight-svd" (RILQ paper's "Weight-SVD" baseline): no training; each adapter is set to
// the best rank-r approximation of its linear's quantization error (Eckart-Young):
//   W - Q(W) = U S V^T,   s B A = U_r S_r V_r^T
// The singular values are split evenly between the factors and the LoRA scale s = alpha / r
// is divided out of both, so the two factors have equal norms:
//   B = U_r sqrt(S_r / s)  (out, r),   A = sqrt(S_r / s) V_r^T  (r, in)
// When r exceeds min(out, in) the extra rows of A and columns of B are 0. IEC scalars stay 0.
// This is LoftQ with one round (core/lora/init/loftq.h) on a student quantized from the teacher;
// both use core/lora/init/low_rank.h.
#pragma once

namespace rilq {

class LlamaModel;
class LoraSet;

// teacher: the FP model; student: the quantized model the adapters are attached to.
void init_adapters_from_weight_svd(const LlamaModel& teacher, const LlamaModel& student, LoraSet& adapters);

} // namespace rilq
