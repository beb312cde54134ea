#include "core/run/run_config.h"

#include "core/util/error.h"
#include "core/util/path_names.h"

#include <filesystem>

namespace rilq::run {

const char* to_string(AType v) {
    return v == AType::Hid ? "hid" : "logit";
}

const char* to_string(LossScope v) {
    switch (v) {
    case LossScope::Model:
        return "model";
    case LossScope::WeightSvd:
        return "weight-svd";
    case LossScope::Linear:
        return "linear";
    case LossScope::Layer:
        return "layer";
    }
    return "?";
}

const char* to_string(LoraInit v) {
    return v == LoraInit::Gaussian ? "gaussian" : "kaiming";
}
const char* to_string(OptimizerKind v) {
    return v == OptimizerKind::Adam ? "adam" : "adamw";
}
const char* to_string(LrSchedule v) {
    return v == LrSchedule::Constant ? "constant" : "cosine";
}

const char* to_string(QuantMethod v) {
    switch (v) {
    case QuantMethod::None:
        return "none";
    case QuantMethod::Rtn:
        return "rtn";
    case QuantMethod::Nf:
        return "nf";
    case QuantMethod::IcqNf:
        return "icq-nf";
    case QuantMethod::IcqInt:
        return "icq-int";
    }
    return "?";
}

const char* to_string(DatasetType v) {
    switch (v) {
    case DatasetType::Wikitext2:
        return "wikitext2";
    case DatasetType::C4:
        return "c4";
    case DatasetType::Text:
        return "text";
    }
    return "?";
}

const char* to_string(EvalStage v) {
    switch (v) {
    case EvalStage::Fp:
        return "fp";
    case EvalStage::Quantized:
        return "quantized";
    case EvalStage::Compensated:
        return "compensated";
    }
    return "?";
}

std::string RunConfig::resolve(const std::string& path) const {
    if (path.empty()) return path;
    const std::filesystem::path p(path);
    if (p.is_absolute() || data_root.empty()) return p.lexically_normal().string();
    return (std::filesystem::path(data_root) / p).lexically_normal().string();
}

std::string RunConfig::output_dir() const {
    std::string out;
    const std::string& pattern = rilq.output_dir;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '{') {
            out += pattern[i];
            continue;
        }
        const size_t close = pattern.find('}', i);
        const std::string key = pattern.substr(i + 1, close - i - 1);
        // Names become single folder names: "../../x" in a name cannot leave the output root.
        if (key == "experiment")
            out += safe_path_component(experiment);
        else if (key == "run")
            out += safe_path_component(run_name);
        else if (key == "index")
            out += std::to_string(index);
        else
            throw Error("rilq.output_dir: unknown placeholder {" + key + "} in \"" + pattern + "\"");
        i = close;
    }
    return out;
}

namespace {
std::vector<DatasetSpec> lookup(const std::map<std::string, DatasetSpec>& registry,
                                const std::vector<std::string>& names, const char* what) {
    std::vector<DatasetSpec> out;
    for (const auto& name : names) {
        const auto it = registry.find(name);
        if (it == registry.end())
            throw Error(std::string(what) + ": dataset \"" + name + "\" is not in $.datasets");
        out.push_back(it->second);
    }
    return out;
}
} // namespace

std::vector<DatasetSpec> RunConfig::calib_datasets() const {
    return lookup(datasets, split_dataset_list(rilq.calib_dataset), "rilq.calib_dataset");
}

std::vector<DatasetSpec> RunConfig::eval_datasets() const {
    return lookup(datasets, eval.datasets, "eval.datasets");
}

std::vector<std::string> split_dataset_list(const std::string& comma_separated) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= comma_separated.size()) {
        size_t end = comma_separated.find(',', start);
        if (end == std::string::npos) end = comma_separated.size();
        std::string part = comma_separated.substr(start, end - start);
        const auto first = part.find_first_not_of(" \t");
        const auto last = part.find_last_not_of(" \t");
        if (first != std::string::npos) out.push_back(part.substr(first, last - first + 1));
        start = end + 1;
    }
    return out;
}

} // namespace rilq::run
