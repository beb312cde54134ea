#include "core/lora/peft_adapter.h"
#include "core/util/shape_text.h"

#include "core/io/safetensors.h"
#include "core/model/llama_model.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace rilq {

namespace {

constexpr const char* kWeightsFile = "adapter_model.safetensors";
constexpr const char* kAdapterConfigFile = "adapter_config.json";

nlohmann::json config_json(const LoraConfig& c, const std::string& base_model) {
    nlohmann::json j;
    j["peft_type"] = "LORA";
    j["task_type"] = "CAUSAL_LM";
    j["base_model_name_or_path"] = base_model;
    j["r"] = c.r;
    j["lora_alpha"] = c.alpha;
    j["lora_dropout"] = c.dropout;
    j["target_modules"] = c.targets;
    // PEFT spells Kaiming-uniform as `true` (its default) and RILQ's init as "gaussian".
    if (c.init == LoraInit::Gaussian) j["init_lora_weights"] = "gaussian";
    else j["init_lora_weights"] = true;
    j["bias"] = "none";
    j["fan_in_fan_out"] = false;
    j["inference_mode"] = true;
    j["modules_to_save"] = nullptr;
    j["layers_to_transform"] = nullptr;
    j["layers_pattern"] = nullptr;
    j["rank_pattern"] = nlohmann::json::object();
    j["alpha_pattern"] = nlohmann::json::object();
    j["use_rslora"] = false;
    j["use_dora"] = false;
    j["revision"] = nullptr;
    return j;
}

LoraConfig parse_config(const nlohmann::json& j, const std::string& path) {
    auto field = [&](const char* key) -> const nlohmann::json& {
        if (!j.contains(key)) throw Error(path + ": missing field $." + key);
        return j.at(key);
    };
    auto flag_off = [&](const char* key) {
        if (j.contains(key) && j.at(key).is_boolean() && j.at(key).get<bool>())
            throw Error(path + ": $." + std::string(key) + " = true is not supported");
    };
    auto empty_or_absent = [&](const char* key) {
        if (j.contains(key) && !j.at(key).is_null() && !j.at(key).empty())
            throw Error(path + ": $." + std::string(key) + " is not supported (per-module ranks or alphas)");
    };
    try {
        if (field("peft_type").get<std::string>() != "LORA")
            throw Error(path + ": $.peft_type is \"" + j.at("peft_type").get<std::string>() + "\", expected \"LORA\"");
        flag_off("use_rslora");
        flag_off("use_dora");
        flag_off("fan_in_fan_out");
        empty_or_absent("rank_pattern");
        empty_or_absent("alpha_pattern");
        if (j.contains("bias") && j.at("bias") != "none")
            throw Error(path + ": $.bias = " + j.at("bias").dump() + " is not supported (expected \"none\")");
        LoraConfig c;
        c.r = field("r").get<int64_t>();
        c.alpha = field("lora_alpha").get<double>();
        c.dropout = j.value("lora_dropout", 0.0);
        const auto& targets = field("target_modules");
        if (!targets.is_array())
            throw Error(path + ": $.target_modules must be a list of projection names, found " + targets.dump());
        c.targets = targets.get<std::vector<std::string>>();
        const auto init = j.value("init_lora_weights", nlohmann::json(true));
        c.init = init.is_string() && init.get<std::string>() == "gaussian" ? LoraInit::Gaussian : LoraInit::Kaiming;
        c.validate();
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": malformed adapter config: " + e.what());
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.rfind(path, 0) == 0) throw;
        throw Error(path + ": " + what);
    }
}

} // namespace

std::string peft_tensor_name(const std::string& linear_name, bool lora_a) {
    return "base_model.model.model." + linear_name + (lora_a ? ".lora_A.weight" : ".lora_B.weight");
}

void save_peft_adapter(const std::string& dir, const LoraSet& set, const std::string& base_model_name_or_path) {
    if (set.empty()) throw Error("save_peft_adapter(" + dir + "): no adapters to save (rank 0)");
    fs::create_directories(dir);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& a : set.adapters()) {
        tensors.emplace_back(peft_tensor_name(a->linear_name(), true), a->merged_A().contiguous());
        tensors.emplace_back(peft_tensor_name(a->linear_name(), false), a->merged_B().contiguous());
    }
    save_safetensors((fs::path(dir) / kWeightsFile).string(), tensors, {{"format", "pt"}});
    LoraConfig saved = set.config();
    saved.iec = false;   // folded into A and B above
    write_file_atomic((fs::path(dir) / kAdapterConfigFile).string(), config_json(saved, base_model_name_or_path).dump(2) + "\n");
}

LoraSet load_peft_adapter(const std::string& dir, LlamaModel& model) {
    const std::string config_path = (fs::path(dir) / kAdapterConfigFile).string();
    const std::string weights_path = (fs::path(dir) / kWeightsFile).string();
    if (!fs::exists(config_path)) throw Error("cannot open PEFT adapter config " + config_path);
    const nlohmann::json j = read_json_file(config_path);
    const LoraConfig config = parse_config(j, config_path);
    if (!fs::exists(weights_path)) throw Error("PEFT adapter weights missing: " + weights_path);
    SafetensorsFile file(weights_path);

    LoraSet set = attach_lora(model, config);
    try {
        std::set<std::string> used;
        for (const auto& a : set.adapters()) {
            for (const bool is_a : {true, false}) {
                const auto key = peft_tensor_name(a->linear_name(), is_a);
                if (!file.contains(key)) throw Error(weights_path + ": missing tensor \"" + key + "\"");
                auto t = file.tensor(key);
                const auto& expected = is_a ? a->A() : a->B();
                if (t.sizes() != expected.sizes())
                    throw Error(weights_path + ": tensor \"" + key + "\" has shape " + shape_text(t.sizes()) +
                                ", expected " + shape_text(expected.sizes()) + " (r = " + std::to_string(config.r) + ")");
                if (!t.is_floating_point())
                    throw Error(weights_path + ": tensor \"" + key + "\" is not floating point");
                a->set_parameter(is_a ? "lora_A" : "lora_B", t);
                used.insert(key);
            }
        }
        for (const auto& name : file.names())
            if (!used.count(name))
                throw Error(weights_path + ": unexpected tensor \"" + name + "\" (not a LoRA A/B of a target linear)");
    } catch (...) {
        detach_lora(model, set);
        throw;
    }
    return set;
}

} // namespace rilq
