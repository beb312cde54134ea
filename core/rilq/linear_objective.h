// Scope "linear" (RILQ paper's "Linear-Loss" baseline): every adapter is fitted to its own
// linear's output error on the FP model's calibration activations,
//   L_lin = mean over adapted linears of  mean( (s B A X - X (W - Q(W))^T)^2 )
// where X (b, T, in) is that linear's input in the FP model, captured through
// ForwardOptions::observer on each batch. The adapters do not interact: each one's gradient
// comes only from its own term. No ground-truth term; validation also reports the student's
// next-token CE for comparison with the other scopes, but early stopping uses L_lin alone.
// Keeps the teacher alive for the whole run (FP activations are recomputed per batch rather
// than cached: caching every linear's input would be ~L * (3C + F) values per token) and holds
// W - Q(W) for each adapted linear: three copies of the projection weights in all.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/rilq/objective.h"

namespace rilq {

class LoraSet;

class LinearObjective final : public TeacherObjective {
  public:
    LinearObjective(std::shared_ptr<const LlamaModel> teacher, const LlamaModel& student,
                    const LoraSet& adapters);

    LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) override;
    std::string name() const override { return "linear"; }

  private:
    const LoraSet& adapters_;
    std::map<std::string, torch::Tensor> weight_error_; // W - Q(W) per adapted linear (out, in)
};

} // namespace rilq
