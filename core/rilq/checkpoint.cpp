#include "core/rilq/checkpoint.h"

#include "core/io/torch_file.h"
#include "core/util/atomic_dir.h"
#include "core/util/checked_file.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

namespace {

void save_state(const AdapterState& state, const std::string& path, nlohmann::json& names) {
    std::vector<torch::Tensor> tensors;
    names = nlohmann::json::array();
    for (const auto& [name, t] : state) {
        names.push_back(name);
        tensors.push_back(t.detach().contiguous());
    }
    save_torch_file(tensors, path);
}

AdapterState load_state(const std::string& path, const nlohmann::json& names) {
    std::vector<torch::Tensor> tensors;
    try {
        torch::load(tensors, path);
    } catch (const c10::Error& e) {
        throw Error("cannot read checkpoint tensors " + path + ": " + e.what_without_backtrace());
    }
    if (tensors.size() != names.size())
        throw Error(path + ": holds " + std::to_string(tensors.size()) + " tensors, checkpoint.json names " +
                    std::to_string(names.size()));
    AdapterState state;
    for (size_t i = 0; i < tensors.size(); ++i) state[names[i].get<std::string>()] = tensors[i];
    return state;
}

double number_or(const nlohmann::json& j, const char* key, double fallback) {
    // JSON has no inf/NaN: they are written as null.
    return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : fallback;
}

constexpr const char* kCheckpointFile = "checkpoint.json";

// A folder the checkpoint writer may replace: an earlier checkpoint (the Runner makes sure the
// folder is its run's own before training starts).
const ReplaceRule& checkpoint_rule() {
    static const ReplaceRule rule{"a training checkpoint (a folder with checkpoint.json)",
                                  [](const std::string& dir) { return is_checkpoint_dir(dir); }};
    return rule;
}

} // namespace

bool is_checkpoint_dir(const std::string& dir) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / kCheckpointFile, ec);
}

void remove_checkpoint(const std::string& dir) {
    if (is_checkpoint_dir(dir)) fs::remove_all(dir);
}

int64_t checkpoint_update_step(const std::string& dir) {
    const auto json_path = (fs::path(dir) / kCheckpointFile).string();
    const nlohmann::json j = read_json_file(json_path);
    try {
        return j.at("update_step").get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(json_path + ": malformed checkpoint: " + clip_for_message(e.what()));
    }
}

void write_checkpoint(const std::string& dir, const TrainingCheckpoint& c, const torch::optim::Optimizer& optimizer) {
    write_dir_atomic(dir, checkpoint_rule(), [&](const std::string& tmp) {
        const fs::path d(tmp);
        nlohmann::json j;
        j["format_version"] = TrainingCheckpoint::kFormatVersion;
        j["micro_step"] = c.micro_step;
        j["update_step"] = c.update_step;
        j["validations"] = c.validations;
        j["es_counter"] = c.es_counter;
        j["best_v_loss"] = c.best_v_loss;
        j["best_v_a_loss"] = c.best_v_a_loss;
        j["best_v_gt_loss"] = c.best_v_gt_loss;
        j["best_update_step"] = c.best_update_step;
        j["config"] = nlohmann::json::parse(c.config_json);
        save_state(c.adapters, (d / "adapters.pt").string(), j["adapter_names"]);
        if (!c.best_adapters.empty())
            save_state(c.best_adapters, (d / "best_adapters.pt").string(), j["best_adapter_names"]);
        if (c.dropout_rng_state.defined())
            save_torch_file(c.dropout_rng_state, (d / "dropout_rng.pt").string());
        save_torch_file(optimizer, (d / "optimizer.pt").string());
        write_file_checked((d / kCheckpointFile).string(),
                           j.dump(2) + "\n"); // last: it marks the folder complete
    });
}

TrainingCheckpoint read_checkpoint(const std::string& dir) {
    const fs::path d(dir);
    const auto json_path = (d / kCheckpointFile).string();
    if (!fs::exists(json_path)) throw Error("not a training checkpoint (no " + json_path + ")");
    const nlohmann::json j = read_json_file(json_path);
    try {
        const int version = j.at("format_version").get<int>();
        if (version != TrainingCheckpoint::kFormatVersion)
            throw Error(json_path + ": $.format_version is " + std::to_string(version) + ", this build reads " +
                        std::to_string(TrainingCheckpoint::kFormatVersion));
        TrainingCheckpoint c;
        c.micro_step = j.at("micro_step").get<int64_t>();
        c.update_step = j.at("update_step").get<int64_t>();
        c.validations = j.at("validations").get<int64_t>();
        c.es_counter = j.at("es_counter").get<int64_t>();
        c.best_v_loss = number_or(j, "best_v_loss", std::numeric_limits<double>::infinity());
        c.best_v_a_loss = number_or(j, "best_v_a_loss", std::numeric_limits<double>::quiet_NaN());
        c.best_v_gt_loss = number_or(j, "best_v_gt_loss", std::numeric_limits<double>::quiet_NaN());
        c.best_update_step = j.at("best_update_step").get<int64_t>();
        c.config_json = j.at("config").dump();
        c.adapters = load_state((d / "adapters.pt").string(), j.at("adapter_names"));
        if (j.contains("best_adapter_names"))
            c.best_adapters = load_state((d / "best_adapters.pt").string(), j.at("best_adapter_names"));
        if (fs::exists(d / "dropout_rng.pt")) torch::load(c.dropout_rng_state, (d / "dropout_rng.pt").string());
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw Error(json_path + ": malformed checkpoint: " + clip_for_message(e.what()));
    }
}

void load_optimizer_state(const std::string& dir, torch::optim::Optimizer& optimizer) {
    const auto path = (fs::path(dir) / "optimizer.pt").string();
    if (!fs::exists(path)) throw Error("checkpoint lacks the optimizer state " + path);
    try {
        torch::load(optimizer, path);
    } catch (const c10::Error& e) {
        throw Error("cannot load the optimizer state " + path + ": " + e.what_without_backtrace());
    }
}

} // namespace rilq
