// One entry point for "a model path the user gave": an HF folder or a llama2.c .bin.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

LlamaModel load_model(const std::string& path, const ModelOptions& options = {}, const ProgressSink& progress = {});

// What `rilq info` shows. For HF folders only config.json and the safetensors headers are
// read, so summarising a large model costs milliseconds, not a full load.
struct LinearShape {
    std::string name;           // "layers.0.self_attn.q_proj", as LlamaModel::linear_names()
    int64_t out_features = 0;
    int64_t in_features = 0;
};

struct ModelSummary {
    std::string path;
    std::string format;         // "hf" or "llama2c"
    LlamaConfig config;
    int64_t parameter_count = 0;  // as LlamaModel::parameter_count() (tied head counted once)
    std::vector<LinearShape> linears;
};

ModelSummary summarize_model(const std::string& path);

// Error naming `source`, the first tensor holding NaN or inf, how many and where the first is:
// such a model gives a meaningless perplexity or text, so evaluation refuses it up front.
void check_finite_weights(const LlamaModel& model, const std::string& source);

} // namespace rilq
