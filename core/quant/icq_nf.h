// IR-QLoRA Information Calibration Quantization, NF path (METHODS §1.3, utils.py search()):
// per absmax block, start from the lower median tau0, try tau = f·m + tau0 for the 2n+1
// offsets f in linspace(-lambda·sigma, +lambda·sigma) (m = max|w - tau0|), NF-quantize w - tau
// and keep the f whose code entropy is strictly highest (the first wins ties). Then store the
// NF codes of w - tau*, and tau* itself as a uint8 dynamic-map index times one scale tau2 per
// super-block of 256 blocks. w_hat = table[code]·a_hat + dyn[tau1]·tau2.
//
// Generalisations the official code does not need (it requires numel % 16384 == 0): a shorter
// last block (entropy over its own length) and a shorter last super-block.
// Per candidate the codes are never materialised: on the sorted block, the histogram follows
// from where each threshold splits it (see search_block in icq_nf.cpp).
#pragma once
#include <string>
#include <vector>

#include "core/quant/nf.h"

namespace rilq {

// The candidate offsets f (fp32), computed like numpy.linspace(-lambda*sigma, lambda*sigma, 2n+1)
// in fp64 then cast to fp32 as torch does when multiplying; n = 0 gives the single offset 0.
std::vector<float> icq_nf_candidates(int n, double lambda);

// The search record per block (§1.3): which candidate won and the entropies around it, and how
// the offsets are stored; plus NF's absmax and double quantization.
class IcqNfRecord : public NfRecord {
  public:
    torch::Tensor median;          // (NB) f32 tau0, the lower median of the block
    torch::Tensor spread;          // (NB) f32 m = max|w - tau0|
    torch::Tensor candidates;      // (C) f32 the offsets f tried, C = 2n+1, ascending
    torch::Tensor choice;          // (NB) int64 index of the winning candidate
    torch::Tensor offset;          // (NB) f32 tau* = f*·m + tau0 before its 8-bit storage
    torch::Tensor offset_codes;    // (NB) uint8 tau1, index into the dynamic map (when quantized)
    torch::Tensor offset_scales;   // (NS) f32 tau2 = max|tau*| over the super-block
    int64_t offset_superblock = 0; // S, blocks per tau2
    bool offset_quantized = false; // offset_dequant is dyn[tau1]·tau2 (icq_quantize_offset)
    torch::Tensor offset_dequant;  // (NB) f32 the tau actually added back (dyn[tau1]·tau2, or tau*)
    torch::Tensor start_entropy;   // (NB) f32 entropy (bits) at the median start f = 0, in search arithmetic
    torch::Tensor best_entropy;    // (NB) f32 entropy (bits) of the winner, in search arithmetic
    torch::Tensor plain_codes;     // (O, I) uint8 plain NF codes of W (tau = 0), for the gain over plain NF

    // metrics icq_gain_bits (vs the median start), icq_gain_vs_plain_bits, icq_blocks_losing_vs_plain;
    // quant_stats.json "icq": gains, candidates, choice histogram, tau* / max|w| per block.
    MethodStats stats(const QuantResult& result, const torch::Tensor& weight,
                      const torch::Tensor& group_entropy, const MetricsOptions& options) const override;
    void add_code_tensors(const QuantResult& result, const QuantSpec& spec, const std::string& prefix,
                          std::vector<std::pair<std::string, torch::Tensor>>& out) const override;
    bool uses_dynamic_map() const override { return true; }
    torch::Tensor block_offsets() const override { return offset_dequant; }
    void drop_working_copies() override { plain_codes = torch::Tensor(); }
};

// The result's ICQ-NF record; Error when it has none.
const IcqNfRecord& icq_nf_record(const QuantResult& result);

// The registry entry of "icq-nf" (its quantizer, an NfQuantizer, lives in icq_nf.cpp).
const QuantMethod& icq_nf_method();

} // namespace rilq
