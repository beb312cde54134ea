#include "core/rilq/weight_svd.h"

#include "core/lora/init/low_rank.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"

#include <torch/torch.h>

namespace rilq {

void init_adapters_from_weight_svd(const LlamaModel& teacher, const LlamaModel& student, LoraSet& adapters) {
    torch::NoGradGuard no_grad;
    for (const auto& a : adapters.adapters()) {
        const auto& name = a->linear_name();
        const auto error = teacher.linear(name).dense_weight().to(torch::kFloat32) -
                           student.linear(name).dense_weight().to(torch::kFloat32); // (out, in)
        const LowRankFactors f = svd_factors(error, a->rank(), a->scale());
        a->set_parameter("lora_A", f.A);
        a->set_parameter("lora_B", f.B);
    }
}

} // namespace rilq
