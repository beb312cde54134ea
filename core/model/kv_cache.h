// Keys and values of positions a forward has already run, so a later forward can continue
// from them instead of re-running them. Task evaluation uses it for the k-shot prefix that every
// MMLU question of a subject shares, and for the context that every choice of a multiple-choice
// item shares (core/eval/tasks/prefix_cache.h). Training and perplexity never use it.
//
// Per layer the tensors are the attention's keys after RoPE and its values, before the
// grouped-query expansion: (B, NKV, P, HD) with P the number of cached positions.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace rilq {

struct LayerKv {
    torch::Tensor keys;   // (B, NKV, P, HD)
    torch::Tensor values; // (B, NKV, P, HD)
};

struct KvCache {
    std::vector<LayerKv> layers; // one per decoder layer, empty when nothing is cached

    bool empty() const { return layers.empty(); }
    int64_t length() const { return empty() ? 0 : layers.front().keys.size(2); } // P
    int64_t batch() const { return empty() ? 0 : layers.front().keys.size(0); }  // B

    // The first n cached positions (views, no copy): keys and values of a prefix of a token
    // sequence are those of the whole sequence cut there, because attention is causal.
    KvCache first(int64_t n) const {
        KvCache out;
        for (const LayerKv& l : layers)
            out.layers.push_back({l.keys.narrow(2, 0, n), l.values.narrow(2, 0, n)});
        return out;
    }
};

} // namespace rilq
