// Rotary position embeddings as HF Llama computes them: inverse frequencies (optionally
// with Llama-3.1's "llama3" or "linear" scaling), cos/sin tables over positions, and the
// rotate-half application (HF convention: the two halves of each head form the pairs).
#pragma once
#include "core/util/tensor.h"

#include "core/model/llama_config.h"

namespace rilq {

// (HD/2) fp32 inverse frequencies, scaled per config.rope_scaling.
torch::Tensor rope_inv_freq(const LlamaConfig& config);

struct RopeTables {
    torch::Tensor cos;  // (T, HD)
    torch::Tensor sin;  // (T, HD)
};

// Tables for positions 0..T-1, computed in fp32 then cast to `dtype` (as HF does).
RopeTables rope_tables(const torch::Tensor& inv_freq, int64_t seq_len, torch::Dtype dtype, const torch::Device& device);

// x: (B, H, T, HD) -> same shape, rotated.
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables);

} // namespace rilq
