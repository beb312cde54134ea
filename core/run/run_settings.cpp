#include "core/run/run_settings.h"

#include <algorithm>

#include "core/util/error.h"

namespace rilq::run {

TrainConfig train_config_of(const RunConfig& config) {
    const RilqSettings& r = config.rilq;
    TrainConfig t;
    t.lora_r = r.lora_r;
    t.lora_alpha = r.lora_alpha;
    t.lora_dropout = r.lora_dropout;
    t.init = parse_lora_init(to_string(r.lora_init));
    t.iec = r.iec;
    t.targets = r.lora_targets;
    t.scope = parse_scope(to_string(r.scope));
    t.a_type = parse_target_type(to_string(r.a_type));
    t.a_dis_weight = r.a_dis_weight;
    t.gt_weight = r.gt_weight;
    t.approx_total_steps = r.approx_total_steps;
    t.approx_lr = r.approx_lr;
    t.approx_batch_size = r.approx_batch_size;
    t.gradient_accumulation_steps = r.gradient_accumulation_steps;
    t.optimizer = parse_optimizer(to_string(r.optimizer));
    t.weight_decay = r.weight_decay;
    t.schedule = parse_lr_schedule(to_string(r.lr_schedule));
    t.approx_eval_steps = r.approx_eval_steps;
    t.approx_early_stop = r.approx_early_stop;
    t.approx_es_patience = r.approx_es_patience;
    t.seed = static_cast<uint64_t>(config.seed);
    t.validate();
    return t;
}

QuantSpec quant_spec_of(const RunConfig& config) {
    const QuantSettings& q = config.quant;
    if (q.method == QuantMethod::None)
        throw Error("quant.method is \"none\": the run loads rilq.q_model instead of quantizing");
    QuantSpec spec;
    spec.method = parse_quant_method(to_string(q.method), "$.quant.method");
    spec.bits = q.bits;
    spec.group_size = q.group_size == 0 ? -1 : q.group_size; // 0 in configs = one group per row
    if (!q.variant.empty()) set_variant(spec, q.variant, "$.quant.variant");
    spec.double_quant = q.double_quant;
    spec.icq_n = q.icq_tau_n;
    spec.icq_lambda = q.icq_tau_lambda;
    spec.validate("$.quant");
    return spec;
}

ModelOptions model_options_of(const RunConfig& config) {
    ModelOptions options;
    const std::string& d = config.rilq.dtype;
    if (d == "fp32") options.compute_dtype = at::kFloat;
    else if (d == "bf16") options.compute_dtype = at::kBFloat16;
    else if (d == "fp16") options.compute_dtype = at::kHalf;
    else throw Error("rilq.dtype: expected one of bf16, fp16, fp32, found \"" + d + "\"");
    options.device = config.device;
    return options;
}

rilq::DatasetSpec data_spec_of(const RunConfig& config, const run::DatasetSpec& dataset) {
    rilq::DatasetSpec spec;
    switch (dataset.type) {
    case DatasetType::Wikitext2: spec.kind = DatasetKind::WikiText2; break;
    case DatasetType::C4: spec.kind = DatasetKind::C4; break;
    case DatasetType::Text: spec.kind = DatasetKind::Text; break;
    }
    spec.path = config.resolve(dataset.path);
    spec.range_begin = dataset.range_begin;
    spec.range_end = dataset.range_end;
    return spec;
}

std::unique_ptr<Tokenizer> tokenizer_of(const RunConfig& config) {
    if (!config.rilq.tokenizer.empty()) return load_tokenizer(config.resolve(config.rilq.tokenizer));
    return find_tokenizer(config.resolve(config.rilq.base_model));
}

} // namespace rilq::run
