#include "core/run/run_settings.h"

#include "core/util/error.h"

namespace rilq::run {

ModelOptions model_options_of(const RunConfig& config) {
    ModelOptions options;
    const std::string& d = config.model.dtype;
    if (d == "fp32") options.compute_dtype = at::kFloat;
    else if (d == "bf16") options.compute_dtype = at::kBFloat16;
    else if (d == "fp16") options.compute_dtype = at::kHalf;
    else throw Error("rilq.dtype: expected one of bf16, fp16, fp32, found \"" + d + "\"");
    options.device = config.device;
    return options;
}

DatasetSpec data_spec_of(const RunConfig& config, const DatasetEntry& dataset) {
    DatasetSpec spec = dataset.source;
    spec.path = config.resolve(dataset.source.path);
    return spec;
}

std::unique_ptr<Tokenizer> tokenizer_of(const RunConfig& config) {
    if (!config.model.tokenizer.empty()) return load_tokenizer(config.resolve(config.model.tokenizer));
    return find_tokenizer(config.resolve(config.model.base_model));
}

} // namespace rilq::run
