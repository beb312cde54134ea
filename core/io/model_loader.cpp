#include "core/io/model_loader.h"

#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

namespace {

enum class ModelFormat { HfFolder, Llama2c };

// Decides what `path` is, or throws the error the user should see.
ModelFormat detect_format(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": no such file or folder");
    if (fs::is_directory(path, ec)) {
        if (is_hf_model_dir(path)) return ModelFormat::HfFolder;
        throw Error(path + ": folder has no config.json (expected an HF model folder: config.json + "
                           "model.safetensors)");
    }
    const fs::path p(path);
    const std::string name = p.filename().string();
    // A file from inside an HF folder: the folder is the model.
    if ((name == "config.json" || p.extension() == ".safetensors" ||
         name.rfind("model.safetensors", 0) == 0 || name.rfind("pytorch_model", 0) == 0) &&
        is_hf_model_dir(p.parent_path().string()))
        throw Error(path + ": is part of an HF model folder; pass the folder " + p.parent_path().string());
    // A .bin goes to the llama2.c loader even when its header looks wrong, so the user gets
    // that loader's precise complaint (size mismatch, versioned export) instead of a shrug.
    if (p.extension() == ".bin" || is_llama2c_file(path)) return ModelFormat::Llama2c;
    throw Error(path +
                ": not a model (expected an HF folder with config.json, or a llama2.c .bin checkpoint)");
}

} // namespace

LlamaModel load_model(const std::string& path, const ModelOptions& options, const ProgressSink& progress) {
    switch (detect_format(path)) {
    case ModelFormat::HfFolder:
        return load_hf_model(path, options, progress);
    case ModelFormat::Llama2c:
        return load_llama2c(path, options);
    }
    throw Error(path + ": unknown model format");
}

ModelSummary summarize_model(const std::string& path) {
    ModelSummary summary;
    summary.path = path;
    if (detect_format(path) == ModelFormat::Llama2c) {
        // llama2.c files carry no index; they are small enough to load (and loading validates them).
        const LlamaModel model = load_llama2c(path);
        summary.format = "llama2c";
        summary.config = model.config();
        summary.parameter_count = model.parameter_count();
        for (const auto& name : model.linear_names()) {
            const Linear& w = model.linear(name);
            summary.linears.push_back({name, w.out_features(), w.in_features()});
        }
        return summary;
    }
    const HfCheckpoint checkpoint(path);
    summary.format = "hf";
    summary.config = checkpoint.config();
    // What loading would reject is rejected here too, from the headers alone.
    std::map<std::string, TensorHeader> headers;
    for (const auto& name : checkpoint.tensor_names()) {
        const std::string dtype = checkpoint.tensor_dtype(name);
        headers[name] = {checkpoint.tensor_shape(name), dtype == "BF16" || dtype.rfind('F', 0) == 0, dtype};
    }
    summary.config.check_hf_tensors(headers, path);
    for (const auto& name : checkpoint.tensor_names()) {
        // Counted as the model counts: a tied head once, RoPE buffers not at all.
        if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
        if (summary.config.tie_word_embeddings && name == "lm_head.weight") continue;
        int64_t numel = 1;
        for (int64_t d : checkpoint.tensor_shape(name))
            numel *= d;
        summary.parameter_count += numel;
    }
    for (int64_t i = 0; i < summary.config.num_hidden_layers; ++i) {
        for (const auto& proj : projection_paths()) {
            const std::string linear = "layers." + std::to_string(i) + "." + proj;
            const std::string tensor = "model." + linear + ".weight";
            if (!checkpoint.contains(tensor)) throw Error(path + ": missing tensor \"" + tensor + "\"");
            const auto shape = checkpoint.tensor_shape(tensor);
            if (shape.size() != 2)
                throw Error(path + ": tensor \"" + tensor + "\" is not a matrix (" +
                            std::to_string(shape.size()) + " dimensions)");
            summary.linears.push_back({linear, shape[0], shape[1]});
        }
    }
    return summary;
}

void check_finite_weights(const LlamaModel& model, const std::string& source) {
    for (const auto& [name, tensor] : model.hf_state()) {
        const torch::Tensor bad = torch::logical_not(torch::isfinite(tensor.detach())).reshape({-1});
        const int64_t count = bad.sum().item<int64_t>();
        if (count == 0) continue;
        const int64_t first = torch::nonzero(bad)[0][0].item<int64_t>();
        const double value = tensor.reshape({-1})[first].item<double>();
        std::string where = std::to_string(first);
        if (tensor.dim() == 2)
            where = std::to_string(first / tensor.size(1)) + ", " + std::to_string(first % tensor.size(1));
        throw Error(source + ": tensor \"" + name + "\" holds " + std::to_string(count) +
                    " non-finite value" + (count > 1 ? "s" : "") + ", first " +
                    (std::isnan(value) ? "nan"
                     : value > 0       ? "inf"
                                       : "-inf") +
                    " at [" + where + "]: the model cannot be evaluated");
    }
}

} // namespace rilq
