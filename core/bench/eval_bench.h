// `rilq bench eval`: forward (perplexity) throughput on a random Llama, next to the GEMM peak.
#pragma once
#include <cstdint>
#include <string>

namespace rilq {

struct EvalBenchOptions {
    int64_t hidden = 512, layers = 8, heads = 8, kv_heads = 8, intermediate = 1376, vocab = 4096;
    int64_t seqlen = 512;
    int64_t windows = 8;
    std::string dtype = "float32";   // compute dtype: float32 or bfloat16
};

struct EvalBenchFigures {
    double tokens_per_s = 0.0;
    double gflops = 0.0;             // achieved, from the analytic FLOP count
    double flops_per_token = 0.0;
    double seconds = 0.0;
};

EvalBenchFigures run_eval_bench(const EvalBenchOptions& options);

} // namespace rilq
