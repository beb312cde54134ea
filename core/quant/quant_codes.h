// The integer side of a quantization, saved beside the fake-quantized model:
// quant_codes.safetensors holds, per linear "model.layers.<i>.<proj>", its codes (uint8, one
// code per byte, (O, I)) and the parameters that turn them back into weights; quant_codes.json
// (format "rilq.quant_codes", version kQuantCodesFormatVersion) names each tensor's role and the
// dequantization formula.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include "core/util/tensor.h"

#include "core/quant/quantize_model.h"

namespace rilq {

// 2: "spec" holds the experiment's quant.* keys (quant_spec_json).
constexpr int kQuantCodesFormatVersion = 2;

// (name, tensor) pairs in a stable order; needs ModelQuantResult::states (keep_states = true).
std::vector<std::pair<std::string, torch::Tensor>> quant_code_tensors(const ModelQuantResult& result);

nlohmann::json quant_codes_manifest(const ModelQuantResult& result, const std::string& model_source);

// Writes <dir>/quant_codes.safetensors and <dir>/quant_codes.json (each atomically).
void write_quant_codes(const ModelQuantResult& result, const std::string& dir,
                       const std::string& model_source);

} // namespace rilq
