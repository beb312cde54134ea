#include "core/rilq/compensation.h"

#include "core/model/llama_model.h"
#include "core/rilq/layer_objective.h"
#include "core/rilq/linear_objective.h"
#include "core/rilq/model_objective.h"
#include "core/rilq/weight_svd.h"
#include "core/util/error.h"

namespace rilq {

namespace {

LossWeights weights_of(const TrainConfig& c) {
    return {c.a_dis_weight, c.gt_weight};
}

CompensationResult killed_while_preparing(LoraSet adapters) {
    CompensationResult r;
    r.adapters = std::move(adapters);
    r.train.status = TrainStatus::Killed;
    r.train.message = "cancelled while preparing (teacher targets)";
    return r;
}

} // namespace

CachedTargets cache_teacher_targets(const LlamaModel& teacher, const torch::Tensor& train_ids,
                                    const torch::Tensor& val_ids, const TrainConfig& config,
                                    const ProgressSink& progress, const std::string& temp_dir) {
    const TargetCachePolicy policy{config.target_memory_budget_bytes, temp_dir};
    CachedTargets t;
    t.train = TeacherTargets::compute(teacher, train_ids, config.a_type, config.approx_batch_size, policy,
                                      progress);
    t.val =
        TeacherTargets::compute(teacher, val_ids, config.a_type, config.approx_batch_size, policy, progress);
    return t;
}

CompensationResult train_on_targets(LlamaModel& student, CachedTargets targets,
                                    const torch::Tensor& train_ids, const torch::Tensor& val_ids,
                                    const TrainConfig& config, const TrainerOptions& options,
                                    const AdapterInitializer& init) {
    config.validate();
    CompensationResult r;
    r.adapters = attach_lora(student, config.lora);
    if (init && !r.adapters.empty()) init(r.adapters);
    ModelObjective objective(student, std::move(targets.train), std::move(targets.val), weights_of(config),
                             config.activation_checkpointing);
    Trainer trainer(config, r.adapters, objective, train_ids, val_ids, options);
    r.train = trainer.run();
    return r;
}

CompensationResult run_compensation(std::shared_ptr<const LlamaModel> teacher, LlamaModel& student,
                                    const torch::Tensor& train_ids, const torch::Tensor& val_ids,
                                    const TrainConfig& config, const TrainerOptions& options,
                                    const ProgressSink& progress, const AdapterInitializer& init) {
    config.validate();
    if (!teacher) throw Error("run_compensation: no teacher (FP) model");
    switch (config.scope) {
    case Scope::Model: {
        CachedTargets targets;
        try {
            targets = cache_teacher_targets(*teacher, train_ids, val_ids, config, progress);
        } catch (const Cancelled&) {
            return killed_while_preparing({});
        }
        if (!init) {
            teacher.reset(); // the last reference frees the FP weights before training starts
            return train_on_targets(student, std::move(targets), train_ids, val_ids, config, options);
        }
        const AdapterInitializer init_then_release = [&](LoraSet& adapters) {
            init(adapters);
            teacher.reset();
        };
        return train_on_targets(student, std::move(targets), train_ids, val_ids, config, options,
                                init_then_release);
    }
    case Scope::WeightSvd: {
        CachedTargets targets;
        try {
            // Only validation targets: there is no training, just the same model-level report.
            targets.val = TeacherTargets::compute(*teacher, val_ids, config.a_type, config.approx_batch_size,
                                                  {config.target_memory_budget_bytes, {}}, progress);
        } catch (const Cancelled&) {
            return killed_while_preparing({});
        }
        targets.train = targets.val;
        CompensationResult r;
        r.adapters = attach_lora(student, config.lora);
        if (init && !r.adapters.empty())
            init(r.adapters);
        else
            init_adapters_from_weight_svd(*teacher, student, r.adapters);
        teacher.reset();
        TrainConfig validation_only = config;
        validation_only.approx_total_steps = 0;
        ModelObjective objective(student, std::move(targets.train), std::move(targets.val),
                                 weights_of(config));
        Trainer trainer(validation_only, r.adapters, objective, train_ids, val_ids, options);
        r.train = trainer.run();
        if (r.train.status == TrainStatus::Finished)
            r.train.message =
                init ? "weight-svd: adapters from lora_init " + to_string(config.lora.init) + ", no training"
                     : "weight-svd: adapters from the top-r SVD of W - Q(W), no training";
        return r;
    }
    case Scope::Linear:
    case Scope::Layer: {
        CompensationResult r;
        r.adapters = attach_lora(student, config.lora);
        if (init && !r.adapters.empty()) init(r.adapters);
        std::unique_ptr<TrainObjective> objective;
        if (config.scope == Scope::Linear)
            objective = std::make_unique<LinearObjective>(teacher, student, r.adapters);
        else
            objective = std::make_unique<LayerObjective>(teacher, student);
        Trainer trainer(config, r.adapters, *objective, train_ids, val_ids, options);
        r.train = trainer.run();
        return r;
    }
    }
    throw Error("run_compensation: unknown scope");
}

} // namespace rilq
