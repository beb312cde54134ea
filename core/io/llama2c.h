// llama2.c checkpoints (legacy "version 0" .bin): 7 int32 header {dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size, seq_len}, then fp32 tensors; a negative
// vocab_size means an untied classifier stored at the end; RoPE tables are skipped.
// llama2.c rotates interleaved pairs, HF rotates halves: q/k rows are permuted on load
// exactly as HF's convert_llama_weights_to_hf.py does, so one forward serves both.
#pragma once
#include <string>

#include "core/model/llama_model.h"

namespace rilq {

bool is_llama2c_file(const std::string& path);
LlamaModel load_llama2c(const std::string& path, const ModelOptions& options = {});

} // namespace rilq
