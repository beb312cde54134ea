// GPTQ over a whole Llama model, as IST-DASLab's llama.py llama_sequential runs it with
// --true-sequential: decoder layer by decoder layer, stage by stage ([k, v, q] -> [o] ->
// [up, gate] -> [down]), each stage's Hessian built from the calibration windows passed
// through the layer as it stands, i.e. with every earlier layer and stage already quantized
// (core/model/sequential_pass.h), so each linear compensates what was quantized before it.
// Linears of a stage share one input and so one Hessian (GPTQ accumulates an identical copy
// per linear). The per-linear stats add GPTQ's loss, the damping used and the output error on
// the inputs GPTQ saw, ||X (W - Q)^T||_F / ||X W^T||_F = sqrt(tr(D H D^T) / tr(W H W^T)).
#pragma once
#include <string>

#include <torch/types.h>

#include "core/quant/gptq.h"
#include "core/quant/quantize_model.h"

namespace rilq {

class LlamaModel;

// spec.method must be gptq; options.calib_ids (N, T) are required (Error naming --calib when
// absent). options.log receives GPTQ's damping retries. Result linears are in model order.
ModelQuantResult gptq_quantize_model(LlamaModel& model, const QuantSpec& spec, const QuantizeModelOptions& options,
                                     const ProgressSink& progress = {});

// The stats of one GPTQ result: compute_linear_stats() (in act-order column order when the groups
// follow it) plus the GPTQ fields and the output error from `hessian` (the matrix GPTQ was given).
// weight: the FP weight (O, I) as GPTQ saw it; calib_tokens: rows behind the Hessian.
LinearQuantStats gptq_linear_stats(const std::string& name, const torch::Tensor& weight, const GptqResult& result,
                                   const torch::Tensor& hessian, int64_t calib_tokens,
                                   const MetricsOptions& metrics = {});

} // namespace rilq
