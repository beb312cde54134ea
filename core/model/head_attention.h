// Causal attention for training forwards, one task per (batch row, key/value head): each task
// runs its query heads' blocks with single-threaded kernels, so a layer's attention is one
// parallel region forward and one backward instead of a dozen multi-threaded small ops (on two
// cores each such op pays a thread hand-off; under load, one scheduling delay: a bmm of
// 8 x 512 x 64 x 512 measured 17 ms on 2 threads vs 0.8 ms on one). Queries go by blocks of 128
// (keys past the block's last query are never computed, as LlamaModel::attention); the softmax
// runs in fp32 for bf16 too; the backward is the softmax-attention gradient written out
// (dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(dP P)), dQ = s dS K, dK = s dS^T Q), with dK
// and dV accumulated in fp32 over the blocks and the query heads that share a key/value head.
// The forward equals LlamaModel::attention's blocked baddbmm/softmax/bmm to fp32 rounding
// (tests/test_head_attention), not bit for bit: the GEMMs are blocked differently.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// q (B, NH, T, HD), k and v (B, NKV, T, HD) (NH a multiple of NKV; query head h reads key/value
// head h / (NH / NKV)), fp32 or bf16, positions 0..T-1 (no KV cache). Returns the attention output
// as (B, T, NH * HD) in q's dtype (the o_proj input layout); differentiable w.r.t. q, k and v.
torch::Tensor head_parallel_causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v);

} // namespace rilq
