// bitsandbytes' signed dynamic 8-bit map and the two ways it is used here:
//  - double quantization of NF absmax values (quantize_4bit with compress_statistics): blocks of
//    256, x * (1/absmax) looked up by nearest entry (fp32 midpoints, a value on a midpoint goes
//    to the lower entry);
//  - IR-QLoRA's storage of the ICQ offset tau: quantize_tensor() = argmin |x - map| (first
//    index wins ties) of tau / tau2 (true division).
#pragma once
#include <cstdint>
#include <vector>

#include "core/util/tensor.h"

#include "core/quant/quantizer.h"

namespace rilq {

// bitsandbytes double quantization of the absmax values (compress_statistics).
struct DoubleQuantState {
    float mean = 0.0f;    // c = mean(absmax), subtracted before quantizing
    torch::Tensor codes;  // (NB) uint8 index into the dynamic map
    torch::Tensor scales; // (ND) f32 absmax of (absmax - c) per block of 256
    int64_t block = 0;    // absmax values per scale (256)
};

// create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 sorted fp32 values
// in [-0.99297, 1], built with the same fp32 torch ops as bitsandbytes.
const std::vector<float>& dynamic_map();

// A value stored as an 8-bit dynamic-map index times its block's scale: dyn[code] * scale (ICQ's
// tau), + mean for double-quantized absmax. Every producer and reader computes it here.
inline float dynamic_map_value(uint8_t code, float scale) {
    return dynamic_map()[code] * scale;
}
inline float dynamic_map_value(uint8_t code, float scale, float mean) {
    return dynamic_map()[code] * scale + mean;
}

// Index of the entry nearest to x, first (lowest) index on a tie, like torch.argmin(|x - map|).
// NaN maps to the entry 0.0.
uint8_t dynamic_map_argmin(float x);

// Double quantization of `absmax` (NB) f32: c = mean (fp64 accumulation, stored fp32), then
// blockwise dynamic-map quantization of absmax - c. Returns the state; `dequantized` (NB) gets
// dyn[idx] * a2 + c.
DoubleQuantState double_quantize(const torch::Tensor& absmax, int64_t block, torch::Tensor& dequantized);

} // namespace rilq
