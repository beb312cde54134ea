// `rilq make-random`: a random Llama of a real shape written as an HF folder (config.json,
// bf16 safetensors shards + model.safetensors.index.json, optionally a tokenizer), tensor by
// tensor, so a 7B model (13.5 GB) is written while at most one tensor is held in memory. The
// values are N(0, 0.02) (norm weights 1 + N(0, 0.1), as LlamaModel::random) from a generator
// seeded per tensor, so a tensor's values depend only on (seed, name, shape), not on the shards.
#pragma once
#include <cstdint>
#include <string>

#include "core/util/tensor.h"

#include "core/model/llama_config.h"
#include "core/util/progress.h"

namespace rilq {

struct RandomCheckpointOptions {
    uint64_t seed = 0;
    int64_t max_shard_bytes = int64_t{2} << 30; // a shard holds tensors up to this size (at least one)
    torch::Dtype storage_dtype = torch::kBFloat16;
    std::string tokenizer_file; // copied into the folder under its file name; "" = none
};

struct RandomCheckpointInfo {
    int64_t shards = 0;
    int64_t total_bytes = 0; // tensor data, as the index's metadata.total_size
    int64_t parameters = 0;
    double seconds = 0.0;
};

// Writes the folder `dir` (Error when it exists and is not an empty folder: nothing is replaced).
RandomCheckpointInfo write_random_checkpoint(const LlamaConfig& config, const std::string& dir,
                                             const RandomCheckpointOptions& options = {},
                                             const ProgressSink& progress = {});

// One tensor exactly as write_random_checkpoint writes it (in the storage dtype).
torch::Tensor random_checkpoint_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                       uint64_t seed, torch::Dtype storage_dtype = torch::kBFloat16);

// The file name of shard `index` (0-based) of `count`: "model-00001-of-00007.safetensors" (HF's).
std::string shard_file_name(int64_t index, int64_t count);

} // namespace rilq
