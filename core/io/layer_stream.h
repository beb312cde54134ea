// An HF checkpoint read one decoder layer at a time (layer streaming, issue 15): the embedding,
// final norm and head are loaded once, each layer's FP weights only when its turn comes, from the
// safetensors mapping (whose pages are dropped again as each tensor is copied, safetensors.h), so
// a 7B checkpoint is never held whole. Every tensor is checked from the headers up front, as the
// loader checks it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/model/llama_model.h"

namespace rilq {

class HfCheckpoint;

class LayerStream {
  public:
    LayerStream(const std::string& dir, const ModelOptions& options);
    ~LayerStream();
    LayerStream(const LayerStream&) = delete;
    LayerStream& operator=(const LayerStream&) = delete;

    const LlamaConfig& config() const;
    const std::string& dir() const;
    // The model with its embedding, final norm and head, and no decoder layer yet. An untied CPU
    // embedding stored in the compute dtype is read in place from the file (is_file_mapped).
    LlamaModel load_skeleton() const;
    // Layer `index`'s FP weights into `model` (in the compute dtype, one tensor converted at a
    // time); returns the bytes the layer now holds.
    int64_t load_layer(LlamaModel& model, int64_t index) const;

  private:
    std::unique_ptr<HfCheckpoint> checkpoint_;
    ModelOptions options_;
};

} // namespace rilq
