// The one quantizer interface: an FP weight (out, in) in, its fake-quantized (dequantized)
// values plus everything needed to explain them (integer codes, scales, zeros, offsets) out.
// Each method lives in its own unit (rtn.cpp, nf.cpp, icq_nf.cpp, icq_int.cpp).
//
// Legend for shape comments: O out_features (rows), I in_features (cols), G groups per row,
// NB absmax blocks over the flattened weight, NS ICQ super-blocks, ND double-quant blocks,
// C candidates of a search.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <torch/types.h>

#include "core/quant/quant_spec.h"

namespace rilq {

// How the weights are cut into quantization groups (the unit of one scale / one entropy).
enum class GroupKind {
    RowGroups,  // RTN, ICQ-int: each row cut into runs of group_size along in_features; the last run of
                // a row is shorter when in_features % group_size != 0
    FlatBlocks, // NF, ICQ-NF: the row-major flattened weight cut into blocks of group_size (bitsandbytes);
                // blocks cross row boundaries when in_features % group_size != 0, the very last is shorter
};

struct GroupLayout {
    GroupKind kind = GroupKind::RowGroups;
    int64_t rows = 0;       // O
    int64_t cols = 0;       // I
    int64_t group_size = 0; // nominal length (per channel: = cols)

    static GroupLayout row_groups(int64_t rows, int64_t cols,
                                  int64_t group_size); // group_size -1 = per channel
    static GroupLayout flat_blocks(int64_t rows, int64_t cols, int64_t block_size);

    int64_t numel() const { return rows * cols; }
    int64_t groups_per_row() const;  // RowGroups only
    int64_t num_groups() const;      // RowGroups: O*G; FlatBlocks: NB
    int64_t last_group_size() const; // length of a row's last group (RowGroups) or of the last block
    bool has_partial_group() const { return last_group_size() != group_size; }
    int64_t partial_groups() const; // how many groups are shorter than group_size
    // Length of group g (0-based, in num_groups() order).
    int64_t group_length(int64_t g) const;

    // Pads into (num_groups, group_size) with `pad` in the missing tail slots (a view-free copy).
    torch::Tensor to_padded(const torch::Tensor& flat_or_2d, double pad) const;
    // (num_groups) int64 lengths.
    torch::Tensor lengths() const;
};

// ICQ-NF search record per block (§1.3): which candidate won and the entropies around it.
struct IcqNfState {
    torch::Tensor median;         // (NB) f32 tau0, the lower median of the block
    torch::Tensor spread;         // (NB) f32 m = max|w - tau0|
    torch::Tensor candidates;     // (C) f32 the offsets f tried, C = 2n+1, ascending
    torch::Tensor choice;         // (NB) int64 index of the winning candidate
    torch::Tensor offset;         // (NB) f32 tau* = f*·m + tau0 before its 8-bit storage
    torch::Tensor offset_codes;   // (NB) uint8 tau1, index into the dynamic map (when quantized)
    torch::Tensor offset_scales;  // (NS) f32 tau2 = max|tau*| over the super-block
    torch::Tensor offset_dequant; // (NB) f32 the tau actually added back (dyn[tau1]·tau2, or tau*)
    torch::Tensor start_entropy;  // (NB) f32 entropy (bits) at the median start f = 0, in search arithmetic
    torch::Tensor best_entropy;   // (NB) f32 entropy (bits) of the winner, in search arithmetic
    torch::Tensor plain_codes;    // (O, I) uint8 plain NF codes of W (tau = 0), for the gain over plain NF
};

// ICQ-int search record per group (§1.4).
struct IcqIntState {
    torch::Tensor candidates;    // (C) f32 clip ratios in the official order: 1, 1.002..1.1, 0.998..0.9
    torch::Tensor choice;        // (O, G) int64 index of the winning ratio
    torch::Tensor start_entropy; // (O, G) f32 entropy at ratio 1 (plain GPTQ-style RTN)
    torch::Tensor best_entropy;  // (O, G) f32 entropy of the winner
};

// bitsandbytes double quantization of the absmax values (compress_statistics).
struct DoubleQuantState {
    float mean = 0.0f;    // c = mean(absmax), subtracted before quantizing
    torch::Tensor codes;  // (NB) uint8 index into the dynamic map
    torch::Tensor scales; // (ND) f32 absmax of (absmax - c) per block of 256
};

struct QuantResult {
    GroupLayout layout;
    int bits = 0;
    torch::Tensor dequantized; // (O, I) f32: the fake-quantized weight
    torch::Tensor codes;       // (O, I) uint8 in [0, 2^bits)
    // Integer methods: per-group affine parameters, w_hat = (code - zero) * scale.
    torch::Tensor scales; // (O, G) f32
    torch::Tensor zeros;  // (O, G) f32 (integer valued)
    // GPTQ: the group of each column, w_hat[:, i] = (code - zeros[:, g]) * scales[:, g] with
    // g = group_index[i] (AutoGPTQ's g_idx); with act-order and dynamic groups a group is a run
    // of the permuted column order. Undefined for the other methods (g = i / group_size).
    torch::Tensor group_index; // (I) int64
    // NF methods: w_hat = table[code] * absmax (+ tau for ICQ).
    torch::Tensor table;     // (2^bits) f32 the NF code table
    torch::Tensor absmax;    // (NB) f32 absmax as used to dequantize (after double quant, if any)
    torch::Tensor absmax_fp; // (NB) f32 absmax before double quantization
    bool double_quantized = false;
    DoubleQuantState double_quant;
    bool has_icq_nf = false;
    IcqNfState icq_nf;
    bool has_icq_int = false;
    IcqIntState icq_int;
};

class Quantizer {
  public:
    virtual ~Quantizer() = default;
    // weight: (O, I) f32 contiguous CPU, finite (quantize_weight checks). `name` is for errors.
    virtual QuantResult quantize(const torch::Tensor& weight, const std::string& name) const = 0;
};

std::unique_ptr<Quantizer> make_quantizer(const QuantSpec& spec);

// The checked entry point: validates the spec, requires a 2-D floating tensor with only finite
// values (a NaN/Inf is an Error naming `name`, the count and the first position), converts to
// f32 contiguous CPU and runs the method's quantizer.
QuantResult quantize_weight(const torch::Tensor& weight, const QuantSpec& spec, const std::string& name);

// Throws rilq::Error if `weight` holds NaN or Inf: "<name>: 3 non-finite values, first nan at [2, 17]".
void check_finite(const torch::Tensor& weight, const std::string& name);

} // namespace rilq
