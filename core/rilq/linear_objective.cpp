#include "core/rilq/linear_objective.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/rilq/gt_loss.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

LinearObjective::LinearObjective(std::shared_ptr<const LlamaModel> teacher, const LlamaModel& student,
                                 const LoraSet& adapters)
    : TeacherObjective(std::move(teacher), student, "linear"), adapters_(adapters) {
    torch::NoGradGuard no_grad;
    for (const auto& a : adapters_.adapters()) {
        const auto w = teacher_->linear(a->linear_name()).dense_weight();
        const auto q = student_.linear(a->linear_name()).dense_weight();
        weight_error_[a->linear_name()] = (w - q.to(w.scalar_type())).contiguous();
    }
}

LossParts LinearObjective::loss(DataSplit split, const torch::Tensor& ids, int64_t first) {
    (void)first;
    // FP inputs of every adapted linear on this batch. q, k, v (and gate, up) share one input
    // tensor: the map holds references, not copies.
    std::map<std::string, torch::Tensor> inputs;
    {
        torch::NoGradGuard no_grad;
        ForwardOptions opts;
        opts.want_logits = false;
        opts.observer = [&](const std::string& name, const torch::Tensor& x) {
            if (weight_error_.count(name)) inputs[name] = x;
        };
        teacher_->forward(ids, opts);
    }
    LossParts parts;
    torch::Tensor sum;
    for (const auto& a : adapters_.adapters()) {
        const auto& x = inputs.at(a->linear_name());                        // (b, T, in)
        torch::Tensor residual;                                             // (b, T, out)
        {
            torch::NoGradGuard no_grad;
            residual = torch::linear(x, weight_error_.at(a->linear_name()));
        }
        auto term = torch::mse_loss(a->delta(x).to(torch::kFloat32), residual.to(torch::kFloat32));
        sum = sum.defined() ? sum + term : term;
    }
    parts.a_loss = sum.defined() ? sum / static_cast<double>(adapters_.size()) : torch::zeros({});
    parts.total = parts.a_loss;
    if (split == DataSplit::Validation) parts.gt_loss = next_token_cross_entropy(student_.logits(ids), ids);
    return parts;
}

} // namespace rilq
