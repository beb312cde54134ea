#include "core/model/llama_config.h"

#include "core/util/error.h"
#include "core/util/json_read.h"
#include "core/util/shape_text.h"

#include <nlohmann/json.hpp>

namespace rilq {

namespace {

using json = nlohmann::json;

int64_t required_int(const json& j, const char* field, const std::string& source) {
    if (!j.contains(field)) throw Error(source + ": missing field \"" + field + "\"");
    const auto& v = j.at(field);
    if (!v.is_number_integer())
        throw Error(source + ": field \"" + field + "\" must be an integer, found " + json_excerpt(v));
    return v.get<int64_t>();
}

template <typename T>
T optional_value(const json& j, const char* field, T fallback, const std::string& source) {
    if (!j.contains(field) || j.at(field).is_null()) return fallback;
    try {
        return j.at(field).get<T>();
    } catch (const json::exception&) {
        throw Error(source + ": field \"" + field + "\" has the wrong type: " + json_excerpt(j.at(field)));
    }
}

// bos/eos may be an int or (Llama-3 instruct) a list of ints: the first one is the BOS/EOS we use.
int64_t token_id(const json& j, const char* field, int64_t fallback, const std::string& source) {
    if (!j.contains(field) || j.at(field).is_null()) return fallback;
    const auto& v = j.at(field);
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v.front().is_number_integer()) return v.front().get<int64_t>();
    throw Error(source + ": field \"" + field + "\" must be an integer or a list of integers, found " +
                json_excerpt(v));
}

} // namespace

LlamaConfig LlamaConfig::from_json(const json& j, const std::string& source) {
    if (!j.is_object()) throw Error(source + ": expected a JSON object");
    const std::string model_type = optional_value<std::string>(j, "model_type", "", source);
    if (model_type.empty()) throw Error(source + ": missing field \"model_type\" (expected \"llama\")");
    if (model_type != "llama")
        throw Error(source + ": unsupported model_type \"" + clip_for_message(model_type, 60) +
                    "\" (expected \"llama\")");

    LlamaConfig c;
    c.hidden_size = required_int(j, "hidden_size", source);
    c.intermediate_size = required_int(j, "intermediate_size", source);
    c.num_hidden_layers = required_int(j, "num_hidden_layers", source);
    c.num_attention_heads = required_int(j, "num_attention_heads", source);
    c.num_key_value_heads = j.contains("num_key_value_heads") && !j.at("num_key_value_heads").is_null()
                                ? required_int(j, "num_key_value_heads", source)
                                : c.num_attention_heads;
    c.head_dim = j.contains("head_dim") && !j.at("head_dim").is_null()
                     ? required_int(j, "head_dim", source)
                     : (c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
    c.vocab_size = required_int(j, "vocab_size", source);
    c.rms_norm_eps = optional_value<double>(j, "rms_norm_eps", 1e-6, source);
    c.rope_theta = optional_value<double>(j, "rope_theta", 10000.0, source);
    c.max_position_embeddings = optional_value<int64_t>(j, "max_position_embeddings", 2048, source);
    c.tie_word_embeddings = optional_value<bool>(j, "tie_word_embeddings", false, source);
    c.torch_dtype = optional_value<std::string>(j, "torch_dtype", "float32", source);
    c.bos_token_id = token_id(j, "bos_token_id", 1, source);
    c.eos_token_id = token_id(j, "eos_token_id", 2, source);

    if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null()) {
        const auto& rs = j.at("rope_scaling");
        const std::string where = source + ": rope_scaling";
        if (!rs.is_object()) throw Error(where + " must be an object, found " + json_excerpt(rs));
        // HF accepts both "rope_type" (new) and "type" (old) for the kind of scaling.
        std::string type = optional_value<std::string>(rs, "rope_type", "", where);
        if (type.empty()) type = optional_value<std::string>(rs, "type", "", where);
        if (type != "llama3" && type != "linear" && type != "default")
            throw Error(where + ": unsupported rope_type \"" + clip_for_message(type, 60) +
                        "\" (supported: llama3, linear)");
        c.rope_scaling.rope_type = type == "default" ? "" : type;
        c.rope_scaling.factor = optional_value<double>(rs, "factor", 1.0, where);
        if (type == "llama3") {
            for (const char* f : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
                if (!rs.contains(f)) throw Error(where + ": missing field \"" + f + "\" for rope_type llama3");
            c.rope_scaling.low_freq_factor = rs.at("low_freq_factor").get<double>();
            c.rope_scaling.high_freq_factor = rs.at("high_freq_factor").get<double>();
            c.rope_scaling.original_max_position_embeddings =
                rs.at("original_max_position_embeddings").get<int64_t>();
        }
    }
    c.validate(source);
    return c;
}

LlamaConfig LlamaConfig::from_file(const std::string& path) {
    return from_json(read_json_file(path), path);
}

json LlamaConfig::to_json() const {
    json j = {
        {"architectures", {"LlamaForCausalLM"}},
        {"model_type", "llama"},
        {"hidden_size", hidden_size},
        {"intermediate_size", intermediate_size},
        {"num_hidden_layers", num_hidden_layers},
        {"num_attention_heads", num_attention_heads},
        {"num_key_value_heads", num_key_value_heads},
        {"head_dim", head_dim},
        {"hidden_act", "silu"},
        {"rms_norm_eps", rms_norm_eps},
        {"rope_theta", rope_theta},
        {"max_position_embeddings", max_position_embeddings},
        {"vocab_size", vocab_size},
        {"tie_word_embeddings", tie_word_embeddings},
        {"torch_dtype", torch_dtype},
        {"bos_token_id", bos_token_id},
        {"eos_token_id", eos_token_id},
        {"attention_bias", false},
        {"mlp_bias", false},
    };
    if (!rope_scaling.rope_type.empty()) {
        json rs = {{"rope_type", rope_scaling.rope_type}, {"factor", rope_scaling.factor}};
        if (rope_scaling.rope_type == "llama3") {
            rs["low_freq_factor"] = rope_scaling.low_freq_factor;
            rs["high_freq_factor"] = rope_scaling.high_freq_factor;
            rs["original_max_position_embeddings"] = rope_scaling.original_max_position_embeddings;
        }
        j["rope_scaling"] = rs;
    } else {
        j["rope_scaling"] = nullptr;
    }
    return j;
}

void LlamaConfig::validate(const std::string& source) const {
    auto positive = [&](int64_t v, const char* field) {
        if (v <= 0) throw Error(source + ": field \"" + field + "\" must be positive, found " + std::to_string(v));
    };
    positive(hidden_size, "hidden_size");
    positive(intermediate_size, "intermediate_size");
    positive(num_hidden_layers, "num_hidden_layers");
    positive(num_attention_heads, "num_attention_heads");
    positive(num_key_value_heads, "num_key_value_heads");
    positive(head_dim, "head_dim");
    positive(vocab_size, "vocab_size");
    positive(max_position_embeddings, "max_position_embeddings");
    if (num_attention_heads % num_key_value_heads != 0)
        throw Error(source + ": num_attention_heads (" + std::to_string(num_attention_heads) +
                    ") is not a multiple of num_key_value_heads (" + std::to_string(num_key_value_heads) + ")");
    if (head_dim % 2 != 0) throw Error(source + ": head_dim must be even for RoPE, found " + std::to_string(head_dim));
    if (!(rms_norm_eps > 0)) throw Error(source + ": rms_norm_eps must be positive");
    if (!(rope_theta > 0)) throw Error(source + ": rope_theta must be positive");
    if (torch_dtype != "float32" && torch_dtype != "bfloat16" && torch_dtype != "float16")
        throw Error(source + ": unsupported torch_dtype \"" + clip_for_message(torch_dtype, 60) +
                    "\" (float32, bfloat16, float16)");
}

std::vector<std::pair<std::string, std::vector<int64_t>>> LlamaConfig::hf_tensor_shapes() const {
    const int64_t C = hidden_size, F = intermediate_size, V = vocab_size;
    const int64_t QD = q_dim(), KVD = kv_dim();
    std::vector<std::pair<std::string, std::vector<int64_t>>> out = {{"model.embed_tokens.weight", {V, C}}};
    for (int64_t i = 0; i < num_hidden_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        out.push_back({p + "input_layernorm.weight", {C}});
        out.push_back({p + "post_attention_layernorm.weight", {C}});
        out.push_back({p + "self_attn.q_proj.weight", {QD, C}});
        out.push_back({p + "self_attn.k_proj.weight", {KVD, C}});
        out.push_back({p + "self_attn.v_proj.weight", {KVD, C}});
        out.push_back({p + "self_attn.o_proj.weight", {C, QD}});
        out.push_back({p + "mlp.gate_proj.weight", {F, C}});
        out.push_back({p + "mlp.up_proj.weight", {F, C}});
        out.push_back({p + "mlp.down_proj.weight", {C, F}});
    }
    out.push_back({"model.norm.weight", {C}});
    if (!tie_word_embeddings) out.push_back({"lm_head.weight", {V, C}});
    return out;
}

void LlamaConfig::check_hf_tensors(const std::map<std::string, TensorHeader>& tensors,
                                   const std::string& source) const {
    std::map<std::string, bool> used;
    for (const auto& [name, shape] : hf_tensor_shapes()) {
        const auto it = tensors.find(name);
        if (it == tensors.end()) throw Error(source + ": missing tensor \"" + name + "\"");
        if (it->second.shape != shape)
            throw Error(source + ": tensor \"" + name + "\" has shape " + shape_text(it->second.shape) +
                        ", expected " + shape_text(shape));
        if (!it->second.is_float)
            throw Error(source + ": tensor \"" + name + "\" has non-float dtype " + it->second.dtype);
        used[name] = true;
    }
    for (const auto& [name, header] : tensors) {
        (void)header;
        // Old Llama-2 exports carry RoPE buffers (derived from the config, not weights); some
        // exports of tied models keep the head's copy.
        if (used.count(name) || name.find("rotary_emb.inv_freq") != std::string::npos) continue;
        if (tie_word_embeddings && name == "lm_head.weight") continue;
        throw Error(source + ": unexpected tensor \"" + clip_for_message(name, 120) + "\"");
    }
}

} // namespace rilq
