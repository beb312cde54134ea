#include "core/rilq/train_config.h"

#include "core/util/config_fields.h"
#include "core/util/error.h"

#include <cmath>

namespace rilq {

namespace {

// The experiment's names of the training enums, in declaration order.
struct TrainEnumNames {
    config::EnumNames<TargetType> target_types{{TargetType::Hidden, "hid"}, {TargetType::Logit, "logit"}};
    config::EnumNames<Scope> scopes{{Scope::Model, "model"},
                                    {Scope::WeightSvd, "weight-svd"},
                                    {Scope::Linear, "linear"},
                                    {Scope::Layer, "layer"}};
    config::EnumNames<OptimizerKind> optimizers{{OptimizerKind::Adam, "adam"},
                                                {OptimizerKind::AdamW, "adamw"}};
    config::EnumNames<LrSchedule> schedules{{LrSchedule::Constant, "constant"},
                                            {LrSchedule::Cosine, "cosine"}};
};

const TrainEnumNames& enum_names() {
    static const TrainEnumNames names;
    return names;
}

} // namespace

const std::vector<std::pair<TargetType, std::string>>& target_type_names() {
    return enum_names().target_types;
}
const std::vector<std::pair<Scope, std::string>>& scope_names() {
    return enum_names().scopes;
}
const std::vector<std::pair<OptimizerKind, std::string>>& optimizer_names() {
    return enum_names().optimizers;
}
const std::vector<std::pair<LrSchedule, std::string>>& lr_schedule_names() {
    return enum_names().schedules;
}

std::string to_string(TargetType t) {
    return config::name_of(target_type_names(), t);
}
std::string to_string(Scope s) {
    return config::name_of(scope_names(), s);
}
std::string to_string(OptimizerKind o) {
    return config::name_of(optimizer_names(), o);
}
std::string to_string(LrSchedule s) {
    return config::name_of(lr_schedule_names(), s);
}

namespace {

// TrainConfig's own fields, without the LoRA ones.
const std::vector<config::Field<TrainConfig>>& own_fields() {
    using namespace config;
    using T = TrainConfig;
    static const std::vector<Field<T>> fields = {
        choice<T>("a_type", at(&T::a_type), target_type_names())
            .titled("Model loss at")
            .official()
            .in_phase(Phase::Targets)
            .help("where the model-level loss is taken: the last hidden state after the final RMSNorm, or "
                  "the logits"),
        integer<T>("approx_total_steps", at(&T::approx_total_steps), 0, kIntMax)
            .titled("Total micro-steps")
            .official()
            .resumable_field()
            .help("micro-steps (forward + backward on one micro-batch)"),
        number<T>("approx_lr", at(&T::approx_lr), 0, kInfinity, true)
            .titled("Learning rate")
            .official()
            .help("learning rate (Adam); tuned for 7B, small models want ~1e-3"),
        integer<T>("approx_batch_size", at(&T::approx_batch_size), 1, kIntMax)
            .titled("Batch size")
            .official()
            .in_phase(Phase::Targets)
            .help("windows per micro-batch; at most the training windows"),
        integer<T>("gradient_accumulation_steps", at(&T::gradient_accumulation_steps), 1, kIntMax)
            .titled("Accumulation")
            .official()
            .help("micro-steps per optimizer update (updates = total steps / this)"),
        integer<T>("approx_eval_steps", at(&T::approx_eval_steps), 1, kIntMax)
            .titled("Validate every (updates)")
            .official()
            .help("validate every this many optimizer updates (and once before training, at update 0)"),
        boolean<T>("approx_early_stop", at(&T::approx_early_stop))
            .titled("Early stop")
            .official()
            .resumable_field()
            .help("stop after `approx_es_patience` validations in a row without improvement; the best "
                  "validation's adapters are kept"),
        integer<T>("approx_es_patience", at(&T::approx_es_patience), 1, kIntMax)
            .titled("Patience")
            .official()
            .resumable_field()
            .help("see `approx_early_stop`"),
        number<T>("approx_es_delta", at(&T::approx_es_delta), 0, kInfinity)
            .titled("Patience delta")
            .official()
            .help("a validation that is not a new best counts towards the patience only when "
                  "|v_loss - best| >= delta (official `--approx_es_delta`; 0: every one counts)"),
        number<T>("a_dis_weight", at(&T::a_dis_weight), 0, kInfinity)
            .titled("Model-loss weight")
            .official()
            .help("weight of the model-level (discrepancy) MSE"),
        number<T>("gt_weight", at(&T::gt_weight), 0, kInfinity)
            .titled("GT-loss weight")
            .official()
            .help("weight of the ground-truth next-token cross-entropy; `a_dis_weight + gt_weight` must "
                  "be > 0"),
        choice<T>("scope", at(&T::scope), scope_names())
            .titled("Scope")
            .workbench()
            .help(
                "what the adapters are fitted to: RILQ's model output, or the layer-wise baselines the "
                "paper compares with (weight-svd: no training, the top-r SVD of W - Q(W) = one-round LoftQ, "
                "or the closed form lora_init sets; each linear's output error; each decoder layer's output "
                "error)"),
        choice<T>("optimizer", at(&T::optimizer), optimizer_names())
            .titled("Optimizer")
            .workbench()
            .help("`adam` as in the official code"),
        number<T>("weight_decay", at(&T::weight_decay), 0, kInfinity)
            .titled("Weight decay")
            .workbench()
            .help("Adam: L2 term; AdamW: decoupled decay"),
        choice<T>("lr_schedule", at(&T::lr_schedule), lr_schedule_names())
            .titled("LR schedule")
            .workbench()
            .help("cosine: lr x (1 + cos(pi x update / updates)) / 2"),
        number<T>("max_grad_norm", at(&T::max_grad_norm), 0, kInfinity)
            .titled("Max gradient norm")
            .workbench()
            .help("before each update the adapters' gradient is scaled to at most this L2 norm (HF "
                  "Trainer's `max_grad_norm`); 0 = off, as in RILQ's loop; IR-QLoRA's fine-tuning uses 0.3"),
        integer<T>("eval_batch_size", at(&T::eval_batch_size), 0, kIntMax)
            .titled("Validation batch size")
            .workbench()
            .help("rows per validation batch; 0 = `approx_batch_size`"),
        boolean<T>("restore_best", at(&T::restore_best))
            .titled("Restore best")
            .workbench()
            .help("end with the best validation's adapters (RILQ); off keeps the last ones (HF Trainer "
                  "without load_best_model_at_end, as IR-QLoRA trains)"),
        boolean<T>("activation_checkpointing", at(&T::activation_checkpointing))
            .titled("Activation checkpointing")
            .workbench()
            .resumable_field()
            .help("keep only each decoder layer's input during a training forward (scope model, "
                  "fine-tuning) and recompute the layer in the backward: the same gradients bit for bit, "
                  "one hidden state per layer held instead of every activation (long windows, big "
                  "batches), at about one more forward per step"),
        integer<T>("target_memory_budget_bytes", at(&T::target_memory_budget_bytes), 0, kInt64Max)
            .titled("Target memory (bytes)")
            .workbench()
            .resumable_field()
            .help("cached teacher targets above this size go to a memory-mapped file in the system temp "
                  "folder"),
    };
    return fields;
}

} // namespace

const std::vector<config::Field<TrainConfig>>& train_config_fields() {
    static const std::vector<config::Field<TrainConfig>> fields = [] {
        auto f = config::lift_all<TrainConfig>(lora_config_fields(), config::at(&TrainConfig::lora));
        f.insert(f.end(), own_fields().begin(), own_fields().end());
        // Training settings change the training only, except those marked as shaping the targets.
        for (auto& field : f)
            if (field.phase == config::Phase::Preparation) field.phase = config::Phase::Training;
        return f;
    }();
    return fields;
}

nlohmann::json train_config_json(const TrainConfig& config) {
    return config::write_fields(train_config_fields(), config);
}

bool must_match_on_resume(const std::string& key) {
    const auto* field = config::find_field(train_config_fields(), key);
    return field == nullptr || !field->resumable;
}

std::vector<config::Problem> TrainConfig::problems(const std::string& path) const {
    const auto at_key = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
    std::vector<config::Problem> out = lora.problems(path);
    for (auto& p : config::field_problems(own_fields(), *this, path))
        out.push_back(std::move(p));
    if (a_dis_weight + gt_weight <= 0.0)
        out.push_back({at_key("gt_weight"), "expected a positive sum with " + at_key("a_dis_weight") +
                                                ", found 0 and 0"}); // both are >= 0 (the fields' ranges)
    return out;
}

void TrainConfig::validate() const {
    const auto found = problems();
    if (!found.empty()) throw Error(config::describe_problems("training settings", found));
}

double learning_rate_at(const TrainConfig& config, int64_t update) {
    if (config.lr_schedule == LrSchedule::Constant) return config.approx_lr;
    const auto total = std::max<int64_t>(1, config.total_updates());
    const double progress = std::min(1.0, static_cast<double>(update) / static_cast<double>(total));
    return config.approx_lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

} // namespace rilq
