#include "core/quant/dynamic_map.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace rilq {

const std::vector<float>& dynamic_map() {
    static const std::vector<float> map = [] {
        // bitsandbytes functional.create_dynamic_map with signed=True, 7 exponent bits, 8 bits:
        // for exponent i the fraction boundaries linspace(0.1, 1, 2^i + 1) (fp32), their means
        // times 10^(i-6), both signs; then 0 and 1.0, sorted. No additional items for these args.
        std::vector<float> data;
        const int max_exponent_bits = 7, non_sign_bits = 7;
        for (int i = 0; i < max_exponent_bits; ++i) {
            const int64_t fraction_items = (int64_t{1} << (i + non_sign_bits - max_exponent_bits)) + 1;
            auto boundaries = torch::linspace(0.1, 1.0, fraction_items, torch::kFloat32);
            auto means = (boundaries.slice(0, 0, -1) + boundaries.slice(0, 1)) / 2.0;
            const double scale = std::pow(10.0, -(max_exponent_bits - 1) + i);
            auto pos = (means * scale).contiguous();
            auto neg = (means * -scale).contiguous();
            for (int64_t k = 0; k < pos.numel(); ++k)
                data.push_back(pos[k].item<float>());
            for (int64_t k = 0; k < neg.numel(); ++k)
                data.push_back(neg[k].item<float>());
        }
        data.push_back(0.0f);
        data.push_back(1.0f);
        std::sort(data.begin(), data.end());
        return data;
    }();
    return map;
}

namespace {

const std::vector<float>& dynamic_midpoints() {
    static const std::vector<float> mids = [] {
        const auto& m = dynamic_map();
        std::vector<float> out;
        for (size_t k = 0; k + 1 < m.size(); ++k)
            out.push_back((m[k] + m[k + 1]) * 0.5f);
        return out;
    }();
    return mids;
}

uint8_t zero_index() {
    const auto& m = dynamic_map();
    return static_cast<uint8_t>(std::find(m.begin(), m.end(), 0.0f) - m.begin());
}

// Nearest entry by midpoint: number of midpoints strictly below x.
uint8_t dynamic_map_nearest(float x) {
    const auto& mids = dynamic_midpoints();
    return static_cast<uint8_t>(std::lower_bound(mids.begin(), mids.end(), x) - mids.begin());
}

} // namespace

uint8_t dynamic_map_argmin(float x) {
    if (std::isnan(x)) return zero_index();
    const auto& m = dynamic_map();
    const int64_t n = static_cast<int64_t>(m.size());
    // |x - m[k]| in fp32 is non-increasing then non-decreasing in k, so the minimum lies next to
    // the insertion point; scan a small window and keep the first minimum like torch.argmin.
    const int64_t pos = std::lower_bound(m.begin(), m.end(), x) - m.begin();
    int64_t best = -1;
    float best_diff = 0.0f;
    for (int64_t k = std::max<int64_t>(0, pos - 3); k <= std::min<int64_t>(n - 1, pos + 2); ++k) {
        const float diff = std::fabs(x - m[static_cast<size_t>(k)]);
        if (best < 0 || diff < best_diff) {
            best = k;
            best_diff = diff;
        }
    }
    return static_cast<uint8_t>(best);
}

DoubleQuantState double_quantize(const torch::Tensor& absmax, int64_t block, torch::Tensor& dequantized) {
    const int64_t NB = absmax.numel(), ND = (NB + block - 1) / block;
    auto a = absmax.contiguous();
    const float* ap = a.data_ptr<float>();
    DoubleQuantState s;
    double sum = 0.0;
    for (int64_t i = 0; i < NB; ++i)
        sum += ap[i];
    s.mean = static_cast<float>(sum / static_cast<double>(NB));
    s.codes = torch::empty({NB}, torch::kUInt8);    // (NB)
    s.scales = torch::empty({ND}, torch::kFloat32); // (ND)
    s.block = block;
    dequantized = torch::empty({NB}, torch::kFloat32); // (NB)
    uint8_t* codes = s.codes.data_ptr<uint8_t>();
    float* scales = s.scales.data_ptr<float>();
    float* deq = dequantized.data_ptr<float>();
    std::vector<float> centered(static_cast<size_t>(std::min(block, NB)));
    for (int64_t d = 0; d < ND; ++d) {
        const int64_t i0 = d * block, i1 = std::min(i0 + block, NB);
        float a2 = 0.0f;
        for (int64_t i = i0; i < i1; ++i) {
            centered[static_cast<size_t>(i - i0)] = ap[i] - s.mean;
            a2 = std::max(a2, std::fabs(centered[static_cast<size_t>(i - i0)]));
        }
        scales[d] = a2;
        // bitsandbytes multiplies by the reciprocal of the block absmax; an all-zero block maps to 0.
        const float inv = 1.0f / a2;
        for (int64_t i = i0; i < i1; ++i) {
            const float v = a2 > 0.0f ? centered[static_cast<size_t>(i - i0)] * inv : 0.0f;
            codes[i] = dynamic_map_nearest(v);
            deq[i] = dynamic_map_value(codes[i], a2, s.mean);
        }
    }
    return s;
}

} // namespace rilq
