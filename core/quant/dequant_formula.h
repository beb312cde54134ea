// The dequantization formulas, one per grid family, in one place. The fake-quant path (rtn.h
// write_affine_group, nf.cpp nf_dequantize) and packed weights (packed_quant_weight.cpp) both
// call these, so a packed linear equals the dense fake-quantized one bit for bit in fp32.
#pragma once

namespace rilq {

// Integer grids (RTN, ICQ-int, GPTQ): w_hat = (code - zero) * scale, in that order (GPTQ's
// quant.py writes scale * (q - zero): the same fp32 product).
inline float affine_dequantize(float code, float zero, float scale) {
    return (code - zero) * scale;
}

// NormalFloat grids (NF, ICQ-NF): w_hat = table[code] * absmax, then + offset for ICQ-NF
// (IR-QLoRA: (dequantize_fp4(...) + tau) - the NF product first, then the offset).
inline float nf_dequantize_value(float table_value, float absmax) {
    return table_value * absmax;
}
inline float nf_dequantize_value(float table_value, float absmax, float offset) {
    return table_value * absmax + offset;
}

} // namespace rilq
