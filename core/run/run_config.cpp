#include "core/run/run_config.h"

#include <algorithm>

#include "core/util/config_fields.h"
#include "core/util/error.h"
#include "core/util/path_names.h"

#include <filesystem>

namespace rilq::run {

const std::vector<std::pair<EvalStage, std::string>>& eval_stage_names() {
    static const config::EnumNames<EvalStage> names = {{EvalStage::Fp, "fp"},
                                                       {EvalStage::Quantized, "quantized"},
                                                       {EvalStage::Compensated, "compensated"},
                                                       {EvalStage::Finetuned, "finetuned"}};
    return names;
}

std::string to_string(EvalStage stage) {
    return config::name_of(eval_stage_names(), stage);
}

QuantSpec RunConfig::no_quantizer() {
    QuantSpec spec;
    spec.method = kNoQuantization;
    return spec;
}

std::string RunConfig::resolve(const std::string& path) const {
    if (path.empty()) return path;
    const std::filesystem::path p(path);
    if (p.is_absolute() || data_root.empty()) return p.lexically_normal().string();
    return (std::filesystem::path(data_root) / p).lexically_normal().string();
}

std::string RunConfig::output_dir() const {
    std::string out;
    const std::string& pattern = model.output_dir;
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
std::vector<DatasetEntry> lookup(const std::map<std::string, DatasetEntry>& registry,
                                 const std::vector<std::string>& names, const char* what) {
    std::vector<DatasetEntry> out;
    for (const auto& name : names) {
        const auto it = registry.find(name);
        if (it == registry.end())
            throw Error(std::string(what) + ": dataset \"" + name + "\" is not in $.datasets");
        out.push_back(it->second);
    }
    return out;
}
} // namespace

std::vector<DatasetEntry> RunConfig::calib_datasets() const {
    return lookup(datasets, split_dataset_list(calib.datasets), "rilq.calib_dataset");
}

std::vector<DatasetEntry> RunConfig::eval_datasets() const {
    std::vector<DatasetEntry> entries = lookup(datasets, eval.datasets, "eval.datasets");
    if (eval.max_windows > 0) // the experiment-wide cap; a dataset's own smaller cap stays
        for (DatasetEntry& entry : entries)
            entry.max_windows =
                entry.max_windows > 0 ? std::min(entry.max_windows, eval.max_windows) : eval.max_windows;
    return entries;
}

std::vector<TaskSpec> RunConfig::task_specs() const {
    std::vector<TaskSpec> specs;
    for (const TaskInfo& info : task_infos()) {
        const auto it = eval.tasks.find(info.name);
        if (it == eval.tasks.end()) continue;
        TaskSpec spec = it->second;
        spec.name = info.name;
        spec.path = resolve(spec.path);
        specs.push_back(std::move(spec));
    }
    return specs;
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
