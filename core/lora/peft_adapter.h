// LoRA adapters in Hugging Face PEFT's on-disk format, so `PeftModel.from_pretrained(base, dir)`
// loads them on top of the saved quantized base:
//   dir/adapter_model.safetensors  base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight (r, in)
//                                  base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight (out, r) ...
//   dir/adapter_config.json        peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, lora_dropout,
//                                  target_modules, init_lora_weights, base_model_name_or_path, ...
// IEC has no place in PEFT's format: its scalars are folded into A and B first (exact at
// inference, METHODS 2.2), so what is saved is a plain LoRA that computes the same delta.
// Links against core/io/safetensors (the reader/writer), which lives in its own unit.
#pragma once
#include <string>

#include "core/lora/lora_set.h"

namespace rilq {

class LlamaModel;

// Writes the two files into `dir` (created if needed), each atomically.
void save_peft_adapter(const std::string& dir, const LoraSet& set, const std::string& base_model_name_or_path);

// Reads a PEFT LoRA adapter folder and attaches it to `model` (which must have no adapters on
// the target linears). Errors name the file and the tensor or JSON field: unsupported options
// (use_rslora, use_dora, rank_pattern, alpha_pattern, bias), missing or extra tensors, shapes.
LoraSet load_peft_adapter(const std::string& dir, LlamaModel& model);

// "layers.3.mlp.up_proj" -> "base_model.model.model.layers.3.mlp.up_proj.lora_A.weight"
std::string peft_tensor_name(const std::string& linear_name, bool lora_a);

} // namespace rilq
