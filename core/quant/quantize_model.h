// Fake-quantizes a Llama model in place: each target linear's weight is replaced by its
// dequantized values (same architecture, what RILQ loads as q_model), one tensor at a time, and
// per-linear stats are collected. Embeddings, norms and lm_head stay full precision.
//
// With calibration windows the FP model runs once over them and each linear is quantized inside
// the forward, at the moment its FP input X is observed; its weight is swapped only after the
// forward has used it, so every X comes from the FP model while at most one decoder layer's
// dequantized weights wait in memory.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

#include "core/model/llama_model.h"
#include "core/quant/metrics.h"
#include "core/quant/quantizer.h"
#include "core/util/progress.h"

namespace rilq {

struct QuantizeModelOptions {
    torch::Tensor calib_ids; // (N, T) int64 token windows, optional: adds the output error
    MetricsOptions metrics;
    bool keep_states = false; // keep each linear's codes / scales / offsets (for quant_codes.safetensors)
};

struct ModelQuantResult {
    QuantSpec spec;
    std::vector<LinearQuantStats> linears; // in forward order
    // With keep_states: each linear's QuantResult without its dequantized copy (that is in the model).
    std::vector<std::pair<std::string, QuantResult>> states;
    int64_t calib_windows = 0, calib_tokens = 0;
    double seconds = 0.0;
};

// Throws rilq::Error when no linear matches spec.targets, or (naming the linear) on NaN/Inf
// weights; rilq::Cancelled between linears when the sink's token is cancelled, leaving the
// model partially quantized (callers discard it).
ModelQuantResult quantize_model(LlamaModel& model, const QuantSpec& spec,
                                const QuantizeModelOptions& options = {}, const ProgressSink& progress = {});

} // namespace rilq
