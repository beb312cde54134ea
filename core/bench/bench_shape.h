// Model shapes in one place: the random Llama the speed benchmarks build (any options struct with
// hidden, layers, heads, kv_heads, intermediate and vocab: EvalBenchOptions, StepBenchOptions,
// PackedBenchOptions, LlamaShape), and the named real-scale shapes `rilq make-random` and
// `rilq bench memory` accept.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/llama_config.h"

namespace rilq {

template <class Options> LlamaConfig bench_llama_config(const Options& o, int64_t max_positions) {
    LlamaConfig c;
    c.hidden_size = o.hidden;
    c.intermediate_size = o.intermediate;
    c.num_hidden_layers = o.layers;
    c.num_attention_heads = o.heads;
    c.num_key_value_heads = o.kv_heads;
    c.head_dim = o.hidden / o.heads;
    c.vocab_size = o.vocab;
    c.max_position_embeddings = max_positions;
    return c;
}

// A Llama shape: a preset of a published model (its config.json numbers) or a custom size.
struct LlamaShape {
    std::string name; // "llama2-7b", or the SIZE text it was parsed from
    int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, intermediate = 0, vocab = 0;
    int64_t max_positions = 4096;
    double rope_theta = 10000.0;
    int64_t bos_token_id = 1, eos_token_id = 2;
};

// The named presets: llama2-7b (Llama-2-7B: dim 4096, 32 layers, 32 heads, ffn 11008, vocab
// 32000) and llama3-8b (Llama-3-8B: GQA 32/8 heads, ffn 14336, vocab 128256, theta 500000).
const std::vector<LlamaShape>& llama_shape_presets();

// A preset name, or a SIZE "d<hidden>-l<layers>-h<heads>-kv<kv_heads>-f<ffn>-v<vocab>"
// (e.g. d256-l2-h4-kv2-f688-v512). Error naming the text and the accepted forms otherwise.
LlamaShape parse_llama_shape(const std::string& text);

// The shape's config.json (untied head, bf16 storage; a SIZE gets max_positions 4096).
LlamaConfig llama_shape_config(const LlamaShape& shape);

} // namespace rilq
