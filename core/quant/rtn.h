// Round-to-nearest int-k with groups along in_features (METHODS §1.1): OmniQuant-style
// asymmetric min/max (default), the GPTQ form whose range always includes 0, and the two
// symmetric forms. All arithmetic is fp32 in the order of the Python sources, so results
// match them bit for bit.
#pragma once
#include "core/quant/quantizer.h"
#include "core/quant/rounding.h"

namespace rilq {

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

class RtnQuantizer : public Quantizer {
  public:
    explicit RtnQuantizer(const QuantSpec& spec) : spec_(spec) {}
    QuantResult quantize(const torch::Tensor& weight, const std::string& name) const override;

  private:
    QuantSpec spec_;
};

} // namespace rilq
