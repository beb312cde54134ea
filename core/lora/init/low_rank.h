// The best rank-r approximation of a matrix (Eckart-Young) as LoRA factors, shared by every
// SVD-based initialisation (weight-svd, LoftQ, the calibrated closed forms):
//   M = U S V^T,   s B A = U_r S_r V_r^T,   B = U_r sqrt(S_r / s)  (out, r),   A = sqrt(S_r / s) V_r^T  (r,
//   in)
// The singular values are split evenly between the factors (PEFT loftq_utils
// _low_rank_decomposition: L = U sqrt(S), R = sqrt(S) V^T) and the LoRA scale s = alpha / r is
// divided out, so the adapter adds exactly the approximation whatever alpha is (PEFT's LoftQ
// leaves s in, which is only right when alpha = r). When r exceeds min(out, in) the extra rows of
// A and columns of B are 0.
#pragma once
#include <cstdint>

#include "core/util/tensor.h"

namespace rilq {

struct LowRankFactors {
    torch::Tensor A; // (r, in) f32
    torch::Tensor B; // (out, r) f32
};

// Factors from a thin SVD (U (out, k), S (k) descending, Vh (k, in)), any floating dtype.
LowRankFactors factors_from_svd(const torch::Tensor& U, const torch::Tensor& S, const torch::Tensor& Vh,
                                int64_t rank, double scale);

// M (out, in): fp32 SVD of M (torch.linalg.svd, full_matrices = false), then factors_from_svd.
LowRankFactors svd_factors(const torch::Tensor& M, int64_t rank, double scale);

// s B A (out, in) f32.
torch::Tensor low_rank_product(const LowRankFactors& f, double scale);

} // namespace rilq
