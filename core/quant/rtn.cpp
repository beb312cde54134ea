#include "core/quant/rtn.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace rilq {

namespace {

// OmniQuant's CLIPMIN and the clamp of its scale / rounded zero point (quantize/quantizer.py).
constexpr float kOmniScaleMin = 1e-5f;
constexpr float kOmniScaleMax = 1e4f;
constexpr float kOmniZeroBound = 1e4f;

float clampf(float v, float lo, float hi) {
    return std::min(std::max(v, lo), hi);
}

} // namespace

const VariantTable<RtnVariant>& rtn_variants() {
    static const VariantTable<RtnVariant> variants = {
        {RtnVariant::OmniQuant, {"omniquant", "asymmetric raw min/max (OmniQuant)"}},
        {RtnVariant::Gptq, {"gptq", "asymmetric, range forced to include 0 (GPTQ)"}},
        {RtnVariant::GptqSymmetric, {"gptq-sym", "GPTQ's symmetric form, zero at (2^b)/2"}},
        {RtnVariant::OmniQuantSymmetric, {"omniquant-sym", "OmniQuant's symmetric form, absmax/(2^(b-1)-1)"}},
    };
    return variants;
}

double AffineQuantizer::bits_per_weight(std::string* note) const {
    if (spec_.group_size <= 0) {
        if (note) *note = "per channel: overhead of one fp16 scale + zero per row not counted";
        return spec_.bits;
    }
    if (note) *note = "codes + fp16 scale + fp16 zero per group";
    return spec_.bits + 32.0 / static_cast<double>(spec_.group_size);
}

std::string AffineQuantizer::dequant_formula() const {
    return "w[o, i] = (codes[o, i] - zeros[o, i // G]) * scales[o, i // G]";
}

QuantResult AffineQuantizer::empty_result(int64_t O, int64_t I) const {
    QuantResult r;
    r.bits = spec_.bits;
    r.layout = GroupLayout::row_groups(O, I, spec_.group_size);
    const int64_t NG = r.layout.groups_per_row();
    r.dequantized = torch::empty({O, I}, torch::kFloat32); // (O, I)
    r.codes = torch::empty({O, I}, torch::kUInt8);         // (O, I)
    r.scales = torch::empty({O, NG}, torch::kFloat32);     // (O, G)
    r.zeros = torch::empty({O, NG}, torch::kFloat32);      // (O, G)
    return r;
}

const QuantMethod& rtn_method() {
    static const QuantMethod method{"rtn",
                                    "RTN",
                                    "round-to-nearest int-k, groups along in_features (METHODS.md 1.1)",
                                    variants_of(rtn_variants()),
                                    {2, 3, 4, 8},
                                    GroupKind::RowGroups,
                                    /*needs_calibration=*/false,
                                    /*knobs=*/{},
                                    &make_quantizer_of<RtnQuantizer>};
    return method;
}

void gptq_range(float& xmin, float& xmax, bool symmetric) {
    xmin = std::min(xmin, 0.0f);
    xmax = std::max(xmax, 0.0f);
    if (symmetric) {
        xmax = std::max(std::fabs(xmin), xmax);
        // GPTQ widens only when xmin < 0: an all-positive group keeps xmin = 0 (a quirk we keep).
        if (xmin < 0.0f) xmin = -xmax;
    }
    if (xmin == 0.0f && xmax == 0.0f) {
        xmin = -1.0f;
        xmax = 1.0f;
    }
}

AffineParams rtn_params(float xmin, float xmax, int bits, RtnVariant variant) {
    const float maxq = static_cast<float>((1 << bits) - 1);
    AffineParams p;
    switch (variant) {
    case RtnVariant::OmniQuant: {
        p.scale = clampf((xmax - xmin) / maxq, kOmniScaleMin, kOmniScaleMax);
        p.zero = round_half_even(clampf(-xmin / p.scale, -kOmniZeroBound, kOmniZeroBound));
        break;
    }
    case RtnVariant::OmniQuantSymmetric: {
        const float half = static_cast<float>((1 << (bits - 1)) - 1);
        const float absmax = std::max(std::fabs(xmax), std::fabs(xmin));
        p.scale = clampf(absmax / half, kOmniScaleMin, kOmniScaleMax);
        p.zero = half;
        break;
    }
    case RtnVariant::Gptq:
    case RtnVariant::GptqSymmetric: {
        const bool sym = variant == RtnVariant::GptqSymmetric;
        gptq_range(xmin, xmax, sym);
        p.scale = (xmax - xmin) / maxq;
        p.zero = sym ? (maxq + 1.0f) / 2.0f : round_half_even(-xmin / p.scale);
        break;
    }
    }
    return p;
}

QuantResult RtnQuantizer::quantize(const torch::Tensor& weight, const QuantContext& /*context*/) const {
    const int64_t O = weight.size(0), I = weight.size(1);
    QuantResult r = empty_result(O, I);
    const int64_t G = r.layout.group_size, NG = r.layout.groups_per_row();
    const float* w = weight.data_ptr<float>();
    float* deq = r.dequantized.data_ptr<float>();
    uint8_t* codes = r.codes.data_ptr<uint8_t>();
    float* scales = r.scales.data_ptr<float>();
    float* zeros = r.zeros.data_ptr<float>();
    const float maxq = static_cast<float>((1 << spec_.bits) - 1);

    at::parallel_for(0, O, std::max<int64_t>(1, 16384 / std::max<int64_t>(I, 1)),
                     [&](int64_t r0, int64_t r1) {
                         for (int64_t row = r0; row < r1; ++row) {
                             for (int64_t g = 0; g < NG; ++g) {
                                 const int64_t c0 = g * G, len = std::min(G, I - c0), at = row * I + c0;
                                 float xmin = 0.0f, xmax = 0.0f;
                                 group_range(w + at, len, xmin, xmax);
                                 const AffineParams p = rtn_params(xmin, xmax, spec_.bits, variant_);
                                 scales[row * NG + g] = p.scale;
                                 zeros[row * NG + g] = p.zero;
                                 write_affine_group(w + at, len, p, maxq, deq + at, codes + at);
                             }
                         }
                     });
    return r;
}

} // namespace rilq
