#include "core/bench/bench_shape.h"

#include "core/util/error.h"

#include <regex>

namespace rilq {

const std::vector<LlamaShape>& llama_shape_presets() {
    // From the models' published config.json files (meta-llama/Llama-2-7b-hf, Meta-Llama-3-8B).
    static const std::vector<LlamaShape> presets = {
        {"llama2-7b", 4096, 32, 32, 32, 11008, 32000, 4096, 10000.0, 1, 2},
        {"llama3-8b", 4096, 32, 32, 8, 14336, 128256, 8192, 500000.0, 128000, 128001},
    };
    return presets;
}

LlamaShape parse_llama_shape(const std::string& text) {
    for (const LlamaShape& preset : llama_shape_presets())
        if (preset.name == text) return preset;
    static const std::regex size_form(R"(d(\d+)-l(\d+)-h(\d+)-kv(\d+)-f(\d+)-v(\d+))");
    std::smatch m;
    std::string presets;
    for (const LlamaShape& preset : llama_shape_presets())
        presets += preset.name + ", ";
    if (!std::regex_match(text, m, size_form))
        throw Error("shape \"" + text + "\": expected " + presets +
                    "or a size d<hidden>-l<layers>-h<heads>-kv<kv_heads>-f<ffn>-v<vocab> (e.g. "
                    "d256-l2-h4-kv2-f688-v512)");
    LlamaShape shape;
    shape.name = text;
    try {
        shape.hidden = std::stoll(m[1]);
        shape.layers = std::stoll(m[2]);
        shape.heads = std::stoll(m[3]);
        shape.kv_heads = std::stoll(m[4]);
        shape.intermediate = std::stoll(m[5]);
        shape.vocab = std::stoll(m[6]);
    } catch (const std::exception&) {
        throw Error("shape \"" + text + "\": a number is out of range");
    }
    if (shape.hidden == 0 || shape.layers == 0 || shape.heads == 0 || shape.kv_heads == 0 ||
        shape.intermediate == 0 || shape.vocab == 0)
        throw Error("shape \"" + text + "\": every size must be at least 1");
    llama_shape_config(shape).validate("shape \"" + text + "\"");
    return shape;
}

LlamaConfig llama_shape_config(const LlamaShape& shape) {
    LlamaConfig c = bench_llama_config(shape, shape.max_positions);
    c.rope_theta = shape.rope_theta;
    c.bos_token_id = shape.bos_token_id;
    c.eos_token_id = shape.eos_token_id;
    c.tie_word_embeddings = false;
    c.torch_dtype = "bfloat16";
    return c;
}

} // namespace rilq
