#include "core/rilq/train_config.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace rilq {

LoraConfig TrainConfig::lora_config() const {
    LoraConfig c;
    c.r = lora_r;
    c.alpha = lora_alpha;
    c.dropout = lora_dropout;
    c.init = init;
    c.iec = iec;
    c.targets = targets;
    c.seed = seed;
    return c;
}

void TrainConfig::validate() const {
    auto at_least = [](const char* name, int64_t value, int64_t min) {
        if (value < min)
            throw Error(std::string(name) + " must be >= " + std::to_string(min) + ", found " + std::to_string(value));
    };
    auto finite_non_negative = [](const char* name, double value) {
        if (!std::isfinite(value) || value < 0.0)
            throw Error(std::string(name) + " must be a finite number >= 0, found " + std::to_string(value));
    };
    lora_config().validate();
    at_least("approx_total_steps", approx_total_steps, 0);
    at_least("approx_batch_size", approx_batch_size, 1);
    at_least("gradient_accumulation_steps", gradient_accumulation_steps, 1);
    at_least("approx_eval_steps", approx_eval_steps, 1);
    at_least("approx_es_patience", approx_es_patience, 1);
    at_least("eval_batch_size", eval_batch_size, 0);
    at_least("target_memory_budget_bytes", target_memory_budget_bytes, 0);
    if (!(approx_lr > 0.0) || !std::isfinite(approx_lr))
        throw Error("approx_lr must be a positive number, found " + std::to_string(approx_lr));
    finite_non_negative("a_dis_weight", a_dis_weight);
    finite_non_negative("gt_weight", gt_weight);
    finite_non_negative("weight_decay", weight_decay);
    finite_non_negative("approx_es_delta", approx_es_delta);
    finite_non_negative("max_grad_norm", max_grad_norm);
    if (scope == Scope::Model && a_dis_weight == 0.0 && gt_weight == 0.0)
        throw Error("a_dis_weight and gt_weight are both 0: the RILQ loss would be constant");
}

// ----------------------------------------------------------------------------
// enums as text

std::string to_string(TargetType t) { return t == TargetType::Hidden ? "hid" : "logit"; }

std::string to_string(Scope s) {
    switch (s) {
    case Scope::Model: return "model";
    case Scope::WeightSvd: return "weight-svd";
    case Scope::Linear: return "linear";
    case Scope::Layer: return "layer";
    }
    return "?";
}

std::string to_string(OptimizerKind o) { return o == OptimizerKind::Adam ? "adam" : "adamw"; }
std::string to_string(LrSchedule s) { return s == LrSchedule::Constant ? "constant" : "cosine"; }

TargetType parse_target_type(const std::string& text) {
    if (text == "hid") return TargetType::Hidden;
    if (text == "logit") return TargetType::Logit;
    throw Error("a_type: unknown value \"" + text + "\" (expected hid or logit)");
}

Scope parse_scope(const std::string& text) {
    if (text == "model") return Scope::Model;
    if (text == "weight-svd") return Scope::WeightSvd;
    if (text == "linear") return Scope::Linear;
    if (text == "layer") return Scope::Layer;
    throw Error("scope: unknown value \"" + text + "\" (expected model, weight-svd, linear or layer)");
}

OptimizerKind parse_optimizer(const std::string& text) {
    if (text == "adam") return OptimizerKind::Adam;
    if (text == "adamw") return OptimizerKind::AdamW;
    throw Error("optimizer: unknown value \"" + text + "\" (expected adam or adamw)");
}

LrSchedule parse_lr_schedule(const std::string& text) {
    if (text == "constant") return LrSchedule::Constant;
    if (text == "cosine") return LrSchedule::Cosine;
    throw Error("schedule: unknown value \"" + text + "\" (expected constant or cosine)");
}

double learning_rate_at(const TrainConfig& config, int64_t update) {
    if (config.schedule == LrSchedule::Constant) return config.approx_lr;
    const auto total = std::max<int64_t>(1, config.total_updates());
    const double progress = std::min(1.0, static_cast<double>(update) / static_cast<double>(total));
    return config.approx_lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// ----------------------------------------------------------------------------
// JSON

nlohmann::json TrainConfig::to_json() const {
    nlohmann::json j;
    j["lora_r"] = lora_r;
    j["lora_alpha"] = lora_alpha;
    j["lora_dropout"] = lora_dropout;
    j["init"] = to_string(init);
    j["iec"] = iec;
    j["targets"] = targets;
    j["scope"] = to_string(scope);
    j["a_type"] = to_string(a_type);
    j["a_dis_weight"] = a_dis_weight;
    j["gt_weight"] = gt_weight;
    j["approx_total_steps"] = approx_total_steps;
    j["approx_lr"] = approx_lr;
    j["approx_batch_size"] = approx_batch_size;
    j["gradient_accumulation_steps"] = gradient_accumulation_steps;
    j["optimizer"] = to_string(optimizer);
    j["weight_decay"] = weight_decay;
    j["schedule"] = to_string(schedule);
    j["max_grad_norm"] = max_grad_norm;
    j["approx_eval_steps"] = approx_eval_steps;
    j["eval_batch_size"] = eval_batch_size;
    j["approx_early_stop"] = approx_early_stop;
    j["approx_es_patience"] = approx_es_patience;
    j["approx_es_delta"] = approx_es_delta;
    j["restore_best"] = restore_best;
    j["seed"] = seed;
    j["target_memory_budget_bytes"] = target_memory_budget_bytes;
    return j;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
    TrainConfig c;
    auto get = [&](const char* key, auto& out) {
        if (!j.contains(key)) return;
        try {
            out = j.at(key).get<std::decay_t<decltype(out)>>();
        } catch (const nlohmann::json::exception&) {
            throw Error(std::string("$.") + key + ": wrong type, found " + j.at(key).dump());
        }
    };
    auto get_enum = [&](const char* key, auto& out, auto parse) {
        std::string text;
        get(key, text);
        if (!text.empty()) out = parse(text);
    };
    get("lora_r", c.lora_r);
    get("lora_alpha", c.lora_alpha);
    get("lora_dropout", c.lora_dropout);
    get_enum("init", c.init, parse_lora_init);
    get("iec", c.iec);
    get("targets", c.targets);
    get_enum("scope", c.scope, parse_scope);
    get_enum("a_type", c.a_type, parse_target_type);
    get("a_dis_weight", c.a_dis_weight);
    get("gt_weight", c.gt_weight);
    get("approx_total_steps", c.approx_total_steps);
    get("approx_lr", c.approx_lr);
    get("approx_batch_size", c.approx_batch_size);
    get("gradient_accumulation_steps", c.gradient_accumulation_steps);
    get_enum("optimizer", c.optimizer, parse_optimizer);
    get("weight_decay", c.weight_decay);
    get_enum("schedule", c.schedule, parse_lr_schedule);
    get("max_grad_norm", c.max_grad_norm);
    get("approx_eval_steps", c.approx_eval_steps);
    get("eval_batch_size", c.eval_batch_size);
    get("approx_early_stop", c.approx_early_stop);
    get("approx_es_patience", c.approx_es_patience);
    get("approx_es_delta", c.approx_es_delta);
    get("restore_best", c.restore_best);
    get("seed", c.seed);
    get("target_memory_budget_bytes", c.target_memory_budget_bytes);
    return c;
}

} // namespace rilq
