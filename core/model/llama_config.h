// Hyper-parameters of a Llama-family model, read from / written to HF `config.json`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

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
};

} // namespace rilq
