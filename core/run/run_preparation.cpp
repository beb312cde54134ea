#include "core/run/run_preparation.h"

#include "core/data/calibration.h"
#include "core/demo/demo_model.h"
#include "core/eval/perplexity.h"
#include "core/eval/perplexity_record.h"
#include "core/eval/tasks/task_record.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/model_loader.h"
#include "core/quant/quant_registry.h"
#include "core/quant/quant_stats_json.h"
#include "core/quant/quantize_model.h"
#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/run/layer_stats.h"
#include "core/run/run_settings.h"
#include "core/run/runner.h"
#include "core/run/streamed_preparation.h"
#include "core/util/error.h"

#include <filesystem>

namespace rilq::run {

namespace {

std::vector<EvalSet> build_eval_sets(const RunConfig& config, const Tokenizer& tokenizer,
                                     const ProgressSink& progress) {
    std::vector<EvalSet> sets;
    for (const DatasetEntry& dataset : config.eval_datasets()) {
        EvalWindowOptions options;
        options.seqlen = config.eval.seqlen;
        options.max_windows = dataset.max_windows;
        sets.push_back(
            {dataset.name, build_eval_windows(data_spec_of(config, dataset), tokenizer, options, progress)});
    }
    return sets;
}

void build_calibration_windows(const RunConfig& config, Preparation& p, const ProgressSink& progress) {
    std::vector<DatasetSpec> specs;
    for (const DatasetEntry& dataset : config.calib_datasets())
        specs.push_back(data_spec_of(config, dataset));
    const CalibrationSet set = build_calibration(calibration_sources(specs, {config.calib.num_samples}),
                                                 *p.tokenizer, config.calib.options, progress);
    p.train_ids = to_tensor(set.train);
    p.val_ids = to_tensor(set.val);
    p.calibration_description = set.description;
}

void compute_targets(const RunConfig& config, const LlamaModel& teacher, Preparation& p,
                     const StageCallback& on_stage, const ProgressSink& progress) {
    on_stage(RunStage::Targets);
    p.targets = cache_teacher_targets(teacher, p.train_ids, p.val_ids, config.train, progress);
    p.targets_key = targets_key(config);
}

// The calibration windows quantize_model gets: every training window for a method that reads
// each linear's inputs (quant_registry.h), else the few windows the output error is measured on.
torch::Tensor quantizer_calibration(const RunConfig& config, const Preparation& p) {
    return quant_method(config.quant.method).needs_calibration ? p.train_ids : output_error_windows(p);
}

// FP model -> student, in place: the FP weights are replaced one linear at a time.
void quantize_student(const RunConfig& config, Preparation& p, const ProgressSink& progress) {
    QuantizeModelOptions options;
    options.calib_ids = quantizer_calibration(config, p);
    const ModelQuantResult result = quantize_model(*p.student, config.quant, options, progress);
    p.quantized_stats = quantized_layer_stats(result);
    p.quant_stats_json = quant_stats_to_json(result, p.base_model);
}

// The packed student of an HF checkpoint is prepared layer-streamed (streamed_preparation.h): the
// FP model is never held whole, and targets, FP perplexities and student are the whole-model
// path's bit for bit. FP task scores need the whole model, so they keep that path.
bool streams_preparation(const RunConfig& config) {
    return config.quantizes() && config.quant.storage == QuantStorage::Packed &&
           is_hf_model_dir(config.resolve(config.model.base_model)) &&
           (config.task_specs().empty() || !wants_stage(config, EvalStage::Fp));
}

std::unique_ptr<Preparation> prepare_streamed_student(const RunConfig& config, const StageCallback& on_stage,
                                                      const ProgressSink& progress) {
    on_stage(RunStage::Calibrate);
    std::unique_ptr<Preparation> p = prepare_inputs(config, progress);
    const bool model_scope = config.train.scope == Scope::Model;
    const bool fp_stage = wants_stage(config, EvalStage::Fp);
    StreamedPreparationPlan plan;
    if (model_scope) {
        plan.train_ids = p->train_ids;
        plan.val_ids = p->val_ids;
        plan.target_type = config.train.a_type;
        plan.target_batch = config.train.approx_batch_size;
        plan.target_policy.memory_budget_bytes = config.train.target_memory_budget_bytes;
    }
    if (fp_stage)
        for (const EvalSet& set : p->eval_sets)
            plan.fp_ppl_windows.push_back(to_tensor(set.windows.windows));
    plan.quant = config.quant;
    plan.quant_options.calib_ids = quantizer_calibration(config, *p);
    on_stage(RunStage::Quantize);
    StreamedPreparation streamed = prepare_streamed(p->base_model, model_options_of(config), plan, progress);
    p->student = std::move(streamed.student);
    if (model_scope) {
        p->targets = std::move(streamed.targets);
        p->targets_key = targets_key(config);
    }
    for (size_t i = 0; i < streamed.fp_ppl.size(); ++i)
        p->fp_evals.push_back(perplexity_record(streamed.fp_ppl[i], p->eval_sets[i].windows.protocol,
                                                p->eval_sets[i].name, "fp"));
    p->quantized_stats = quantized_layer_stats(streamed.quant);
    p->quant_stats_json = quant_stats_to_json(streamed.quant, p->base_model);
    return p;
}

} // namespace

std::string prepare_data_root(const ExperimentConfig& experiment, store::RunStore* record_in,
                              const ProgressSink& progress) {
    namespace fs = std::filesystem;
    if (fs::path(experiment.data_root).lexically_normal() !=
        fs::path(default_demo_cache_dir()).lexically_normal())
        return {};
    DemoModelOptions options;
    options.record_in = record_in;
    const DemoModel demo = ensure_demo_model(
        options,
        [&progress](const PretrainEvent& p) {
            progress.report({"demo: pretraining (loss " + std::to_string(p.train_loss) + ")", p.step,
                             p.max_steps, "steps", 0.0, p.eta_s});
        },
        progress);
    return demo.built_now
               ? "demo model built in " + std::to_string(demo.build_seconds) + " s in " + demo.model_dir
               : "demo model found in " + demo.model_dir;
}

bool wants_stage(const RunConfig& config, EvalStage stage) {
    for (const EvalStage s : config.eval.stages)
        if (s == stage) return true;
    return false;
}

std::string preparation_key(const RunConfig& config) {
    return phase_settings(config, config::Phase::Preparation);
}

std::string targets_key(const RunConfig& config) {
    return phase_settings(config, config::Phase::Targets);
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
        results.push_back(perplexity_record(r, set.windows.protocol, set.name, stage));
    }
    return results;
}

std::vector<store::TaskScore> score_tasks(const LlamaModel& model, const Preparation& preparation,
                                          const std::string& stage, const ProgressSink& progress) {
    std::vector<store::TaskScore> scores;
    for (const auto& task : preparation.tasks) {
        ProgressSink sink = progress;
        sink.on_progress = [&](const ProgressInfo& info) {
            ProgressInfo named = info;
            named.stage = "tasks " + stage + " " + task->info().name;
            progress.report(named);
        };
        scores.push_back(task_score_record(task->evaluate(model, *preparation.tokenizer, {}, sink), stage));
    }
    return scores;
}

std::unique_ptr<Preparation> prepare_inputs(const RunConfig& config, const ProgressSink& progress) {
    auto p = std::make_unique<Preparation>();
    p->key = preparation_key(config);
    p->base_model = config.resolve(config.model.base_model);
    p->tokenizer = tokenizer_of(config);
    p->tokenizer_file = p->tokenizer->path();
    for (const TaskSpec& spec : config.task_specs())
        p->tasks.push_back(load_task(spec));
    build_calibration_windows(config, *p, progress);
    p->eval_sets = build_eval_sets(config, *p->tokenizer, progress);
    return p;
}

std::unique_ptr<Preparation> prepare(const RunConfig& config, std::unique_ptr<Preparation> previous,
                                     const StageCallback& on_stage, const ProgressSink& progress) {
    const bool model_scope = config.train.scope == Scope::Model;
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
    if (streams_preparation(config)) {
        std::unique_ptr<Preparation> p = prepare_streamed_student(config, on_stage, progress);
        if (wants_stage(config, EvalStage::Quantized)) {
            on_stage(RunStage::EvalQuantized);
            p->quantized_evals = evaluate_sets(*p->student, p->eval_sets, "quantized", progress);
            p->quantized_tasks = score_tasks(*p->student, *p, "quantized", progress);
        }
        return p;
    }

    on_stage(RunStage::Load);
    auto fp = std::make_unique<LlamaModel>(
        load_model(config.resolve(config.model.base_model), model_options, progress));
    on_stage(RunStage::Calibrate);
    std::unique_ptr<Preparation> p = prepare_inputs(config, progress);

    if (wants_stage(config, EvalStage::Fp)) {
        on_stage(RunStage::EvalFp);
        p->fp_evals = evaluate_sets(*fp, p->eval_sets, "fp", progress);
        p->fp_tasks = score_tasks(*fp, *p, "fp", progress);
    }
    if (model_scope) compute_targets(config, *fp, *p, on_stage, progress);

    on_stage(RunStage::Quantize);
    if (!config.quantizes()) {
        if (config.model.q_model.empty())
            throw Error("quant.method is \"none\" and rilq.q_model is empty: nothing to compensate");
        fp.reset();
        p->student = std::make_unique<LlamaModel>(
            load_model(config.resolve(config.model.q_model), model_options, progress));
    } else {
        p->student = std::move(fp);
        quantize_student(config, *p, progress);
    }
    if (wants_stage(config, EvalStage::Quantized)) {
        on_stage(RunStage::EvalQuantized);
        p->quantized_evals = evaluate_sets(*p->student, p->eval_sets, "quantized", progress);
        p->quantized_tasks = score_tasks(*p->student, *p, "quantized", progress);
    }
    return p;
}

} // namespace rilq::run
