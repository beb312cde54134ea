// HF Llama checkpoints: a folder with config.json and model.safetensors, or a sharded
// model.safetensors.index.json ("weight_map": tensor -> shard file).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/util/tensor.h"

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

class SafetensorsFile;

// Tensor-at-a-time access to an HF folder, so sharded models can be processed without
// two full copies in memory.
class HfCheckpoint {
  public:
    explicit HfCheckpoint(const std::string& dir);
    ~HfCheckpoint();
    const std::string& dir() const { return dir_; }
    const LlamaConfig& config() const { return config_; }
    std::vector<std::string> tensor_names() const;
    bool contains(const std::string& name) const;
    torch::Tensor tensor(const std::string& name) const; // owned copy, stored dtype
    // Read in place from a mapping of its own (SafetensorsFile::mapped_tensor); may be undefined.
    torch::Tensor mapped_tensor(const std::string& name) const;
    // From the file header only (no data read): shape and safetensors dtype ("BF16", ...).
    std::vector<int64_t> tensor_shape(const std::string& name) const;
    std::string tensor_dtype(const std::string& name) const;

  private:
    std::string dir_;
    LlamaConfig config_;
    std::map<std::string, std::string> weight_map_; // tensor -> shard file name
    mutable std::map<std::string, std::unique_ptr<SafetensorsFile>> shards_;
};

bool is_hf_model_dir(const std::string& path);

LlamaModel load_hf_model(const std::string& dir, const ModelOptions& options = {},
                         const ProgressSink& progress = {});

// Writes config.json + model.safetensors into `dir` atomically (temp folder, then rename).
// storage_dtype: "float32", "bfloat16" or "float16"; empty keeps the config's torch_dtype.
// Files already in `dir` that we do not write (tokenizer files, ...) are carried over.
void save_hf_model(const LlamaModel& model, const std::string& dir, const std::string& storage_dtype = "");

} // namespace rilq
