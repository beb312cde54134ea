// Scope "layer" (RILQ paper's "Layer-Loss" baseline): the student's decoder-layer outputs are
// matched to the FP model's, layer by layer, on the same windows:
//   L_layer = mean over layers l of  mean( (h_l(student) - h_l(FP))^2 )
// with h_l the residual stream after layer l (ForwardOptions::want_layer_outputs). Each layer
// sees the student's own previous layers (LlamaModel runs whole forwards only), so an error in
// layer l is also visible to the terms of later layers; it is still a per-layer objective, with
// no final norm, head or ground-truth term. Validation reports the student's next-token CE too;
// early stopping uses L_layer alone. The teacher stays alive and its layer outputs are
// recomputed per batch (caching them would take L * N * T * C values).
#pragma once
#include <memory>

#include "core/rilq/objective.h"

namespace rilq {

class LayerObjective final : public TeacherObjective {
  public:
    LayerObjective(std::shared_ptr<const LlamaModel> teacher, const LlamaModel& student);

    LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) override;
    std::string name() const override { return "layer"; }
};

} // namespace rilq
