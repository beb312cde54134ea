#include "core/quant/packed_quant_weight.h"

#include "core/quant/bit_packing.h"
#include "core/quant/dequant_formula.h"
#include "core/quant/dynamic_map.h"
#include "core/quant/icq_nf.h"
#include "core/quant/nf.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace rilq {

namespace {

int64_t packed_tensor_bytes(const torch::Tensor& t) {
    return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

// Zero points as uint8 when all lie in [0, 255] (RTN, GPTQ and ICQ-int zeros lie in [0, 2^b - 1]),
// else int16 (OmniQuant clamps its to +-1e4); Error naming the first that is neither.
torch::Tensor zeros_as_integers(const torch::Tensor& zeros) {
    const auto z = zeros.to(torch::kFloat32).contiguous();
    const float* p = z.data_ptr<float>();
    bool fits_byte = true;
    for (int64_t i = 0; i < z.numel(); ++i) {
        if (!(p[i] == std::nearbyint(p[i])) || std::fabs(p[i]) > 32767.0f)
            throw Error("pack weight: zero point " + std::to_string(p[i]) + " (group " + std::to_string(i) +
                        ") is not an int16 integer");
        fits_byte = fits_byte && p[i] >= 0.0f && p[i] <= 255.0f;
    }
    return z.to(fits_byte ? torch::kUInt8 : torch::kInt16).reshape(zeros.sizes());
}

// g_idx as int32, or undefined when every column's group is column / group_size.
torch::Tensor irregular_column_groups(const torch::Tensor& groups, const GroupLayout& layout) {
    if (!groups.defined()) return {};
    const auto g = groups.to(torch::kInt64).contiguous();
    if (g.numel() != layout.cols) throw Error("pack weight: column groups do not match the weight's columns");
    const int64_t* p = g.data_ptr<int64_t>();
    bool regular = true;
    for (int64_t c = 0; c < layout.cols; ++c) {
        if (p[c] < 0 || p[c] >= layout.groups_per_row())
            throw Error("pack weight: column " + std::to_string(c) + " names group " + std::to_string(p[c]) +
                        " of " + std::to_string(layout.groups_per_row()));
        regular = regular && p[c] == c / layout.group_size;
    }
    return regular ? torch::Tensor() : g.to(torch::kInt32);
}

} // namespace

float PackedQuantWeight::BlockValues::at(int64_t b) const {
    if (values.defined()) return values.data_ptr<float>()[b];
    const uint8_t code = codes.data_ptr<uint8_t>()[b];
    const float scale = scales.data_ptr<float>()[b / block];
    return has_mean ? dynamic_map_value(code, scale, mean) : dynamic_map_value(code, scale);
}

int64_t PackedQuantWeight::BlockValues::bytes() const {
    return packed_tensor_bytes(values) + packed_tensor_bytes(codes) + packed_tensor_bytes(scales) +
           (has_mean ? static_cast<int64_t>(sizeof(float)) : 0);
}

// The per-block values as their 8-bit codes when those decode to `values` bit for bit, else fp32.
PackedQuantWeight::BlockValues PackedQuantWeight::block_values(const torch::Tensor& values,
                                                               const torch::Tensor& codes,
                                                               const torch::Tensor& scales, int64_t block,
                                                               bool has_mean, float mean) {
    BlockValues coded{torch::Tensor(), codes, scales, block, has_mean, mean};
    const auto exact = values.to(torch::kFloat32).contiguous();
    bool same = codes.defined() && scales.defined() && block > 0 && codes.numel() == exact.numel() &&
                scales.numel() == (exact.numel() + block - 1) / block;
    if (same) {
        coded.codes = codes.to(torch::kUInt8).contiguous();
        coded.scales = scales.to(torch::kFloat32).contiguous();
        const float* v = exact.data_ptr<float>();
        for (int64_t b = 0; same && b < exact.numel(); ++b) {
            const float decoded = coded.at(b);
            same = std::memcmp(&decoded, &v[b], sizeof(float)) == 0;
        }
    }
    return same ? coded : fp32_block_values(exact);
}

PackedQuantWeight::BlockValues PackedQuantWeight::fp32_block_values(const torch::Tensor& values) {
    BlockValues v;
    v.values = values.to(torch::kFloat32).contiguous();
    return v;
}

std::shared_ptr<const PackedQuantWeight> PackedQuantWeight::pack(const QuantResult& r) {
    if (!r.codes.defined()) throw Error("pack weight: the quantization result has no codes");
    auto w = std::make_shared<PackedQuantWeight>();
    w->layout_ = r.layout;
    w->bits_ = r.bits;
    w->row_bytes_ = packed_row_bytes(r.layout.cols, r.bits);
    w->codes_ = pack_code_rows(r.codes.view({r.layout.rows, r.layout.cols}), r.bits);
    if (r.table.defined()) {
        if (!r.absmax.defined()) throw Error("pack weight: a NormalFloat result without absmax");
        const auto t = r.table.to(torch::kFloat32).contiguous();
        w->table_.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        const auto* nf = dynamic_cast<const NfRecord*>(r.record.get());
        const DoubleQuantState* dq = nf && nf->double_quantized ? &nf->double_quant : nullptr;
        w->absmax_ = dq ? block_values(r.absmax, dq->codes, dq->scales, dq->block, true, dq->mean)
                        : fp32_block_values(r.absmax);
        if (r.record) {
            const auto offsets = r.record->block_offsets();
            const auto* icq = dynamic_cast<const IcqNfRecord*>(r.record.get());
            if (offsets.defined())
                w->offsets_ = icq && icq->offset_quantized
                                  ? block_values(offsets, icq->offset_codes, icq->offset_scales,
                                                 icq->offset_superblock, false, 0.0f)
                                  : fp32_block_values(offsets);
        }
        return w;
    }
    if (!r.scales.defined() || !r.zeros.defined())
        throw Error("pack weight: the result has neither an integer grid (scales, zeros) nor an NF table");
    w->scales_ = r.scales.to(torch::kFloat32).contiguous();
    w->zeros_ = zeros_as_integers(r.zeros);
    if (r.record) w->column_groups_ = irregular_column_groups(r.record->column_groups(), r.layout);
    return w;
}

PackedBytes PackedQuantWeight::bytes() const {
    PackedBytes b;
    b.codes = packed_tensor_bytes(codes_);
    b.parameters = packed_tensor_bytes(scales_) + packed_tensor_bytes(zeros_) +
                   packed_tensor_bytes(column_groups_) + static_cast<int64_t>(table_.size() * sizeof(float)) +
                   absmax_.bytes() + offsets_.bytes();
    return b;
}

void PackedQuantWeight::dequantize_rows(int64_t r0, int64_t r1, float* out) const {
    std::vector<uint8_t> codes(static_cast<size_t>(layout_.cols));
    if (table_.empty())
        dequantize_affine_rows(r0, r1, out, codes.data());
    else
        dequantize_nf_rows(r0, r1, out, codes.data());
}

void PackedQuantWeight::dequantize_affine_rows(int64_t r0, int64_t r1, float* out, uint8_t* codes) const {
    if (zeros_.scalar_type() == torch::kUInt8)
        dequantize_affine_rows_with(zeros_.data_ptr<uint8_t>(), r0, r1, out, codes);
    else
        dequantize_affine_rows_with(zeros_.data_ptr<int16_t>(), r0, r1, out, codes);
}

template <typename Zero>
void PackedQuantWeight::dequantize_affine_rows_with(const Zero* zeros, int64_t r0, int64_t r1, float* out,
                                                    uint8_t* codes) const {
    const int64_t I = layout_.cols, G = layout_.groups_per_row(), gs = layout_.group_size;
    const uint8_t* packed = codes_.data_ptr<uint8_t>();
    const float* scales = scales_.data_ptr<float>();
    const int32_t* groups = column_groups_.defined() ? column_groups_.data_ptr<int32_t>() : nullptr;
    for (int64_t r = r0; r < r1; ++r) {
        unpack_code_row(packed + r * row_bytes_, I, bits_, codes);
        float* o = out + (r - r0) * I;
        const float* s = scales + r * G;
        const Zero* z = zeros + r * G;
        if (groups) { // GPTQ act-order: a column's group is g_idx[column]
            for (int64_t c = 0; c < I; ++c)
                o[c] = affine_dequantize(static_cast<float>(codes[c]), static_cast<float>(z[groups[c]]),
                                         s[groups[c]]);
            continue;
        }
        for (int64_t g = 0; g < G; ++g) {
            const int64_t c0 = g * gs, c1 = std::min(c0 + gs, I);
            const float zero = static_cast<float>(z[g]), scale = s[g];
            for (int64_t c = c0; c < c1; ++c)
                o[c] = affine_dequantize(static_cast<float>(codes[c]), zero, scale);
        }
    }
}

void PackedQuantWeight::dequantize_nf_rows(int64_t r0, int64_t r1, float* out, uint8_t* codes) const {
    const int64_t I = layout_.cols, B = layout_.group_size;
    const uint8_t* packed = codes_.data_ptr<uint8_t>();
    const bool offsets = offsets_.defined();
    const float* table = table_.data();
    for (int64_t r = r0; r < r1; ++r) {
        unpack_code_row(packed + r * row_bytes_, I, bits_, codes);
        float* o = out + (r - r0) * I;
        // Absmax blocks run over the flattened weight, so a row may start inside a block.
        const int64_t j0 = r * I;
        for (int64_t c0 = 0; c0 < I;) {
            const int64_t b = (j0 + c0) / B, c1 = std::min(I, (b + 1) * B - j0);
            const float a = absmax_.at(b);
            if (offsets) {
                const float offset = offsets_.at(b);
                for (int64_t c = c0; c < c1; ++c)
                    o[c] = nf_dequantize_value(table[codes[c]], a, offset);
            } else {
                for (int64_t c = c0; c < c1; ++c)
                    o[c] = nf_dequantize_value(table[codes[c]], a);
            }
            c0 = c1;
        }
    }
}

} // namespace rilq
