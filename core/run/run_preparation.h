// What every point of a sweep needs before training, built once and shared by the points whose
// preparation settings agree (runner.h): tokenizer, calibration windows, eval windows, the FP
// and quantized PPL, task scores and per-linear stats, the quantized student, and the teacher's targets.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "core/util/tensor.h"

#include "core/data/eval_windows.h"
#include "core/eval/tasks/task.h"
#include "core/model/llama_model.h"
#include "core/rilq/compensation.h"
#include "core/run/run_config.h"
#include "core/store/run_types.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/progress.h"

namespace rilq::store {
class RunStore;
}

namespace rilq::run {

enum class RunStage;
struct ExperimentConfig;

// Settings that change what preparation computes; points with equal keys share it. Training
// knobs (rank, alpha, lr, steps, scope, seed, ...) are left out.
std::string preparation_key(const RunConfig& config);
// ... plus what the cached teacher targets depend on (a_type, micro-batch size).
std::string targets_key(const RunConfig& config);

struct EvalSet {
    std::string name; // the experiment's dataset name
    EvalWindows windows;
};

struct Preparation {
    std::string key;
    std::string base_model;     // resolved FP model path
    std::unique_ptr<Tokenizer> tokenizer;
    std::string tokenizer_file;
    torch::Tensor train_ids, val_ids; // calibration (N, T)
    std::string calibration_description;
    std::vector<EvalSet> eval_sets;
    std::vector<store::EvalResult> fp_evals, quantized_evals;
    std::vector<std::unique_ptr<Task>> tasks; // eval.tasks, read and checked before any model work
    std::vector<store::TaskScore> fp_tasks, quantized_tasks;
    std::vector<store::LayerStat> quantized_stats; // stages fp and quantized
    std::optional<nlohmann::json> quant_stats_json;
    std::unique_ptr<LlamaModel> student; // fake-quantized, no adapters between points
    std::string targets_key;
    std::optional<CachedTargets> targets; // scope "model" only
};

// What an experiment needs before its first point: when its data_root is the built-in demo's
// cache (experiment_config.h "@demo"), the demo model, built there on first use (minutes, recorded
// in `record_in` as experiment "demo-pretrain") and reused afterwards. Returns a line for the log,
// "" when the experiment needs nothing.
std::string prepare_data_root(const ExperimentConfig& experiment, store::RunStore* record_in,
                              const ProgressSink& progress);

// Reports a stage change to the runner.
using StageCallback = std::function<void(RunStage)>;

// Builds (or completes) the preparation for `config`, reusing `previous` when its key matches.
// Scope "model" needs targets: computed from the FP model before it becomes the student.
std::unique_ptr<Preparation> prepare(const RunConfig& config, std::unique_ptr<Preparation> previous,
                                     const StageCallback& on_stage, const ProgressSink& progress);

// The cheap part of a preparation: key, tokenizer, tasks, calibration and eval windows (what a
// prepared folder, prepared_artifact.h, is completed with where it is loaded).
std::unique_ptr<Preparation> prepare_inputs(const RunConfig& config, const ProgressSink& progress);

// The stage's PPL on every eval set (protocol fields filled in for the store).
std::vector<store::EvalResult> evaluate_sets(const LlamaModel& model, const std::vector<EvalSet>& sets,
                                             const std::string& stage, const ProgressSink& progress);

// The stage's score on every task of eval.tasks (the full protocol in each record).
std::vector<store::TaskScore> score_tasks(const LlamaModel& model, const Preparation& preparation,
                                          const std::string& stage, const ProgressSink& progress);

// True when eval.stages lists `stage` (fp and quantized here, compensated in the runner).
bool wants_stage(const RunConfig& config, EvalStage stage);

// Up to 4 calibration windows: the inputs the output error is measured on.
torch::Tensor output_error_windows(const Preparation& preparation);

} // namespace rilq::run
