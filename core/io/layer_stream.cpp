#include "core/io/layer_stream.h"

#include "core/io/hf_checkpoint.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

LayerStream::LayerStream(const std::string& dir, const ModelOptions& options)
    : checkpoint_(std::make_unique<HfCheckpoint>(dir)), options_(options) {
    // What loading would reject is rejected here, from the headers alone (as summarize_model).
    std::map<std::string, TensorHeader> headers;
    for (const auto& name : checkpoint_->tensor_names()) {
        const std::string dtype = checkpoint_->tensor_dtype(name);
        headers[name] = {checkpoint_->tensor_shape(name), dtype == "BF16" || dtype.rfind('F', 0) == 0, dtype};
    }
    checkpoint_->config().check_hf_tensors(headers, dir);
}

LayerStream::~LayerStream() = default;

const LlamaConfig& LayerStream::config() const {
    return checkpoint_->config();
}

const std::string& LayerStream::dir() const {
    return checkpoint_->dir();
}

LlamaModel LayerStream::load_skeleton() const {
    // An untied embedding stored in the compute dtype is read in place from the file: a forward
    // looks up only its windows' rows, so the rest of the table never becomes resident (Llama-3-8B's
    // 128k x 4096 bf16 table is 1 GB). A tied one is also the head, which reads every row.
    const std::string embedding = "model.embed_tokens.weight";
    const bool embedding_in_place = !config().tie_word_embeddings && options_.device == "cpu";
    std::map<std::string, torch::Tensor> top;
    for (const std::string& name :
         {embedding, std::string("model.norm.weight"), std::string("lm_head.weight")}) {
        if (!checkpoint_->contains(name)) continue;
        torch::Tensor t;
        if (name == embedding && embedding_in_place) t = checkpoint_->mapped_tensor(name);
        if (!t.defined() || t.scalar_type() != options_.compute_dtype)
            t = checkpoint_->tensor(name).to(options_.compute_dtype);
        top[name] = t;
    }
    return LlamaModel::without_layers(config(), top, options_, dir());
}

int64_t LayerStream::load_layer(LlamaModel& model, int64_t index) const {
    const std::string prefix = "model.layers." + std::to_string(index) + ".";
    std::map<std::string, torch::Tensor> state;
    int64_t bytes = 0;
    for (const auto& name : checkpoint_->tensor_names()) {
        if (name.rfind(prefix, 0) != 0) continue;
        // Converted at once, so a bf16 file computed in fp32 holds one tensor in both dtypes at most.
        auto t = checkpoint_->tensor(name).to(options_.compute_dtype);
        bytes += t.numel() * static_cast<int64_t>(t.element_size());
        state.emplace(name, std::move(t));
    }
    model.set_layer(index, state);
    return bytes;
}

} // namespace rilq
