// Calibrated closed-form initialisation (QERA, Zhang et al. ICLR 2025 "QERA-exact"; CLoQ's
// calibrated LoRA initialisation is the same solution): the adapters minimise the output error
// of the linear on calibration inputs, not the weight error,
//
//   min over rank-r s B A of  E_x || (W - Q - s B A) x ||^2 = tr((E - s B A) R (E - s B A)^T),
//   E = W - Q,  R = E[x x^T]  (the calibration Gram, fp64)
//
// With S = R^(1/2) the objective is ||S (E - s B A)^T||_F^2, so the optimum is the truncated SVD
// of S E^T = U Sigma V^T mapped back through S:
//   s B A = V_r Sigma_r U_r^T S^+,   B = V_r sqrt(Sigma_r / s),   A = sqrt(Sigma_r / s) U_r^T S^+
// and the optimal objective is the energy of the dropped singular values, sum_{i > r} Sigma_i^2.
// A comes from solving S A^T = U_r sqrt(Sigma_r / s) in the eigenbasis of R; where S is singular
// (an input feature that never varies, fewer tokens than features) the pseudo-inverse gives the
// same optimum with A orthogonal to the unused directions - QERA's code instead adds machine
// epsilon to zero singular values, which sends A to ~1e8 there.
// The diagonal variant (QERA-approx / LQER-style) keeps only s_i = sqrt(E[x_i^2]) of S.
#pragma once
#include <cstdint>

#include "core/util/tensor.h"

#include "core/lora/init/low_rank.h"

namespace rilq {

// E[x x^T] of one linear's inputs: fp32 outer products per batch, accumulated in fp64 (QERA's
// ScaleHookFactoryRxx does the same).
class InputGram {
  public:
    InputGram() = default;
    explicit InputGram(int64_t features);

    void add(const torch::Tensor& x); // (..., I), any floating dtype; every row is one input
    torch::Tensor mean() const;       // (I, I) f64: sum / rows
    int64_t rows() const { return rows_; }
    int64_t features() const { return sum_.defined() ? sum_.size(0) : 0; }

  private:
    torch::Tensor sum_; // (I, I) f64, on the CPU
    int64_t rows_ = 0;
};

enum class CalibratedScaling {
    Exact,    // S = R^(1/2) (QERA-exact)
    Diagonal, // S = diag(sqrt(E[x_i^2])) (QERA-approx, LQER-style)
};

// S = R^(1/2) (I, I) f64, the symmetric PSD root (eigenvalues below 0 clamped): S^T S = R, so S
// stands in for the calibration inputs wherever only their Gram matters (GPTQ's Hessian in LoftQ).
torch::Tensor gram_root(const torch::Tensor& gram);

// error: W - Q (O, I); gram: R (I, I) from InputGram::mean(). Factors in fp32.
LowRankFactors calibrated_factors(const torch::Tensor& error, const torch::Tensor& gram, int64_t rank,
                                  double scale, CalibratedScaling scaling);

// tr((E - s B A) R (E - s B A)^T) in fp64: the mean squared output error per calibration input.
double calibrated_objective(const torch::Tensor& error, const torch::Tensor& gram,
                            const LowRankFactors& factors, double scale);

} // namespace rilq
