// What a RunConfig's settings become where a core unit takes another form: the model's options
// (torch dtype and device), the data unit's specs with resolved paths, the tokenizer. The
// trainer and the quantizer take the RunConfig's own TrainConfig and QuantSpec as they are.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/data/text_sources.h"
#include "core/model/llama_model.h"
#include "core/run/run_config.h"
#include "core/tokenize/tokenizer.h"

namespace rilq::run {

ModelOptions model_options_of(const RunConfig& config); // dtype and device
// The data unit's spec with its path resolved against data_root.
DatasetSpec data_spec_of(const RunConfig& config, const DatasetEntry& dataset);
// rilq.tokenizer resolved, else the tokenizer found beside the base model.
std::unique_ptr<Tokenizer> tokenizer_of(const RunConfig& config);

} // namespace rilq::run
