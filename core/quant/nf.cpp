#include "core/quant/nf.h"

#include "core/quant/dynamic_map.h"
#include "core/quant/nf_tables.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace rilq {

float nf_quantize_block(const float* x, int64_t n, const std::vector<float>& thresholds, uint8_t* codes) {
    float absmax = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        absmax = std::max(absmax, std::fabs(x[i]));
    // bitsandbytes kQuantizeBlockwise: local_abs_max = 1.0f / local_abs_max, then x * local_abs_max.
    const float inv = 1.0f / absmax;
    constexpr int64_t kChunk = 256;
    float v[kChunk];
    for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
        const int64_t len = std::min(kChunk, n - c0);
        for (int64_t i = 0; i < len; ++i) {
            v[i] = x[c0 + i] * inv;
            codes[c0 + i] = 0;
        }
        for (float t : thresholds)
            for (int64_t i = 0; i < len; ++i)
                codes[c0 + i] = static_cast<uint8_t>(codes[c0 + i] + (v[i] > t ? 1 : 0));
    }
    return absmax;
}

void nf_quantize_flat(const torch::Tensor& flat, int64_t block, const std::vector<float>& thresholds,
                      torch::Tensor& codes, torch::Tensor& absmax) {
    const int64_t N = flat.numel(), NB = (N + block - 1) / block;
    codes = torch::empty({N}, torch::kUInt8);
    absmax = torch::empty({NB}, torch::kFloat32);
    const float* x = flat.data_ptr<float>();
    uint8_t* c = codes.data_ptr<uint8_t>();
    float* a = absmax.data_ptr<float>();
    at::parallel_for(0, NB, std::max<int64_t>(1, 16384 / block), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t i0 = b * block, len = std::min(block, N - i0);
            a[b] = nf_quantize_block(x + i0, len, thresholds, c + i0);
        }
    });
}

torch::Tensor nf_dequantize(const torch::Tensor& codes, const torch::Tensor& absmax, int64_t block,
                            const std::vector<float>& table, const torch::Tensor& offset) {
    const int64_t N = codes.numel(), NB = absmax.numel();
    auto out = torch::empty({N}, torch::kFloat32);
    const uint8_t* c = codes.data_ptr<uint8_t>();
    const float* a = absmax.data_ptr<float>();
    const float* off = offset.defined() ? offset.data_ptr<float>() : nullptr;
    float* o = out.data_ptr<float>();
    at::parallel_for(0, NB, std::max<int64_t>(1, 16384 / block), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t i0 = b * block, i1 = std::min(i0 + block, N);
            for (int64_t i = i0; i < i1; ++i) {
                // IR-QLoRA: (dequantize_fp4(...) + tau) - the NF product first, then the offset.
                const float v = table[c[i]] * a[b];
                o[i] = off ? v + off[b] : v;
            }
        }
    });
    return out;
}

QuantResult NfQuantizer::quantize(const torch::Tensor& weight, const std::string& /*name*/) const {
    const int64_t O = weight.size(0), I = weight.size(1), B = spec_.group_size;
    QuantResult r;
    r.bits = spec_.bits;
    r.layout = GroupLayout::flat_blocks(O, I, B);
    const auto table = nf_table(spec_.bits, spec_.nf_variant);
    const auto thresholds = nf_thresholds(table);
    r.table = torch::tensor(table, torch::kFloat32);
    torch::Tensor codes;
    nf_quantize_flat(weight.reshape({-1}), B, thresholds, codes, r.absmax_fp); // (O*I), (NB)
    r.codes = codes.view({O, I});
    if (spec_.double_quant) {
        r.double_quantized = true;
        r.double_quant = double_quantize(r.absmax_fp, spec_.double_quant_block, r.absmax);
    } else {
        r.absmax = r.absmax_fp;
    }
    r.dequantized = nf_dequantize(codes, r.absmax, B, table).view({O, I});
    return r;
}

} // namespace rilq
