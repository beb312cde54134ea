// LoftQ (Li et al. 2023), as PEFT's tuners/lora/loftq_utils.py loftq_init runs it, for one linear:
//
//   R = W
//   repeat T times:
//       Q = quant(R)                       any weight quantizer (NF2/NF4 as LoftQ, RTN, ICQ, GPTQ)
//       B, A = top-r factors of W - Q      (core/lora/init/low_rank.h)
//       R = W - s B A
//   base = the last Q, adapters = the last B, A
//
// so Q + s B A approximates W better than Q alone, and every iteration quantizes what the
// adapters cannot carry. T = 1 is the plain SVD of the quantization error (scope weight-svd).
// PEFT refuses bits other than 2, 4 and 8 and its NF path asserts numel % 64 == 0; here the
// quantizer is whatever is passed in, so every registered method and bit width works.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/util/tensor.h"

#include "core/lora/init/low_rank.h"

namespace rilq {

// (O, I) f32 -> its dequantized quantization (O, I) f32.
using WeightQuantizer = std::function<torch::Tensor(const torch::Tensor& weight)>;

struct LoftqResult {
    torch::Tensor base;              // (O, I) f32: the last Q
    LowRankFactors factors;          // the last B, A (scale divided out)
    std::vector<double> error_norms; // ||W - Q - s B A||_F / ||W||_F after each iteration
};

// weight (O, I) floating; rank >= 1; scale = alpha / r > 0; iterations >= 1. Error otherwise.
LoftqResult loftq(const torch::Tensor& weight, const WeightQuantizer& quantize, int64_t rank, double scale,
                  int iterations);

} // namespace rilq
