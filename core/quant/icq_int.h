// IR-QLoRA ICQ, integer path (METHODS §1.4, "integer quantizer/quantizer_icq.py"): start from
// GPTQ's min/max (range includes 0), try the 101 clip ratios p in 1, linspace(1, 1+r, n+1)[1:],
// linspace(1, 1-r, n+1)[1:] (fp32, that order), scale' = (p·max - p·min)/maxq and
// zero' = round(-p·min/scale') (the symmetric form keeps zero = (maxq+1)/2), and keep the p whose
// codes have the strictly highest entropy over the group (per row when per channel).
// Applied here on top of RTN, without GPTQ's Hessian error feedback.
#pragma once
#include <vector>

#include "core/quant/quantizer.h"

namespace rilq {

// The clip ratios in the official order (fp32 torch.linspace values).
std::vector<float> icq_int_candidates(int n, double range);

class IcqIntQuantizer : public Quantizer {
  public:
    explicit IcqIntQuantizer(const QuantSpec& spec) : spec_(spec) {}
    QuantResult quantize(const torch::Tensor& weight, const std::string& name) const override;

  private:
    QuantSpec spec_;
};

} // namespace rilq
