#include "core/quant/nf.h"

#include "core/quant/dequant_formula.h"
#include "core/quant/dynamic_map.h"
#include "core/quant/nf_tables.h"
#include "core/util/error.h"

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
            if (off)
                for (int64_t i = i0; i < i1; ++i)
                    o[i] = nf_dequantize_value(table[c[i]], a[b], off[b]);
            else
                for (int64_t i = i0; i < i1; ++i)
                    o[i] = nf_dequantize_value(table[c[i]], a[b]);
        }
    });
    return out;
}

const NfRecord& nf_record(const QuantResult& result) {
    return record_as<NfRecord>(result, "NormalFloat (nf, icq-nf)");
}

void NfRecord::add_code_tensors(const QuantResult& result, const QuantSpec&, const std::string& prefix,
                                std::vector<std::pair<std::string, torch::Tensor>>& out) const {
    if (!double_quantized) {
        out.emplace_back(prefix + "absmax", result.absmax);
        return;
    }
    out.emplace_back(prefix + "absmax_codes", double_quant.codes);
    out.emplace_back(prefix + "absmax_scales", double_quant.scales);
    out.emplace_back(prefix + "absmax_mean", torch::tensor({double_quant.mean}, torch::kFloat32));
}

void NfQuantizer::store_absmax(NfRecord& record, QuantResult& result) const {
    if (spec_.double_quant) {
        record.double_quantized = true;
        record.double_quant = double_quantize(record.absmax_fp, spec_.double_quant_block, result.absmax);
    } else {
        result.absmax = record.absmax_fp;
    }
}

double NfQuantizer::bits_per_weight(std::string* note) const {
    const double G = static_cast<double>(spec_.group_size);
    if (spec_.double_quant) {
        if (note)
            *note = "codes + uint8 absmax + fp32 per " + std::to_string(spec_.double_quant_block) +
                    " absmax (double quant)";
        return spec_.bits + 8.0 / G + 32.0 / (G * static_cast<double>(spec_.double_quant_block));
    }
    if (note) *note = "codes + fp32 absmax per block";
    return spec_.bits + 32.0 / G;
}

std::string NfQuantizer::absmax_formula() const {
    return spec_.double_quant ? "a[b] = dynamic_map[absmax_codes[b]] * absmax_scales[b // D] + absmax_mean; "
                              : "a[b] = absmax[b]; ";
}

NfQuantizer::NfQuantizer(const QuantSpec& spec)
    : Quantizer(spec), table_(nf_table(spec.bits, variant_value(nf_variants(), spec.variant, "nf"))),
      thresholds_(nf_thresholds(table_)) {}

std::string NfQuantizer::dequant_formula() const {
    return absmax_formula() + "w.flat[j] = table[codes.flat[j]] * a[j // B]";
}

const QuantMethod& nf_method() {
    static const QuantMethod method{
        "nf",
        "NF",
        "NormalFloat-k with absmax blocks over the flattened weight, as bitsandbytes (METHODS.md 1.2)",
        variants_of(nf_variants()),
        {2, 3, 4},
        GroupKind::FlatBlocks,
        /*needs_calibration=*/false,
        {"double_quant", "double_quant_block"},
        &make_quantizer_of<NfQuantizer>};
    return method;
}

QuantResult NfQuantizer::quantize(const torch::Tensor& weight, const QuantContext& /*context*/) const {
    const int64_t O = weight.size(0), I = weight.size(1), B = spec_.group_size;
    QuantResult r;
    r.bits = spec_.bits;
    r.layout = GroupLayout::flat_blocks(O, I, B);
    r.table = torch::tensor(table_, torch::kFloat32);
    auto record = std::make_shared<NfRecord>();
    torch::Tensor codes;
    nf_quantize_flat(weight.reshape({-1}), B, thresholds_, codes, record->absmax_fp); // (O*I), (NB)
    r.codes = codes.view({O, I});
    store_absmax(*record, r);
    r.dequantized = nf_dequantize(codes, r.absmax, B, table_).view({O, I});
    r.record = std::move(record);
    return r;
}

} // namespace rilq
