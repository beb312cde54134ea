// IR-QLoRA ICQ, integer path (METHODS §1.4, "integer quantizer/quantizer_icq.py"): start from
// GPTQ's min/max (range includes 0), try the 101 clip ratios p in 1, linspace(1, 1+r, n+1)[1:],
// linspace(1, 1-r, n+1)[1:] (fp32, that order), scale' = (p·max - p·min)/maxq and
// zero' = round(-p·min/scale') (the symmetric form keeps zero = (maxq+1)/2), and keep the p whose
// codes have the strictly highest entropy over the group (per row when per channel).
// Applied here on top of RTN, without GPTQ's Hessian error feedback.
#pragma once
#include <string>
#include <vector>

#include "core/quant/rtn.h"

namespace rilq {

// The clip ratios in the official order (fp32 torch.linspace values).
std::vector<float> icq_int_candidates(int n, double range);

// The search record per group (§1.4).
class IcqIntRecord : public QuantRecord {
  public:
    torch::Tensor candidates;    // (C) f32 clip ratios in the official order: 1, 1.002..1.1, 0.998..0.9
    torch::Tensor choice;        // (O, G) int64 index of the winning ratio
    torch::Tensor start_entropy; // (O, G) f32 entropy at ratio 1 (plain GPTQ-style RTN)
    torch::Tensor best_entropy;  // (O, G) f32 entropy of the winner

    // metric icq_gain_bits (vs ratio 1); quant_stats.json "icq": gain, candidates, choice histogram.
    MethodStats stats(const QuantResult& result, const torch::Tensor& weight,
                      const torch::Tensor& group_entropy, const MetricsOptions& options) const override;
    void add_code_tensors(const QuantResult& result, const QuantSpec& spec, const std::string& prefix,
                          std::vector<std::pair<std::string, torch::Tensor>>& out) const override;
};

// The result's ICQ-int record; Error when it has none.
const IcqIntRecord& icq_int_record(const QuantResult& result);

// The registry entry of "icq-int" (its quantizer, an AffineQuantizer, lives in icq_int.cpp).
const QuantMethod& icq_int_method();

} // namespace rilq
