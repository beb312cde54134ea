// The Llama decoder (Llama-2 and Llama-3 shapes) as plain tensors and explicit ops, read
// top to bottom like llama2.c's run.c. Legend for shape comments:
//   B batch, T sequence length, C hidden_size, NH query heads, NKV key/value heads,
//   HD head_dim, F intermediate_size, V vocab_size, L layers.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include "core/util/tensor.h"

#include "core/model/kv_cache.h"
#include "core/model/llama_config.h"

namespace rilq {

struct RopeTables; // core/model/rope.h

// Something that adds to a linear's output: LoRA adapters implement it (core/lora).
// delta(x) gets the linear's input (B, T, in) and returns (B, T, out).
class LinearAdapter {
public:
    virtual ~LinearAdapter() = default;
    virtual torch::Tensor delta(const torch::Tensor& x) = 0;
    // The leaves delta() trains: a checkpointed layer (ForwardOptions::checkpoint_layers) returns
    // their gradients from its recomputed forward.
    virtual std::vector<torch::Tensor> trainable_tensors() const = 0;
    // The generator delta() draws from now (training dropout), undefined when it draws nothing: a
    // checkpointed layer replays its state so the recomputation draws the same masks.
    virtual at::Generator random_source() const { return {}; }
};

class PackedLinearWeight; // core/model/packed_linear.h

// One projection of a decoder layer: y = x W^T (+ adapter delta). Llama has no biases.
// The weight is either dense (`weight`) or packed (`packed`, dequantized on the fly; quantized
// students with quant.storage "packed"), never both.
struct Linear {
    torch::Tensor weight; // (out, in), compute dtype, no grad; undefined when packed
    std::shared_ptr<const PackedLinearWeight> packed; // optional compact form of the weight
    std::shared_ptr<LinearAdapter> adapter;           // optional

    torch::Tensor forward(const torch::Tensor& x) const;
    int64_t in_features() const;
    int64_t out_features() const;
    // The weight as a dense tensor: `weight` itself, or the packed form dequantized (a new f32 tensor).
    torch::Tensor dense_weight() const;
    // Bytes the weight holds in memory (dense tensor or packed form).
    int64_t weight_bytes() const;
};

struct DecoderLayer {
    torch::Tensor input_layernorm;            // (C) RMSNorm weight before attention
    torch::Tensor post_attention_layernorm;   // (C) RMSNorm weight before the MLP
    Linear q_proj, k_proj, v_proj, o_proj;    // (NH*HD, C) (NKV*HD, C) (NKV*HD, C) (C, NH*HD)
    Linear gate_proj, up_proj, down_proj;     // (F, C) (F, C) (C, F)
};

// Called with each linear's input during a forward (for calibration statistics).
using LinearInputObserver = std::function<void(const std::string& linear_name, const torch::Tensor& x)>;

struct ForwardOptions {
    bool want_logits = true;
    bool want_hidden = false;          // final hidden state after the last RMSNorm (B, T, C)
    bool want_layer_outputs = false;   // each decoder layer's output (B, T, C), L entries
    LinearInputObserver observer;      // optional
    // Continuing a sequence (task evaluation): `past` holds positions 0..P-1 already run, so the
    // ids are positions P..P+T-1; a past of batch 1 serves every row of a larger batch.
    // `present`, when given, receives past + this call's keys and values.
    const KvCache* past = nullptr;
    KvCache* present = nullptr;
    // Activation checkpointing (rilq.activation_checkpointing): each decoder layer runs without
    // keeping its activations and runs again inside the backward, so the graph holds one (B, T, C)
    // input per layer instead of every intermediate. Gradients are the same bit for bit. Only
    // for training forwards (no observer, no KV cache); ignored when grad mode is off.
    bool checkpoint_layers = false;
};

struct ForwardResult {
    torch::Tensor logits;                    // (B, T, V) if asked
    torch::Tensor hidden;                    // (B, T, C) if asked
    std::vector<torch::Tensor> layer_outputs;
};

struct ModelOptions {
    torch::Dtype compute_dtype = at::kFloat;
    std::string device = "cpu";        // "cpu" or "cuda[:N]" when LibTorch has CUDA
};

class LlamaModel {
public:
    LlamaModel() = default;
    // Builds a model from HF-named tensors ("model.layers.0.self_attn.q_proj.weight", ...).
    // Checks every expected tensor is present with its shape; `source` is named in errors.
    LlamaModel(LlamaConfig config, const std::map<std::string, torch::Tensor>& hf_state,
               const ModelOptions& options, const std::string& source);

    // Layer streaming (core/io/layer_stream.h): a model whose decoder layers are filled in one at
    // a time, so a checkpoint never has to be held whole. `top_state` holds the embedding, the
    // final norm and (untied) lm_head under HF names; the L layers start empty (undefined tensors)
    // until set_layer() fills them.
    static LlamaModel without_layers(LlamaConfig config,
                                     const std::map<std::string, torch::Tensor>& top_state,
                                     const ModelOptions& options, const std::string& source);
    // Layer `index` from HF-named tensors ("model.layers.<index>.self_attn.q_proj.weight", ...),
    // converted as the constructor converts them; replaces what the layer held.
    void set_layer(int64_t index, const std::map<std::string, torch::Tensor>& hf_state);

    // A model with N(0, 0.02) weights (norms = 1), for tests and benchmarks.
    static LlamaModel random(const LlamaConfig& config, uint64_t seed, const ModelOptions& options = {});

    const LlamaConfig& config() const { return config_; }
    const ModelOptions& options() const { return options_; }

    // ids: (B, T) int64 token ids. RILQ training and PPL run full windows; task evaluation
    // passes a KV cache in the options to continue from a shared prefix.
    ForwardResult forward(const torch::Tensor& ids, const ForwardOptions& opts = {}) const;
    torch::Tensor logits(const torch::Tensor& ids) const { return forward(ids).logits; }
    // Applies the final norm's output projection: (B, T, C) -> (B, T, V).
    torch::Tensor lm_head_forward(const torch::Tensor& hidden) const;

    // The three steps of forward() (no KV cache), for a caller that runs one decoder layer over
    // many windows before the next one is loaded. They are forward()'s own code, so chaining them
    // gives forward()'s result bit for bit.
    torch::Tensor embed(const torch::Tensor& ids) const; // (B, T) -> (B, T, C)
    torch::Tensor forward_layer(int64_t index, const torch::Tensor& x,
                                const LinearInputObserver& observer = {}) const; // (B, T, C) -> (B, T, C)
    ForwardResult forward_head(const torch::Tensor& x, bool want_logits, bool want_hidden) const;

    // The seven projections of every layer, by stable name: "layers.3.self_attn.q_proj",
    // "layers.3.mlp.down_proj", ... in layer order, then q,k,v,o,gate,up,down.
    std::vector<std::string> linear_names() const;
    Linear& linear(const std::string& name);
    const Linear& linear(const std::string& name) const;

    // Tensors under HF names, in the checkpoint order (lm_head omitted when tied).
    std::map<std::string, torch::Tensor> hf_state() const;
    int64_t parameter_count() const;  // embedding + layers + norm (+ lm_head when untied)

    std::vector<DecoderLayer>& layers() { return layers_; }
    const std::vector<DecoderLayer>& layers() const { return layers_; }
    const torch::Tensor& embed_tokens() const { return embed_tokens_; }
    const torch::Tensor& final_norm() const { return norm_; }
    const torch::Tensor& lm_head_weight() const { return lm_head_; }

    // Every weight tensor once (the tied lm_head is the embedding), for full training
    // (`rilq pretrain`): the handles share storage with the model, so optimizers update it.
    std::vector<torch::Tensor> parameters() const;

    // A copy without the adapters. Its weight tensors share storage with this model's (as the
    // former rebuild from hf_state() did): replace a copy's weights, never modify them in place.
    LlamaModel clone() const;

    // Decoder layer i on its input x (B, T, C): x + attention, then + MLP. The one place a layer
    // runs, whether checkpointed or not.
    torch::Tensor layer_forward(size_t i, const torch::Tensor& x, const RopeTables& rope,
                                const LinearInputObserver& observer, const LayerKv* past, LayerKv* present) const;

private:
    torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
    torch::Tensor checked_tokens(const torch::Tensor& ids) const; // on the model's device, ids in range
    torch::Tensor attention(const DecoderLayer& layer, const std::string& prefix, const torch::Tensor& x,
                            const RopeTables& rope, const LinearInputObserver& observer, const LayerKv* past,
                            LayerKv* present) const;
    torch::Tensor mlp(const DecoderLayer& layer, const std::string& prefix, const torch::Tensor& x,
                      const LinearInputObserver& observer) const;

    LlamaConfig config_;
    ModelOptions options_;
    torch::Tensor embed_tokens_;   // (V, C)
    std::vector<DecoderLayer> layers_;
    torch::Tensor norm_;           // (C)
    torch::Tensor lm_head_;        // (V, C); the same storage as embed_tokens_ when tied
};

// Module paths of the seven projections inside a decoder layer ("self_attn.q_proj", ...,
// "mlp.down_proj"), in the order of projection_names() (core/model/projections.h) and linear_names().
const std::vector<std::string>& projection_paths();

} // namespace rilq
