// Hyper-parameters of a Llama-family model, read from / written to HF `config.json`.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace rilq {

// HF `rope_scaling` with "rope_type": "llama3" (Llama-3.1 frequency scaling).
struct RopeScaling {
    std::string rope_type;            // "llama3" or "linear"; empty = none
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    int64_t original_max_position_embeddings = 8192;
};

// One tensor of a checkpoint as its header (or the loaded tensor) describes it.
struct TensorHeader {
    std::vector<int64_t> shape;
    bool is_float = true;
    std::string dtype; // as the source names it ("F32", "long"), for the error
};

struct LlamaConfig {
    int64_t hidden_size = 0;          // C: model width
    int64_t intermediate_size = 0;    // FFN width of SwiGLU
    int64_t num_hidden_layers = 0;    // L
    int64_t num_attention_heads = 0;  // NH
    int64_t num_key_value_heads = 0;  // NKV (< NH means grouped-query attention)
    int64_t head_dim = 0;             // HD, defaults to C / NH
    double rms_norm_eps = 1e-5;
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    int64_t max_position_embeddings = 2048;
    int64_t vocab_size = 0;           // V
    bool tie_word_embeddings = false;
    std::string torch_dtype = "float32"; // storage dtype of the checkpoint
    int64_t bos_token_id = 1;
    int64_t eos_token_id = 2;

    int64_t q_dim() const { return num_attention_heads * head_dim; }
    int64_t kv_dim() const { return num_key_value_heads * head_dim; }

    // Parses HF config.json content; `source` (a path) is named in every error.
    static LlamaConfig from_json(const nlohmann::json& j, const std::string& source);
    static LlamaConfig from_file(const std::string& path);
    nlohmann::json to_json() const;

    // Checks the shapes are consistent (heads divide, etc.); throws rilq::Error naming `source`.
    void validate(const std::string& source) const;

    // The tensors an HF Llama checkpoint of this config consists of, in module order, with their
    // shapes (lm_head.weight only when the head is not tied to the embedding).
    std::vector<std::pair<std::string, std::vector<int64_t>>> hf_tensor_shapes() const;
    // The one check a checkpoint's tensors get, from loaded tensors (LlamaModel) or from headers
    // alone (`rilq info`): every tensor of hf_tensor_shapes() present with its shape and a float
    // dtype, and nothing else (RoPE inv_freq buffers and a tied head's copy are tolerated).
    // Error naming `source` and the first offending tensor.
    void check_hf_tensors(const std::map<std::string, TensorHeader>& tensors,
                          const std::string& source) const;
};

} // namespace rilq
