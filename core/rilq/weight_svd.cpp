#include "core/rilq/weight_svd.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"

#include <torch/torch.h>

#include <cmath>

namespace rilq {

void init_adapters_from_weight_svd(const LlamaModel& teacher, const LlamaModel& student, LoraSet& adapters) {
    torch::NoGradGuard no_grad;
    for (const auto& a : adapters.adapters()) {
        const auto& name = a->linear_name();
        const auto error = teacher.linear(name).weight.to(torch::kFloat32) -
                           student.linear(name).weight.to(torch::kFloat32);   // (out, in)
        // U (out, k), S (k), Vh (k, in), k = min(out, in)
        auto [U, S, Vh] = torch::linalg_svd(error, /*full_matrices=*/false);
        const int64_t r = a->rank();
        const int64_t k = std::min<int64_t>(r, S.size(0));
        const auto root = torch::sqrt(S.slice(0, 0, k) / a->scale());       // (k)
        auto A = torch::zeros({r, a->in_features()}, torch::kFloat32);
        auto B = torch::zeros({a->out_features(), r}, torch::kFloat32);
        A.slice(0, 0, k).copy_(root.unsqueeze(1) * Vh.slice(0, 0, k));
        B.slice(1, 0, k).copy_(U.slice(1, 0, k) * root.unsqueeze(0));
        a->set_parameter("lora_A", A);
        a->set_parameter("lora_B", B);
    }
}

} // namespace rilq
