// NormalFloat-k with absmax blocks over the row-major flattened weight (bitsandbytes
// quantize_4bit, METHODS §1.2): a = max|x| per block, code = bucketize(x * (1/a)) on the
// table midpoints, w_hat = table[code] * a_hat, where a_hat is a or its double-quantized
// value dyn[idx] * a2 + c.
#pragma once
#include <string>
#include <vector>

#include "core/quant/dynamic_map.h"
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

// What NF keeps beside codes, table and absmax: the absmax before double quantization and the
// double-quantization state. ICQ-NF's record extends it.
class NfRecord : public QuantRecord {
  public:
    torch::Tensor absmax_fp; // (NB) f32 absmax before double quantization
    bool double_quantized = false;
    DoubleQuantState double_quant;

    // absmax, or with double quantization its 8-bit codes, block scales and mean.
    void add_code_tensors(const QuantResult& result, const QuantSpec& spec, const std::string& prefix,
                          std::vector<std::pair<std::string, torch::Tensor>>& out) const override;
    bool uses_dynamic_map() const override { return double_quantized; }
};

// The result's NF record; Error when it has none (not an NF-family result).
const NfRecord& nf_record(const QuantResult& result);

// NormalFloat blocks: the code table of the spec's variant, absmax per block (double-quantized on
// request). ICQ-NF builds on it.
class NfQuantizer : public Quantizer {
  public:
    explicit NfQuantizer(const QuantSpec& spec);
    QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const override;
    // Codes plus their absmax: fp32 per block, or uint8 per block + fp32 per double-quant block.
    double bits_per_weight(std::string* note) const override;
    std::string dequant_formula() const override;

  protected:
    // result.absmax from record.absmax_fp: itself, or double-quantized when spec.double_quant.
    void store_absmax(NfRecord& record, QuantResult& result) const;
    // "a[b] = ...; ": how the absmax a of block b is read back from quant_codes.
    std::string absmax_formula() const;
    std::vector<float> table_, thresholds_;
};

// The registry entry of "nf".
const QuantMethod& nf_method();

} // namespace rilq
