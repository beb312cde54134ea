// A quantized linear as the student holds it with quant.storage "packed": the quantizer's
// integer codes bit-packed (bit_packing.h) plus the parameters its grid needs, dequantized on
// the fly with the formulas of dequant_formula.h (the fake-quant path's), so it equals the
// dense dequantized weight bit for bit.
//
// Stored per linear (O rows, I cols, G groups per row, NB absmax blocks, b bits):
//   codes             O * ceil(I * b / 8) bytes
//   integer grids     scales (O, G) f32 + zeros (O, G) uint8, or int16 when one is outside
//                     [0, 255] (integer valued: RTN/GPTQ/ICQ-int zeros lie in [0, 2^b - 1],
//                     OmniQuant clamps its to +-1e4)
//                     + GPTQ's g_idx (I) int32 only when a column's group is not column / group_size
//   NormalFloat grids table (2^b) f32 + absmax (NB) f32, or with double quantization its uint8
//                     dynamic-map codes (NB) + f32 scale per 256 blocks + mean; + ICQ-NF's offsets
//                     as IR-QLoRA stores them, uint8 codes (NB) + f32 tau2 per super-block (or f32
//                     (NB) with icq_quantize_offset false)
// The 8-bit forms are decoded with the quantizer's own expression (dynamic_map_value), and each
// is kept only if it gives back the quantizer's fp32 values bit for bit (else those are stored),
// which is what makes the equality exact.
#pragma once
#include <memory>
#include <vector>

#include "core/model/packed_linear.h"
#include "core/quant/quantizer.h"

namespace rilq {

struct PackedBytes {
    int64_t codes = 0;      // the packed codes
    int64_t parameters = 0; // scales, zeros, column groups, table, absmax, offsets
    int64_t total() const { return codes + parameters; }
};

class PackedQuantWeight final : public PackedLinearWeight {
  public:
    // The result's codes and grid (and its record's block offsets / column groups) packed.
    // Throws rilq::Error when the result has no codes, or neither an integer nor an NF grid.
    static std::shared_ptr<const PackedQuantWeight> pack(const QuantResult& result);

    int64_t rows() const override { return layout_.rows; }
    int64_t cols() const override { return layout_.cols; }
    void dequantize_rows(int64_t r0, int64_t r1, float* out) const override;
    int64_t stored_bytes() const override { return bytes().total(); }

    PackedBytes bytes() const;
    int bits() const { return bits_; }
    // Bytes per stored zero point: 1 (uint8) or 2 (int16) for integer grids, 0 for NormalFloat.
    int zero_bytes() const { return zeros_.defined() ? static_cast<int>(zeros_.element_size()) : 0; }
    const GroupLayout& layout() const { return layout_; }

  private:
    void dequantize_affine_rows(int64_t r0, int64_t r1, float* out, uint8_t* codes) const;
    template <typename Zero>
    void dequantize_affine_rows_with(const Zero* zeros, int64_t r0, int64_t r1, float* out,
                                     uint8_t* codes) const;
    void dequantize_nf_rows(int64_t r0, int64_t r1, float* out, uint8_t* codes) const;

    GroupLayout layout_;
    int bits_ = 0;
    int64_t row_bytes_ = 0;
    torch::Tensor codes_; // (O, row_bytes) uint8 packed rows
    // Integer grids (layout_ row groups).
    torch::Tensor scales_;        // (O, G) f32
    torch::Tensor zeros_;         // (O, G) uint8 or int16
    torch::Tensor column_groups_; // (I) int32; undefined = column / group_size
    // NormalFloat grids (layout_ flat blocks).
    std::vector<float> table_; // (2^b)
    // A per-block value: f32 (NB), or 8-bit dynamic-map codes (NB) with an f32 scale per `block`.
    struct BlockValues {
        torch::Tensor values; // (NB) f32, or undefined when coded
        torch::Tensor codes;  // (NB) uint8
        torch::Tensor scales; // (ceil(NB / block)) f32
        int64_t block = 0;
        bool has_mean = false;
        float mean = 0.0f;
        bool defined() const { return values.defined() || codes.defined(); }
        float at(int64_t b) const;
        int64_t bytes() const;
    };
    static BlockValues block_values(const torch::Tensor& values, const torch::Tensor& codes,
                                    const torch::Tensor& scales, int64_t block, bool has_mean, float mean);
    static BlockValues fp32_block_values(const torch::Tensor& values);
    BlockValues absmax_;
    BlockValues offsets_; // undefined = none
};

} // namespace rilq
