// `rilq bench step`: the speed of one RILQ training step (student forward + backward into the
// LoRA adapters + Adam update, against cached hidden targets) and of the forward alone (eval),
// on a random Llama, next to this machine's fp32 GEMM rate. The same step in PyTorch eager is
// tests/reference/step_bench_reference.py, for a side-by-side comparison on one machine.
#pragma once
#include <cstdint>
#include <string>

namespace rilq {

struct StepBenchOptions {
    int64_t hidden = 512, layers = 8, heads = 8, kv_heads = 8, intermediate = 1376, vocab = 4096;
    int64_t seqlen = 512;
    int64_t batch = 1;          // windows per micro-batch (approx_batch_size)
    int64_t rank = 16;          // LoRA on all seven projections, alpha 16
    bool iec = false;
    int64_t warmup_steps = 2;   // not timed
    int64_t steps = 8;          // timed training steps (one optimizer update each)
    int64_t eval_windows = 4;   // timed forward passes
    uint64_t seed = 42;
    std::string dtype = "fp32"; // compute dtype of teacher and student: "fp32" or "bf16" (LoRA masters stay fp32)
    bool activation_checkpointing = false; // recompute each decoder layer's forward in the backward
};

struct StepBenchFigures {
    double train_tokens_per_s = 0.0;
    double train_step_ms = 0.0;
    double train_cpu_ms_per_step = 0.0; // process CPU time (all threads): robust on a shared machine
    double train_gflops = 0.0;          // achieved, from the analytic FLOP count below
    double train_flops_per_token = 0.0; // forward + backward to the activations + LoRA grads (no weight grads)
    double eval_tokens_per_s = 0.0;
    double eval_gflops = 0.0;
    double eval_flops_per_token = 0.0;
    double eval_cpu_ms_per_window = 0.0;
    double gemm_gflops = 0.0;           // fp32 1024^3 matmul, best of 3, same threads
    int64_t trainable_parameters = 0;
    double final_loss = 0.0;            // sanity: the RILQ loss of the last timed step
    // Heap the autograd graph of one training forward holds until its backward (saved activations),
    // measured with glibc's mallinfo2: what activation checkpointing shrinks.
    double graph_mib = 0.0;
};

StepBenchFigures run_step_bench(const StepBenchOptions& options);

} // namespace rilq
