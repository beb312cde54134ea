#include "core/io/model_loader.h"

#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c.h"
#include "core/util/error.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

LlamaModel load_model(const std::string& path, const ModelOptions& options, const ProgressSink& progress) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": no such file or folder");
    if (fs::is_directory(path, ec)) {
        if (is_hf_model_dir(path)) return load_hf_model(path, options, progress);
        throw Error(path + ": folder has no config.json (expected an HF model folder: config.json + "
                           "model.safetensors)");
    }
    const fs::path p(path);
    const std::string name = p.filename().string();
    // A file from inside an HF folder: the folder is the model.
    if ((name == "config.json" || p.extension() == ".safetensors" || name.rfind("model.safetensors", 0) == 0 ||
         name.rfind("pytorch_model", 0) == 0) &&
        is_hf_model_dir(p.parent_path().string()))
        throw Error(path + ": is part of an HF model folder; pass the folder " + p.parent_path().string());
    if (p.extension() == ".bin" || is_llama2c_file(path)) return load_llama2c(path, options);
    throw Error(path + ": not a model (expected an HF folder with config.json, or a llama2.c .bin checkpoint)");
}

} // namespace rilq
