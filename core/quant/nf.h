// NormalFloat-k with absmax blocks over the row-major flattened weight (bitsandbytes
// quantize_4bit, METHODS §1.2): a = max|x| per block, code = bucketize(x * (1/a)) on the
// table midpoints, w_hat = table[code] * a_hat, where a_hat is a or its double-quantized
// value dyn[idx] * a2 + c.
#pragma once
#include <vector>

#include "core/quant/quantizer.h"

namespace rilq {

// Code of v = x * (1/absmax): the number of thresholds strictly below v (NaN -> 0, as bnb).
// Quantizes x[0..n) into codes[0..n) and returns the block absmax.
float nf_quantize_block(const float* x, int64_t n, const std::vector<float>& thresholds, uint8_t* codes);

// Whole-tensor NF quantization of a flat f32 tensor: codes (numel) uint8, absmax (NB) f32.
void nf_quantize_flat(const torch::Tensor& flat, int64_t block, const std::vector<float>& thresholds,
                      torch::Tensor& codes, torch::Tensor& absmax);

// w_hat = table[code] * absmax[block] (+ offset[block] when `offset` is defined), fp32.
torch::Tensor nf_dequantize(const torch::Tensor& codes, const torch::Tensor& absmax, int64_t block,
                            const std::vector<float>& table, const torch::Tensor& offset = {});

class NfQuantizer : public Quantizer {
  public:
    explicit NfQuantizer(const QuantSpec& spec) : spec_(spec) {}
    QuantResult quantize(const torch::Tensor& weight, const std::string& name) const override;

  private:
    QuantSpec spec_;
};

} // namespace rilq
