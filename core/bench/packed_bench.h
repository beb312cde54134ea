// `rilq bench packed`: a quantized student with dense linears (the fake-quantized weights in
// fp32) next to the same student with packed linears (core/quant/packed_quant_weight.h): the
// bytes each holds, the forward and the training-step (forward + backward into LoRA adapters)
// times, and whether their logits agree bit for bit.
#pragma once
#include <cstdint>
#include <string>

#include "core/quant/quant_spec.h"

namespace rilq {

struct PackedBenchOptions {
    std::string model; // a llama2c / HF checkpoint; "" = a random Llama of the shape below
    int64_t hidden = 2048, layers = 2, heads = 16, kv_heads = 16, intermediate = 5632, vocab = 32000;
    int64_t seqlen = 256;
    int64_t rank = 16;   // LoRA on all seven projections for the training step
    int64_t repeats = 3; // timed repetitions (best kept) after one warm-up
    QuantSpec spec;      // default rtn w2 g64; storage is set by the benchmark
};

struct PackedBenchSide {
    int64_t linear_bytes = 0;  // the quantized linears as held (dense tensors or packed forms)
    int64_t model_bytes = 0;   // linears + embedding, norms, lm_head
    int64_t scratch_bytes = 0; // the dequantization scratch after the runs (packed only)
    double forward_ms = 0.0;   // one window, no grad
    double train_ms = 0.0;     // forward + backward into the adapters
};

struct PackedBenchFigures {
    int64_t linear_parameters = 0;
    PackedBenchSide dense, packed;
    bool logits_identical = false;
    bool gradients_identical = false;
    std::string shape; // "dim 2048, 2 layers, ..." or the model path
};

PackedBenchFigures run_packed_bench(const PackedBenchOptions& options);

} // namespace rilq
