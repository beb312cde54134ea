// `rilq bench memory`: the real RILQ pipeline on a random Llama of a real shape (Llama-2-7B,
// Llama-3-8B), layer-streamed from bf16 safetensors on disk, with the process's own peak RSS
// (getrusage ru_maxrss) and current RSS (/proc/self/statm) after every stage, the bytes of each
// part that stays in memory, and the seconds of every stage and micro-step. Issue 15's targets:
// peak RSS <= 6 GB at the Llama-2-7B shape, <= 8 GB at Llama-3-8B's (128k vocabulary).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/bench/bench_shape.h"
#include "core/quant/quant_spec.h"
#include "core/util/progress.h"

namespace rilq {

// The two quantizers, packed: RTN W2 g64 and NF2 + ICQ (icq-nf, blocks of 64).
std::vector<QuantSpec> memory_bench_quantizers();

struct MemoryBenchOptions {
    LlamaShape shape;
    std::string model_dir; // the random model: made there when absent, reused when its config matches
    uint64_t seed = 0;
    std::string dtype = "fp32"; // compute dtype: fp32 or bf16
    int64_t seqlen = 512;
    int64_t target_windows = 4;            // training windows whose teacher targets are cached
    int64_t val_windows = 1;               // validation windows (targets cached; the bench skips validation)
    int64_t ppl_windows = 2;               // FP and quantized perplexity windows
    int64_t rank = 64;                     // LoRA on all seven projections
    int64_t micro_steps = 2;               // RILQ micro-steps, one optimizer update each
    bool activation_checkpointing = false; // rilq.activation_checkpointing for the micro-steps
    std::vector<QuantSpec> quantizers = memory_bench_quantizers();
    std::string tokenizer_file; // copied into a newly made model folder; "" = none
};

// One stage: its wall seconds and the RSS after it.
struct MemoryBenchStage {
    std::string name;
    double seconds = 0.0;
    int64_t rss_bytes = 0;  // current resident set after the stage (/proc/self/statm)
    int64_t peak_bytes = 0; // process peak so far (getrusage ru_maxrss)
};

struct MemoryBenchPart {
    std::string name;
    int64_t bytes = 0;
};

struct MemoryBenchRun {
    std::string quantizer; // QuantSpec::describe()
    std::vector<MemoryBenchStage> stages;
    std::vector<MemoryBenchPart> parts; // what this run held at its peak, by part
    std::vector<double> micro_step_seconds;
    double fp_ppl = 0.0, quantized_ppl = 0.0;
    int64_t lora_parameters = 0;
};

struct MemoryBenchFigures {
    std::string model_dir;
    bool made_model = false;
    double make_seconds = 0.0;
    int64_t parameters = 0;
    int64_t linear_parameters = 0;
    std::vector<MemoryBenchRun> runs;
    int64_t peak_rss_bytes = 0; // getrusage ru_maxrss at the end: the whole process
};

MemoryBenchFigures run_memory_bench(const MemoryBenchOptions& options, const ProgressSink& progress = {});

// The process's resident set now (/proc/self/statm) and its peak so far (getrusage ru_maxrss).
int64_t current_rss_bytes();
int64_t peak_rss_bytes();

} // namespace rilq
