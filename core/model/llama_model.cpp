#include "core/model/llama_model.h"
#include "core/util/shape_text.h"

#include "core/model/head_attention.h"
#include "core/model/layer_checkpoint.h"
#include "core/model/packed_linear.h"
#include "core/model/rms_norm.h"
#include "core/model/row_parallel_mm.h"
#include "core/model/rope.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>

namespace rilq {

// ----------------------------------------------------------------------------
// names

const std::vector<std::string>& projection_paths() {
    static const std::vector<std::string> names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                   "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                   "mlp.down_proj"};
    return names;
}

namespace {

// Query block of the causal attention (see LlamaModel::attention).
constexpr int64_t kAttentionBlock = 128;

Linear DecoderLayer::*projection_member(const std::string& proj) {
    if (proj == "self_attn.q_proj") return &DecoderLayer::q_proj;
    if (proj == "self_attn.k_proj") return &DecoderLayer::k_proj;
    if (proj == "self_attn.v_proj") return &DecoderLayer::v_proj;
    if (proj == "self_attn.o_proj") return &DecoderLayer::o_proj;
    if (proj == "mlp.gate_proj") return &DecoderLayer::gate_proj;
    if (proj == "mlp.up_proj") return &DecoderLayer::up_proj;
    if (proj == "mlp.down_proj") return &DecoderLayer::down_proj;
    return nullptr;
}

torch::Device parse_device(const std::string& device) {
    try {
        torch::Device d(device);
        if (d.is_cuda() && !torch::cuda::is_available())
            throw Error("device \"" + device +
                        "\" requested but this LibTorch build has no CUDA device available");
        return d;
    } catch (const c10::Error&) {
        throw Error("invalid device \"" + device + "\" (expected cpu or cuda[:N])");
    }
}

} // namespace

// ----------------------------------------------------------------------------
// construction

torch::Tensor Linear::forward(const torch::Tensor& x) const {
    auto y = packed ? packed_linear(x, packed) : row_parallel_linear(x, weight); // (B, T, in) -> (B, T, out)
    if (adapter) y = y + adapter->delta(x);
    return y;
}

int64_t Linear::in_features() const {
    return packed ? packed->cols() : weight.size(1);
}

int64_t Linear::out_features() const {
    return packed ? packed->rows() : weight.size(0);
}

torch::Tensor Linear::dense_weight() const {
    return packed ? dequantize_packed(*packed) : weight;
}

int64_t Linear::weight_bytes() const {
    return packed ? packed->stored_bytes() : weight.numel() * static_cast<int64_t>(weight.element_size());
}

LlamaModel::LlamaModel(LlamaConfig config, const std::map<std::string, torch::Tensor>& hf_state,
                       const ModelOptions& options, const std::string& source)
    : config_(std::move(config)), options_(options) {
    config_.validate(source);
    const auto device = parse_device(options_.device);
    // Names, shapes and dtypes: the same check `rilq info` applies to headers alone.
    std::map<std::string, TensorHeader> headers;
    for (const auto& [name, t] : hf_state)
        headers[name] = {t.sizes().vec(), t.is_floating_point(), std::string(t.dtype().name())};
    config_.check_hf_tensors(headers, source);

    auto take = [&](const std::string& name) {
        return hf_state.at(name).detach().to(device, options_.compute_dtype).contiguous();
    };

    embed_tokens_ = take("model.embed_tokens.weight");
    layers_.resize(static_cast<size_t>(config_.num_hidden_layers));
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i)
        set_layer(i, hf_state);
    norm_ = take("model.norm.weight");
    lm_head_ = config_.tie_word_embeddings ? embed_tokens_ : take("lm_head.weight");
}

LlamaModel LlamaModel::without_layers(LlamaConfig config,
                                      const std::map<std::string, torch::Tensor>& top_state,
                                      const ModelOptions& options, const std::string& source) {
    config.validate(source);
    LlamaModel model;
    model.config_ = std::move(config);
    model.options_ = options;
    const auto device = parse_device(options.device);
    const LlamaConfig& c = model.config_;
    auto take = [&](const std::string& name, const std::vector<int64_t>& shape) {
        auto it = top_state.find(name);
        if (it == top_state.end()) throw Error(source + ": missing tensor \"" + name + "\"");
        if (it->second.sizes().vec() != shape)
            throw Error(source + ": tensor \"" + name + "\" has shape " + shape_text(it->second.sizes()) +
                        ", expected " + shape_text(shape));
        return it->second.detach().to(device, options.compute_dtype).contiguous();
    };
    model.embed_tokens_ = take("model.embed_tokens.weight", {c.vocab_size, c.hidden_size});
    model.norm_ = take("model.norm.weight", {c.hidden_size});
    model.lm_head_ =
        c.tie_word_embeddings ? model.embed_tokens_ : take("lm_head.weight", {c.vocab_size, c.hidden_size});
    model.layers_.resize(static_cast<size_t>(c.num_hidden_layers));
    return model;
}

void LlamaModel::set_layer(int64_t index, const std::map<std::string, torch::Tensor>& hf_state) {
    if (index < 0 || index >= static_cast<int64_t>(layers_.size()))
        throw Error("set_layer: layer " + std::to_string(index) + " out of range [0, " +
                    std::to_string(layers_.size()) + ")");
    const auto device = parse_device(options_.device);
    const std::string p = "model.layers." + std::to_string(index) + ".";
    auto take = [&](const std::string& name) {
        auto it = hf_state.find(p + name);
        if (it == hf_state.end()) throw Error("set_layer: missing tensor \"" + p + name + "\"");
        return it->second.detach().to(device, options_.compute_dtype).contiguous();
    };
    DecoderLayer l;
    l.input_layernorm = take("input_layernorm.weight");
    l.post_attention_layernorm = take("post_attention_layernorm.weight");
    for (const auto& proj : projection_paths())
        (l.*projection_member(proj)).weight = take(proj + ".weight");
    layers_[static_cast<size_t>(index)] = std::move(l);
}

LlamaModel LlamaModel::random(const LlamaConfig& config, uint64_t seed, const ModelOptions& options) {
    config.validate("random model config");
    auto gen = at::detail::createCPUGenerator(seed);
    auto normal = [&](std::vector<int64_t> shape) {
        return torch::randn(shape, gen, torch::kFloat32) * 0.02;
    };
    // Norm weights near 1 (not exactly 1) so tests notice a norm applied with the wrong weight.
    auto norm_w = [&](int64_t n) { return 1.0 + torch::randn({n}, gen, torch::kFloat32) * 0.1; };
    const int64_t C = config.hidden_size, F = config.intermediate_size, V = config.vocab_size;
    std::map<std::string, torch::Tensor> s;
    s["model.embed_tokens.weight"] = normal({V, C});
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        s[p + "input_layernorm.weight"] = norm_w(C);
        s[p + "post_attention_layernorm.weight"] = norm_w(C);
        s[p + "self_attn.q_proj.weight"] = normal({config.q_dim(), C});
        s[p + "self_attn.k_proj.weight"] = normal({config.kv_dim(), C});
        s[p + "self_attn.v_proj.weight"] = normal({config.kv_dim(), C});
        s[p + "self_attn.o_proj.weight"] = normal({C, config.q_dim()});
        s[p + "mlp.gate_proj.weight"] = normal({F, C});
        s[p + "mlp.up_proj.weight"] = normal({F, C});
        s[p + "mlp.down_proj.weight"] = normal({C, F});
    }
    s["model.norm.weight"] = norm_w(C);
    if (!config.tie_word_embeddings) s["lm_head.weight"] = normal({V, C});
    return LlamaModel(config, s, options, "random model");
}

LlamaModel LlamaModel::clone() const {
    // As the former rebuild from hf_state() did: the weights' storage is shared (to() and
    // contiguous() of a ready tensor return it), packed weights too; only the adapters go.
    LlamaModel copy = *this;
    auto share = [](torch::Tensor& t) {
        if (t.defined()) t = t.detach();
    };
    share(copy.embed_tokens_);
    share(copy.norm_);
    copy.lm_head_ = config_.tie_word_embeddings ? copy.embed_tokens_ : lm_head_.detach();
    for (DecoderLayer& l : copy.layers_) {
        share(l.input_layernorm);
        share(l.post_attention_layernorm);
        for (const auto& proj : projection_paths()) {
            Linear& lin = l.*projection_member(proj);
            share(lin.weight);
            lin.adapter.reset();
        }
    }
    return copy;
}

// ----------------------------------------------------------------------------
// named access

std::vector<std::string> LlamaModel::linear_names() const {
    std::vector<std::string> names;
    for (size_t i = 0; i < layers_.size(); ++i)
        for (const auto& p : projection_paths())
            names.push_back("layers." + std::to_string(i) + "." + p);
    return names;
}

Linear& LlamaModel::linear(const std::string& name) {
    return const_cast<Linear&>(static_cast<const LlamaModel&>(*this).linear(name));
}

const Linear& LlamaModel::linear(const std::string& name) const {
    // "layers.<i>.<projection>"
    const std::string prefix = "layers.";
    if (name.rfind(prefix, 0) == 0) {
        const auto dot = name.find('.', prefix.size());
        if (dot != std::string::npos) {
            const std::string index = name.substr(prefix.size(), dot - prefix.size());
            auto member = projection_member(name.substr(dot + 1));
            if (!index.empty() && index.find_first_not_of("0123456789") == std::string::npos && member) {
                const auto i = std::stoul(index);
                if (i < layers_.size()) return layers_[i].*member;
            }
        }
    }
    throw Error("no linear named \"" + name + "\" (expected layers.<0.." + std::to_string(layers_.size()) +
                ">.self_attn.q_proj ... mlp.down_proj)");
}

std::map<std::string, torch::Tensor> LlamaModel::hf_state() const {
    std::map<std::string, torch::Tensor> s;
    s["model.embed_tokens.weight"] = embed_tokens_;
    for (size_t i = 0; i < layers_.size(); ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        const DecoderLayer& l = layers_[i];
        s[p + "input_layernorm.weight"] = l.input_layernorm;
        s[p + "post_attention_layernorm.weight"] = l.post_attention_layernorm;
        for (const auto& proj : projection_paths()) {
            const Linear& lin = l.*projection_member(proj);
            s[p + proj + ".weight"] = lin.packed ? lin.dense_weight().to(options_.compute_dtype) : lin.weight;
        }
    }
    s["model.norm.weight"] = norm_;
    if (!config_.tie_word_embeddings) s["lm_head.weight"] = lm_head_;
    return s;
}

std::vector<torch::Tensor> LlamaModel::parameters() const {
    std::vector<torch::Tensor> params = {embed_tokens_};
    for (const DecoderLayer& l : layers_) {
        params.push_back(l.input_layernorm);
        params.push_back(l.post_attention_layernorm);
        for (const auto& proj : projection_paths()) {
            const Linear& lin = l.*projection_member(proj);
            if (lin.packed)
                throw Error("parameters: " + proj +
                            " is packed (quant.storage \"packed\"), it has no trainable weight");
            params.push_back(lin.weight);
        }
    }
    params.push_back(norm_);
    if (!config_.tie_word_embeddings) params.push_back(lm_head_);
    return params;
}

int64_t LlamaModel::parameter_count() const {
    int64_t n = embed_tokens_.numel() + norm_.numel();
    if (!config_.tie_word_embeddings) n += lm_head_.numel();
    for (const DecoderLayer& l : layers_) {
        n += l.input_layernorm.numel() + l.post_attention_layernorm.numel();
        for (const auto& proj : projection_paths()) {
            const Linear& lin = l.*projection_member(proj);
            n += lin.in_features() * lin.out_features();
        }
    }
    return n;
}

// ----------------------------------------------------------------------------
// forward

torch::Tensor LlamaModel::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
    // HF LlamaRMSNorm: normalise in fp32, cast back, then scale; fused into one pass per row on the
    // CPU (core/model/rms_norm.h), the ATen composition elsewhere.
    if (x.device().is_cpu() && x.scalar_type() == weight.scalar_type() &&
        (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16))
        return fused_rms_norm(x, weight, config_.rms_norm_eps);
    auto xf = x.to(torch::kFloat32);
    auto variance = xf.pow(2).mean(-1, /*keepdim=*/true);
    xf = xf * torch::rsqrt(variance + config_.rms_norm_eps);
    return weight * xf.to(x.scalar_type());
}

torch::Tensor LlamaModel::attention(const DecoderLayer& layer, const std::string& prefix,
                                    const torch::Tensor& x, const RopeTables& rope,
                                    const LinearInputObserver& observer, const LayerKv* past,
                                    LayerKv* present) const {
    const int64_t B = x.size(0), T = x.size(1);
    const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads, HD = config_.head_dim;
    if (observer) {
        observer(prefix + "self_attn.q_proj", x);
        observer(prefix + "self_attn.k_proj", x);
        observer(prefix + "self_attn.v_proj", x);
    }
    auto q = layer.q_proj.forward(x).view({B, T, NH, HD}).transpose(1, 2);  // (B, NH, T, HD)
    auto k = layer.k_proj.forward(x).view({B, T, NKV, HD}).transpose(1, 2); // (B, NKV, T, HD)
    auto v = layer.v_proj.forward(x).view({B, T, NKV, HD}).transpose(1, 2); // (B, NKV, T, HD)
    q = apply_rope(q, rope);
    k = apply_rope(k, rope);
    // Cached positions 0..P-1 come first; the queries are positions P..P+T-1 (kv_cache.h).
    const int64_t P = past ? past->keys.size(2) : 0, S = P + T;
    if (past) {
        k = torch::cat({past->keys.expand({B, NKV, P, HD}), k}, 2);   // (B, NKV, S, HD)
        v = torch::cat({past->values.expand({B, NKV, P, HD}), v}, 2); // (B, NKV, S, HD)
    }
    if (present) *present = {k, v};
    if (!past && !present && x.device().is_cpu() &&
        (q.scalar_type() == torch::kFloat32 || q.scalar_type() == torch::kBFloat16)) {
        // Whole windows on the CPU: one task per (batch row, key/value head), GQA by index.
        auto attended = head_parallel_causal_attention(q, k, v); // (B, T, NH*HD)
        if (observer) observer(prefix + "self_attn.o_proj", attended);
        return layer.o_proj.forward(attended); // (B, T, C)
    }
    if (NKV != NH) {
        // Grouped-query attention: query head h reads key/value head h / (NH/NKV) (HF repeat_kv).
        const int64_t rep = NH / NKV;
        k = k.unsqueeze(2).expand({B, NKV, rep, S, HD}).reshape({B, NH, S, HD});
        v = v.unsqueeze(2).expand({B, NKV, rep, S, HD}).reshape({B, NH, S, HD});
    }
    // Causal attention by blocks of queries. Block [s, e) only needs keys [0, P + e), so the fully
    // masked blocks above the diagonal are never computed (at T = 512: 62% of the dense work,
    // forward and backward). Within a block one batched GEMM computes scale * q k^T + mask
    // (baddbmm), so no separate division or masked_fill pass over the scores runs either way.
    const int64_t BH = B * NH;
    const double scale = 1.0 / std::sqrt(static_cast<double>(HD));
    const auto qf = q.reshape({BH, T, HD}), kf = k.reshape({BH, S, HD}), vf = v.reshape({BH, S, HD});
    const auto mask_options = torch::TensorOptions().dtype(q.scalar_type()).device(x.device());
    std::vector<torch::Tensor> blocks;
    for (int64_t s = 0; s < T; s += kAttentionBlock) {
        const int64_t e = std::min(T, s + kAttentionBlock);
        // Query s + i (position P + s + i) may see keys j <= P + s + i: -inf where j >= P + s + i + 1.
        const auto mask = torch::full({e - s, P + e}, -std::numeric_limits<float>::infinity(), mask_options)
                              .triu(P + s + 1);
        auto scores = torch::baddbmm(mask, qf.narrow(1, s, e - s), kf.narrow(1, 0, P + e).transpose(1, 2),
                                     /*beta=*/1.0, /*alpha=*/scale);                  // (BH, e-s, P+e)
        auto probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type()); // (BH, e-s, P+e)
        blocks.push_back(torch::bmm(probs, vf.narrow(1, 0, P + e)));                  // (BH, e-s, HD)
    }
    auto out =
        (blocks.size() == 1 ? blocks[0] : torch::cat(blocks, 1)).view({B, NH, T, HD}); // (B, NH, T, HD)
    out = out.transpose(1, 2).reshape({B, T, NH * HD});                                // (B, T, NH*HD)
    if (observer) observer(prefix + "self_attn.o_proj", out);
    return layer.o_proj.forward(out); // (B, T, C)
}

torch::Tensor LlamaModel::mlp(const DecoderLayer& layer, const std::string& prefix, const torch::Tensor& x,
                              const LinearInputObserver& observer) const {
    if (observer) {
        observer(prefix + "mlp.gate_proj", x);
        observer(prefix + "mlp.up_proj", x);
    }
    // SwiGLU: down( silu(gate(x)) * up(x) )
    auto h = torch::silu(layer.gate_proj.forward(x)) * layer.up_proj.forward(x); // (B, T, F)
    if (observer) observer(prefix + "mlp.down_proj", h);
    return layer.down_proj.forward(h); // (B, T, C)
}

torch::Tensor LlamaModel::checked_tokens(const torch::Tensor& ids) const {
    auto tokens = ids.to(embed_tokens_.device(), torch::kInt64);
    if (tokens.numel() > 0) {
        const auto lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
        if (lo < 0 || hi >= config_.vocab_size)
            throw Error("forward: token id out of range [0, " + std::to_string(config_.vocab_size) +
                        "): found " + std::to_string(lo < 0 ? lo : hi));
    }
    return tokens;
}

ForwardResult LlamaModel::forward(const torch::Tensor& ids, const ForwardOptions& opts) const {
    if (ids.dim() != 2) throw Error("forward: token ids must be (B, T), found " + shape_text(ids.sizes()));
    const int64_t T = ids.size(1);
    const int64_t P = opts.past ? opts.past->length() : 0; // positions already cached
    if (P + T > config_.max_position_embeddings)
        throw Error("forward: sequence length " + std::to_string(P + T) +
                    " exceeds max_position_embeddings " + std::to_string(config_.max_position_embeddings));
    if (opts.past && (opts.past->layers.size() != layers_.size() ||
                      (opts.past->batch() != 1 && opts.past->batch() != ids.size(0))))
        throw Error("forward: the KV cache has " + std::to_string(opts.past->layers.size()) +
                    " layers of batch " + std::to_string(opts.past->batch()) + ", expected " +
                    std::to_string(layers_.size()) + " layers of batch 1 or " + std::to_string(ids.size(0)));
    const auto device = embed_tokens_.device();
    auto tokens = checked_tokens(ids);
    RopeTables rope = rope_tables(rope_inv_freq(config_), P + T, options_.compute_dtype, device);
    if (P > 0) rope = {rope.cos.narrow(0, P, T), rope.sin.narrow(0, P, T)}; // positions P..P+T-1
    if (opts.present) opts.present->layers.assign(layers_.size(), {});

    ForwardResult result;
    auto x = torch::embedding(embed_tokens_, tokens); // (B, T, C)
    const bool checkpoint = opts.checkpoint_layers && torch::GradMode::is_enabled();
    if (checkpoint && (opts.observer || opts.past || opts.present))
        throw Error("forward: activation checkpointing is for training forwards (no observer, no KV cache)");
    for (size_t i = 0; i < layers_.size(); ++i) {
        const LayerKv* past = opts.past ? &opts.past->layers[i] : nullptr;
        LayerKv* present = opts.present ? &opts.present->layers[i] : nullptr;
        x = checkpoint ? checkpointed_layer_forward(*this, i, x, rope)
                       : layer_forward(i, x, rope, opts.observer, past, present);
        if (opts.want_layer_outputs) result.layer_outputs.push_back(x);
    }
    auto h = rms_norm(x, norm_); // (B, T, C)
    if (opts.want_hidden) result.hidden = h;
    if (opts.want_logits) result.logits = lm_head_forward(h); // (B, T, V)
    return result;
}

torch::Tensor LlamaModel::layer_forward(size_t i, const torch::Tensor& x, const RopeTables& rope,
                                        const LinearInputObserver& observer, const LayerKv* past,
                                        LayerKv* present) const {
    const DecoderLayer& layer = layers_[i];
    const std::string prefix = "layers." + std::to_string(i) + ".";
    auto h = x + attention(layer, prefix, rms_norm(x, layer.input_layernorm), rope, observer, past, present);
    return h + mlp(layer, prefix, rms_norm(h, layer.post_attention_layernorm), observer);
}

torch::Tensor LlamaModel::lm_head_forward(const torch::Tensor& hidden) const {
    return row_parallel_linear(hidden, lm_head_);
}

torch::Tensor LlamaModel::embed(const torch::Tensor& ids) const {
    if (ids.dim() != 2) throw Error("embed: token ids must be (B, T), found " + shape_text(ids.sizes()));
    if (ids.size(1) > config_.max_position_embeddings)
        throw Error("forward: sequence length " + std::to_string(ids.size(1)) +
                    " exceeds max_position_embeddings " + std::to_string(config_.max_position_embeddings));
    return torch::embedding(embed_tokens_, checked_tokens(ids)); // (B, T, C)
}

torch::Tensor LlamaModel::forward_layer(int64_t index, const torch::Tensor& x,
                                        const LinearInputObserver& observer) const {
    if (index < 0 || index >= static_cast<int64_t>(layers_.size()))
        throw Error("forward_layer: layer " + std::to_string(index) + " out of range [0, " +
                    std::to_string(layers_.size()) + ")");
    const DecoderLayer& layer = layers_[static_cast<size_t>(index)];
    if (!layer.input_layernorm.defined())
        throw Error("forward_layer: layer " + std::to_string(index) + " is not loaded");
    const RopeTables rope =
        rope_tables(rope_inv_freq(config_), x.size(1), options_.compute_dtype, embed_tokens_.device());
    return layer_forward(static_cast<size_t>(index), x, rope, observer, nullptr, nullptr);
}

ForwardResult LlamaModel::forward_head(const torch::Tensor& x, bool want_logits, bool want_hidden) const {
    ForwardResult result;
    auto h = rms_norm(x, norm_); // (B, T, C)
    if (want_hidden) result.hidden = h;
    if (want_logits) result.logits = lm_head_forward(h); // (B, T, V)
    return result;
}

} // namespace rilq
