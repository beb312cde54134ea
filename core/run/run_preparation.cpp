#include "core/run/run_preparation.h"

#include "core/data/calibration.h"
#include "core/eval/perplexity.h"
#include "core/io/model_loader.h"
#include "core/quant/quant_stats_json.h"
#include "core/quant/quantize_model.h"
#include "core/run/config_document.h"
#include "core/run/layer_stats.h"
#include "core/run/run_settings.h"
#include "core/run/runner.h"
#include "core/util/error.h"

namespace rilq::run {

namespace {

// rilq.* fields that only shape training, not what preparation computes.
const char* const kTrainingOnly[] = {
    "lora_r", "lora_alpha", "lora_dropout", "lora_init", "lora_targets", "iec", "scope", "a_type",
    "a_dis_weight", "gt_weight", "approx_total_steps", "approx_lr", "approx_batch_size",
    "gradient_accumulation_steps", "approx_eval_steps", "approx_early_stop", "approx_es_patience",
    "optimizer", "weight_decay", "lr_schedule", "output_dir"};

nlohmann::json preparation_settings(const RunConfig& config) {
    nlohmann::json doc = nlohmann::json::parse(canonical_settings(config));
    if (doc.contains("rilq"))
        for (const char* key : kTrainingOnly) doc["rilq"].erase(key);
    doc.erase("seed"); // adapter init and dropout only
    return doc;
}

std::vector<EvalSet> build_eval_sets(const RunConfig& config, const Tokenizer& tokenizer,
                                     const ProgressSink& progress) {
    std::vector<EvalSet> sets;
    for (const DatasetSpec& dataset : config.eval_datasets()) {
        EvalWindowOptions options;
        options.seqlen = config.eval.seqlen;
        options.max_windows = dataset.max_windows;
        sets.push_back({dataset.name, build_eval_windows(data_spec_of(config, dataset), tokenizer, options, progress)});
    }
    return sets;
}

void build_calibration_windows(const RunConfig& config, Preparation& p, const ProgressSink& progress) {
    std::vector<rilq::DatasetSpec> specs;
    for (const DatasetSpec& dataset : config.calib_datasets()) specs.push_back(data_spec_of(config, dataset));
    CalibrationOptions options;
    options.seqlen = config.rilq.calib_max_length;
    options.seed = static_cast<uint64_t>(config.rilq.calib_seed);
    options.val_ratio = config.rilq.calib_val_ratio;
    const CalibrationSet set =
        build_calibration(calibration_sources(specs, {config.rilq.calib_num_samples}), *p.tokenizer, options, progress);
    p.train_ids = to_tensor(set.train);
    p.val_ids = to_tensor(set.val);
    p.calibration_description = set.description;
}

void compute_targets(const RunConfig& config, const LlamaModel& teacher, Preparation& p,
                     const StageCallback& on_stage, const ProgressSink& progress) {
    on_stage(RunStage::Targets);
    p.targets = cache_teacher_targets(teacher, p.train_ids, p.val_ids, train_config_of(config), progress);
    p.targets_key = targets_key(config);
}

// FP model -> student, in place: the FP weights are replaced one linear at a time.
void quantize_student(const RunConfig& config, Preparation& p, const ProgressSink& progress) {
    QuantizeModelOptions options;
    options.calib_ids = output_error_windows(p);
    const ModelQuantResult result = quantize_model(*p.student, quant_spec_of(config), options, progress);
    p.quantized_stats = quantized_layer_stats(result);
    p.quant_stats_json = quant_stats_to_json(result, p.base_model);
}

} // namespace

bool wants_stage(const RunConfig& config, EvalStage stage) {
    for (const EvalStage s : config.eval.stages)
        if (s == stage) return true;
    return false;
}

std::string preparation_key(const RunConfig& config) { return preparation_settings(config).dump(); }

std::string targets_key(const RunConfig& config) {
    return preparation_key(config) + "|a_type=" + to_string(config.rilq.a_type) +
           "|batch=" + std::to_string(config.rilq.approx_batch_size);
}

torch::Tensor output_error_windows(const Preparation& preparation) {
    const int64_t n = std::min<int64_t>(4, preparation.train_ids.size(0));
    return preparation.train_ids.slice(0, 0, n);
}

std::vector<store::EvalResult> evaluate_sets(const LlamaModel& model, const std::vector<EvalSet>& sets,
                                             const std::string& stage, const ProgressSink& progress) {
    std::vector<store::EvalResult> results;
    for (const EvalSet& set : sets) {
        ProgressSink sink = progress;
        sink.on_progress = [&](const ProgressInfo& info) {
            ProgressInfo named = info;
            named.stage = "eval " + stage + " " + set.name;
            progress.report(named);
        };
        const PerplexityResult r = evaluate_perplexity(model, to_tensor(set.windows.windows), sink);
        store::EvalResult e;
        e.dataset = set.name;
        e.stage = stage;
        e.file_sha256 = set.windows.protocol.file_sha256;
        e.tokenizer = set.windows.protocol.tokenizer_kind + ":" + set.windows.protocol.tokenizer_path;
        e.seqlen = static_cast<int>(r.seqlen);
        e.n_windows = r.n_windows;
        e.n_tokens = r.n_tokens;
        e.ppl = r.ppl;
        results.push_back(e);
    }
    return results;
}

std::unique_ptr<Preparation> prepare(const RunConfig& config, std::unique_ptr<Preparation> previous,
                                     const StageCallback& on_stage, const ProgressSink& progress) {
    const bool model_scope = config.rilq.scope == LossScope::Model;
    const ModelOptions model_options = model_options_of(config);
    if (previous && previous->key == preparation_key(config)) {
        // Same student and data; only the targets may be missing or of another type.
        if (model_scope && previous->targets_key != targets_key(config)) {
            previous->targets.reset();
            on_stage(RunStage::Load);
            const LlamaModel teacher = load_model(previous->base_model, model_options, progress);
            compute_targets(config, teacher, *previous, on_stage, progress);
        }
        return previous;
    }
    previous.reset(); // free the old student and targets before loading anything new

    auto p = std::make_unique<Preparation>();
    p->key = preparation_key(config);
    p->base_model = config.resolve(config.rilq.base_model);
    on_stage(RunStage::Load);
    p->tokenizer = tokenizer_of(config);
    p->tokenizer_file = p->tokenizer->path();
    auto fp = std::make_unique<LlamaModel>(load_model(p->base_model, model_options, progress));

    on_stage(RunStage::Calibrate);
    build_calibration_windows(config, *p, progress);
    p->eval_sets = build_eval_sets(config, *p->tokenizer, progress);

    if (wants_stage(config, EvalStage::Fp)) {
        on_stage(RunStage::EvalFp);
        p->fp_evals = evaluate_sets(*fp, p->eval_sets, "fp", progress);
    }
    if (model_scope) compute_targets(config, *fp, *p, on_stage, progress);

    on_stage(RunStage::Quantize);
    if (config.quant.method == QuantMethod::None) {
        if (config.rilq.q_model.empty())
            throw Error("quant.method is \"none\" and rilq.q_model is empty: nothing to compensate");
        fp.reset();
        p->student = std::make_unique<LlamaModel>(load_model(config.resolve(config.rilq.q_model), model_options, progress));
    } else {
        p->student = std::move(fp);
        quantize_student(config, *p, progress);
    }
    if (wants_stage(config, EvalStage::Quantized)) {
        on_stage(RunStage::EvalQuantized);
        p->quantized_evals = evaluate_sets(*p->student, p->eval_sets, "quantized", progress);
    }
    return p;
}

} // namespace rilq::run
