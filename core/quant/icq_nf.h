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
#include <vector>

#include "core/quant/quantizer.h"

namespace rilq {

// The candidate offsets f (fp32), computed like numpy.linspace(-lambda*sigma, lambda*sigma, 2n+1)
// in fp64 then cast to fp32 as torch does when multiplying; n = 0 gives the single offset 0.
std::vector<float> icq_nf_candidates(int n, double lambda);

class IcqNfQuantizer : public Quantizer {
  public:
    explicit IcqNfQuantizer(const QuantSpec& spec) : spec_(spec) {}
    QuantResult quantize(const torch::Tensor& weight, const std::string& name) const override;

  private:
    QuantSpec spec_;
};

} // namespace rilq
