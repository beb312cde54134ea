// Adapters on every projection with B drawn too: B = 0 at init (PEFT's) would leave A without a
// gradient and the adapters without effect on the model's outputs and input gradients, so tests
// comparing two students' gradients draw B (seed 7, scale 0.05).
#pragma once
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace rilq::test {

inline LoraSet attach_drawn_lora(LlamaModel& model) {
    LoraConfig config;
    config.r = 4;
    config.alpha = 8.0;
    LoraSet set = attach_lora(model, config);
    auto gen = at::detail::createCPUGenerator(7);
    for (const auto& a : set.adapters())
        a->set_parameter("lora_B", torch::randn({a->out_features(), a->rank()}, gen, torch::kFloat32) * 0.05);
    return set;
}

} // namespace rilq::test
