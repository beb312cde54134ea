// The random Llama the speed benchmarks build: any options struct with hidden, layers, heads,
// kv_heads, intermediate and vocab (EvalBenchOptions, StepBenchOptions, PackedBenchOptions).
#pragma once
#include <cstdint>

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

} // namespace rilq
