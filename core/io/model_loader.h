// One entry point for "a model path the user gave": an HF folder or a llama2.c .bin.
#pragma once
#include <string>

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

LlamaModel load_model(const std::string& path, const ModelOptions& options = {}, const ProgressSink& progress = {});

} // namespace rilq
