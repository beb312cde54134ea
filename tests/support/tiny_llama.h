// Tiny random Llama models for the LoRA / RILQ tests, and a stand-in fake quantizer so the
// tests do not depend on core/quant: asymmetric min-max round-to-nearest per group of `group`
// input columns (the OmniQuant-style RTN of METHODS.md 1.1), applied to the seven projections.
#pragma once
#include <map>
#include <string>

#include <torch/torch.h>

#include "core/model/llama_model.h"

namespace rilq::test {

// dim 32, 2 layers, 4 query heads over 2 KV heads (GQA), FFN 64, vocab 64.
inline LlamaConfig tiny_llama_config() {
    LlamaConfig c;
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 8;
    c.vocab_size = 64;
    c.max_position_embeddings = 64;
    return c;
}

inline torch::Tensor rtn_fake_quantize(const torch::Tensor& w, int bits, int64_t group) {
    const int64_t out = w.size(0), in = w.size(1);
    const double maxq = static_cast<double>((1 << bits) - 1);
    auto g = w.to(torch::kFloat32).reshape({out, in / group, group});
    auto lo = std::get<0>(g.min(-1, true)), hi = std::get<0>(g.max(-1, true));
    auto scale = ((hi - lo) / maxq).clamp(1e-5, 1e4);
    auto zero = torch::round(-lo / scale);
    auto q = torch::clamp(torch::round(g / scale) + zero, 0.0, maxq);
    return ((q - zero) * scale).reshape({out, in}).to(w.scalar_type());
}

// A separate model (no shared storage) whose projections are RTN-quantized.
inline LlamaModel fake_quantized_copy(const LlamaModel& fp, int bits = 2, int64_t group = 16) {
    std::map<std::string, torch::Tensor> s;
    for (const auto& [name, t] : fp.hf_state()) {
        const bool projection = name.find("_proj.weight") != std::string::npos;
        s[name] = projection ? rtn_fake_quantize(t, bits, group) : t.clone();
    }
    return LlamaModel(fp.config(), s, fp.options(), "fake-quantized copy");
}

// (N, T) int64 windows of random tokens.
inline torch::Tensor random_windows(int64_t n, int64_t t, int64_t vocab, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    return torch::randint(0, vocab, {n, t}, gen, torch::kLong);
}

} // namespace rilq::test

namespace rilq::test {

// A random model with enough contrast to have structure (peaked next-token distributions):
// projections and head scaled up from N(0, 0.02). Used where a test needs the student to be
// able to learn something that carries over from training to validation windows.
inline LlamaModel structured_random_model(const LlamaConfig& config, uint64_t seed) {
    const auto base = LlamaModel::random(config, seed);
    std::map<std::string, torch::Tensor> s;
    for (const auto& [name, t] : base.hf_state()) {
        double gain = 1.0;
        if (name.find("_proj.weight") != std::string::npos) gain = 4.0;
        if (name == "lm_head.weight" || name == "model.embed_tokens.weight") gain = 10.0;
        s[name] = t * gain;
    }
    return LlamaModel(config, s, base.options(), "structured random model");
}

// (n, t) windows sampled from the model itself (temperature 1), first token uniform.
inline torch::Tensor sample_windows(const LlamaModel& model, int64_t n, int64_t t, uint64_t seed) {
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(seed);
    auto ids = torch::randint(0, model.config().vocab_size, {n, 1}, gen, torch::kLong);
    for (int64_t i = 1; i < t; ++i) {
        const auto probs = torch::softmax(model.logits(ids).select(1, i - 1), -1); // (n, V)
        ids = torch::cat({ids, torch::multinomial(probs, 1, false, gen)}, 1);
    }
    return ids;
}

} // namespace rilq::test
