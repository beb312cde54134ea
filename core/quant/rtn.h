// Round-to-nearest int-k with groups along in_features (METHODS §1.1): OmniQuant-style
// asymmetric min/max (default), the GPTQ form whose range always includes 0, and the two
// symmetric forms. All arithmetic is fp32 in the order of the Python sources, so results
// match them bit for bit.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/quant/dequant_formula.h"
#include "core/quant/quantizer.h"
#include "core/quant/rounding.h"

namespace rilq {

// RTN flavours. METHODS §7.1 leaves open which one RILQ used, so all are available.
enum class RtnVariant {
    OmniQuant,     // asymmetric raw min/max, scale clamped to [1e-5, 1e4], zero clamped to +-1e4 (default)
    Gptq,          // asymmetric, range forced to include 0; all-zero group -> [-1, 1]
    GptqSymmetric, // GPTQ sym: xmax = max(|xmin|, xmax), xmin = -xmax if xmin < 0, zero = (maxq+1)/2
    OmniQuantSymmetric, // OmniQuant sym: scale = absmax / (2^(b-1)-1), zero = 2^(b-1)-1
};
// Each flavour with its name and doc, in the order `rtn` offers them (the first is its default).
const VariantTable<RtnVariant>& rtn_variants();

// One group's affine grid: w_hat = (code - zero) * scale, code in [0, maxq].
struct AffineParams {
    float scale = 1.0f;
    float zero = 0.0f;
};

// Scale and zero of a group with raw extremes [xmin, xmax] for `bits` under `variant`.
AffineParams rtn_params(float xmin, float xmax, int bits, RtnVariant variant);

// GPTQ's range preprocessing (range includes 0; symmetric widening; all-zero -> [-1, 1]),
// shared with the ICQ integer path which starts from it.
void gptq_range(float& xmin, float& xmax, bool symmetric);

// clamp(round(x / scale) + zero, 0, maxq): the code of one value (true division, as the sources).
inline float affine_code(float x, const AffineParams& p, float maxq) {
    float q = round_half_even(x / p.scale) + p.zero;
    q = q < 0.0f ? 0.0f : q;
    return q > maxq ? maxq : q;
}

// The extremes of x[0..len), len >= 1.
inline void group_range(const float* x, int64_t len, float& xmin, float& xmax) {
    xmin = x[0];
    xmax = x[0];
    for (int64_t i = 1; i < len; ++i) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
    }
}

// Codes and dequantized values (code - zero) * scale of x[0..len) on the grid p.
inline void write_affine_group(const float* x, int64_t len, const AffineParams& p, float maxq,
                               float* dequantized, uint8_t* codes) {
    for (int64_t i = 0; i < len; ++i) {
        const float q = affine_code(x[i], p, maxq);
        dequantized[i] = affine_dequantize(q, p.zero, p.scale);
        codes[i] = static_cast<uint8_t>(q);
    }
}

// The integer-grid methods (RTN, ICQ-int): an rtn_variants flavour, per row group a scale and a
// zero, stored as fp16 each.
class AffineQuantizer : public Quantizer {
  public:
    explicit AffineQuantizer(const QuantSpec& spec)
        : Quantizer(spec), variant_(variant_value(rtn_variants(), spec.variant, "rtn")) {}
    double bits_per_weight(std::string* note) const override;
    std::string dequant_formula() const override;

  protected:
    // Row-group layout with dequantized (O, I), codes (O, I), scales and zeros (O, G) to fill.
    QuantResult empty_result(int64_t rows, int64_t cols) const;
    RtnVariant variant_;
};

class RtnQuantizer : public AffineQuantizer {
  public:
    using AffineQuantizer::AffineQuantizer;
    QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const override;
};

// The registry entry of "rtn".
const QuantMethod& rtn_method();

} // namespace rilq
