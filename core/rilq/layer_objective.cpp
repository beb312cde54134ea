#include "core/rilq/layer_objective.h"

#include "core/model/llama_model.h"
#include "core/rilq/gt_loss.h"
#include "core/rilq/model_loss.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

LayerObjective::LayerObjective(std::shared_ptr<const LlamaModel> teacher, const LlamaModel& student)
    : TeacherObjective(std::move(teacher), student, "layer") {}

LossParts LayerObjective::loss(DataSplit split, const torch::Tensor& ids, int64_t first) {
    (void)first;
    std::vector<torch::Tensor> targets;
    {
        torch::NoGradGuard no_grad;
        ForwardOptions opts;
        opts.want_logits = false;
        opts.want_layer_outputs = true;
        targets = teacher_->forward(ids, opts).layer_outputs;              // L x (b, T, C)
    }
    ForwardOptions opts;
    opts.want_logits = split == DataSplit::Validation;
    opts.want_layer_outputs = true;
    const auto out = student_.forward(ids, opts);
    torch::Tensor sum;
    for (size_t l = 0; l < targets.size(); ++l) {
        auto term = model_discrepancy_mse(out.layer_outputs[l], targets[l]);
        sum = sum.defined() ? sum + term : term;
    }
    LossParts parts;
    parts.a_loss = sum / static_cast<double>(targets.size());
    parts.total = parts.a_loss;
    if (split == DataSplit::Validation) parts.gt_loss = next_token_cross_entropy(out.logits, ids);
    return parts;
}

} // namespace rilq
