// Per-linear measurements of a run as run-store rows (layer_stats), under the metric keys the
// GUI's layer inspector charts: rel_error, sqnr_db, max_abs_error, entropy_bits,
// pooled_entropy_bits, output_error, energy_r<r>, icq_gain_bits, code_count_<k> (stage
// "quantized"), weight_norm (stage "fp"), and for stage "compensated" the same error metrics of
// W - (Q(W) + s B'A') against the FP weights.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

#include "core/lora/lora_set.h"
#include "core/quant/quantize_model.h" // ModelQuantResult, LlamaModel
#include "core/store/run_types.h"
#include "core/util/progress.h"

namespace rilq::run {

// "layers.3.mlp.up_proj" -> {3, "mlp.up_proj"}; Error for a name outside the decoder layers.
std::pair<int, std::string> split_linear_name(const std::string& linear_name);

// Stages "fp" (weight_norm) and "quantized" from the quantizer's per-linear stats.
std::vector<store::LayerStat> quantized_layer_stats(const ModelQuantResult& result);

// Stage "compensated": the student's effective weight Q(W) + s B'A' (its adapters, merged or
// not) against the FP model's weights, and the output error on `calib_ids` (the FP model's
// inputs to each linear; skipped when undefined). The FP model at `base_model` (any format
// load_model reads, in `options`) is read one decoder layer at a time when it is an HF folder
// (core/io/layer_stream.h), so a 7B model is never held whole (nor its effective weights: one
// layer's at a time); other formats load whole. Both give the same rows bit for bit.
std::vector<store::LayerStat> compensated_layer_stats(const std::string& base_model,
                                                      const ModelOptions& options, const LlamaModel& student,
                                                      const LoraSet& adapters, const torch::Tensor& calib_ids,
                                                      const ProgressSink& progress = {});

} // namespace rilq::run
