// Fake-quantizes a Llama model in place: each target linear's weight is replaced by its
// dequantized values (same architecture, what RILQ loads as q_model), one tensor at a time, and
// per-linear stats are collected. With spec.storage "packed" the linear holds its packed codes
// instead (Linear::packed, core/quant/packed_quant_weight.h): the same weights, bit for bit. Embeddings,
// norms and lm_head stay full precision.
//
// With calibration windows the model runs once over them and each linear is quantized inside
// the forward, at the moment its input X is observed. For a weight-only method its weight is
// swapped only after the forward has used it, so every X comes from the FP model while at most
// one decoder layer's dequantized weights wait in memory. A method that needs calibration
// (GPTQ) gets its dequantized weight in place at once, before the forward uses it, so every
// later linear sees the inputs of the model as quantized so far: llama.py's true-sequential
// order ([q, k, v] -> [o] -> [gate, up] -> [down], layer by layer).
#pragma once
#include <memory>
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
    torch::Tensor calib_ids; // (N, T) int64 token windows: adds the output error; required by GPTQ
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

// quantize_model() one decoder layer at a time, for a caller that loads each layer's FP weights
// only when its turn comes (layer streaming, core/run/streamed_preparation.h). For i = 0..L-1 in
// order: layer i holds its FP weights, then quantize_layer(i, x) with the layer's calibration
// input x (model.embed(calib_ids) for layer 0, then what the previous call returned; undefined
// without calib_ids) quantizes its target linears in place and returns the layer's output as
// quantize_model's forward computes it. finish() gives quantize_model's result, bit for bit.
class LayerwiseQuantizer {
  public:
    LayerwiseQuantizer(LlamaModel& model, const QuantSpec& spec, const QuantizeModelOptions& options = {},
                       const ProgressSink& progress = {});
    ~LayerwiseQuantizer();
    LayerwiseQuantizer(const LayerwiseQuantizer&) = delete;
    LayerwiseQuantizer& operator=(const LayerwiseQuantizer&) = delete;

    bool calibrated() const; // options.calib_ids given
    torch::Tensor quantize_layer(int64_t index, const torch::Tensor& x);
    ModelQuantResult finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace rilq
