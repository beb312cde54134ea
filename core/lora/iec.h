// IEC, IR-QLoRA's information elastic connection (METHODS.md 2.2, from htqin/IR-QLoRA
// utils.py IRQLoraLinear4bit.forward). Two trained scalars per adapted linear, both 0 at start:
//   u = A dropout(x) + beta1 * P(x)      P: mean over r contiguous input groups of g1 = in / r
//   z = B u          + beta2 * R(u)      R: each u_j repeated g2 = out / r times, contiguously
//   y = x Q(W)^T + s * z
// Both P and R are linear, so with dropout 0 the whole adapter folds exactly into a plain LoRA:
//   A' = A + beta1 * G,  G[j, i] = 1/g1 iff i / g1 == j           (r, in)
//   B' = B + beta2 * Rm, Rm[o, j] = 1  iff o / g2 == j            (out, r)
#pragma once
#include <cstdint>
#include <string>

#include "core/util/tensor.h"

namespace rilq {

// IEC needs r | in and r | out; throws rilq::Error naming `linear_name` otherwise.
void check_iec_shape(const std::string& linear_name, int64_t in_features, int64_t out_features, int64_t r);

// P(x): (..., in) -> (..., r)
torch::Tensor iec_group_mean(const torch::Tensor& x, int64_t r);
// R(u): (..., r) -> (..., out)
torch::Tensor iec_repeat(const torch::Tensor& u, int64_t out_features);

// The matrices of the exact merge, fp32.
torch::Tensor iec_group_mean_matrix(int64_t r, int64_t in_features);   // G  (r, in)
torch::Tensor iec_repeat_matrix(int64_t out_features, int64_t r);      // Rm (out, r)

} // namespace rilq
