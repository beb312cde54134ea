// The machine's fp32 (and bf16) GEMM rate: the yardstick every other benchmark is compared to.
#pragma once
#include <cstdint>
#include <string>

namespace rilq {

struct GemmFigures {
    int64_t n = 0;               // square size
    double fp32_gflops = 0.0;
    double bf16_gflops = 0.0;
    int threads = 0;
    std::string blas;            // which BLAS served the fp32 GEMM
};

// Times n x n x n matmuls (best of `repeats` after one warm-up).
GemmFigures measure_gemm(int64_t n = 2048, int repeats = 3);

// Forward FLOPs per token of a Llama model (2 per multiply-add: linears, lm_head, and
// attention scores/values averaged over a causal window of seqlen).
double llama_forward_flops_per_token(int64_t hidden, int64_t intermediate, int64_t layers, int64_t q_dim,
                                     int64_t kv_dim, int64_t vocab, int64_t seqlen);

} // namespace rilq
