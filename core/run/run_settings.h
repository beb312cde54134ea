// A RunConfig translated into the settings of the core units it drives: the trainer's
// TrainConfig, the quantizer's QuantSpec, model options and data specs with resolved paths.
// One place for the mapping, so the CLI, the GUI and the tests all run the same thing.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/data/text_sources.h"
#include "core/model/llama_model.h"
#include "core/quant/quant_spec.h"
#include "core/rilq/train_config.h"
#include "core/run/run_config.h"
#include "core/tokenize/tokenizer.h"

namespace rilq::run {

TrainConfig train_config_of(const RunConfig& config);
// Error when quant.method is none (the run loads rilq.q_model instead).
QuantSpec quant_spec_of(const RunConfig& config);
ModelOptions model_options_of(const RunConfig& config); // dtype and device
// The data unit's spec: path resolved against data_root, range carried over.
rilq::DatasetSpec data_spec_of(const RunConfig& config, const run::DatasetSpec& dataset);
// rilq.tokenizer resolved, else the tokenizer found beside the base model.
std::unique_ptr<Tokenizer> tokenizer_of(const RunConfig& config);

} // namespace rilq::run
