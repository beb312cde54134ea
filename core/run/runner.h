// The Runner: one experiment from its RunConfigs to recorded results. Every front end (the
// `rilq run` command, the GUI's worker thread, the demo) goes through it; none adds training
// logic of its own.
//
// One sweep point, in order (each stage reports through RunnerEvent and is recorded in the store):
//   load      the FP model and its tokenizer
//   calibrate RILQ calibration windows (train / validation split, rilq.calib_seed)
//   eval fp   PPL of the FP model on every eval dataset (GPTQ protocol, stored with its protocol)
//   targets   the teacher's outputs on the calibration windows (scope "model")
//   quantize  fake-quantize the FP model in place, or load rilq.q_model: the FP weights become
//             the student's; per-linear stats (weight error, SQNR, entropy, output error)
//   eval q    PPL (and task scores) of the quantized model
//   train     LoRA adapters with the chosen scope; every update and validation is a metric
//   eval c    PPL of the compensated model (rank > 0)
//   stats     compensated per-linear stats: ||W - (Q(W) + sBA)|| / ||W|| and output error,
//             against the FP model reloaded for this stage only
//   finetune  (finetune.data set) IR-QLoRA's instruction fine-tuning, continuing from the
//             compensated adapters or from fresh ones at rank 0 (core/run/finetune_stage.h); its
//             curves are the metrics sft.*
//   eval ft   PPL and tasks of the fine-tuned model (stage "finetuned")
//   save      output_dir: PEFT adapter(s), the quantized base as an HF folder, run.json (atomic)
//
// Each eval stage also scores the eval.tasks (MMLU, ARC, ...) on its model, recorded with their
// protocol (core/eval/tasks/task_record.h).
//
// Points of a sweep that share model, quantizer, calibration and eval settings (typically a
// rank sweep) reuse the quantized student, the cached targets and the FP / quantized results
// of the first such point: only training, the compensated eval and its stats run again.
//
// Memory rule: during training, one model copy (the student) plus the cached targets
// (core/rilq/teacher_targets.h), plus the teacher for scopes linear / layer, which need it
// alive. The compensated-stats stage reads the FP model again after training, one decoder layer at
// a time from an HF folder (core/run/layer_stats.h), whole from other formats.
//
// A failure (bad file, NaN loss) ends the run FAILED with the message; a cancel ends it KILLED
// with its best adapters saved; either way every metric logged so far stays in the store.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rilq/train_event.h"
#include "core/store/run_types.h"
#include "core/util/progress.h"

namespace rilq::run {

struct RunConfig;
struct ExperimentConfig;
struct Preparation;

enum class RunStage {
    Load,
    Calibrate,
    EvalFp,
    Targets,
    Quantize,
    EvalQuantized,
    Train,
    EvalCompensated,
    Stats,
    Finetune,
    EvalFinetuned,
    Save
};
const char* to_string(RunStage stage); // "load", "calibrate", "eval fp", ...

struct RunnerEvent {
    enum class Kind {
        RunStarted,  // a sweep point begins (uuid, name known)
        Stage,       // a stage begins
        Progress,    // progress inside a stage
        Train,       // a trainer event (updates, validations, the end of training)
        Eval,        // a PPL result
        Task,        // a task score
        Log,         // a line for the log panel
        RunFinished, // the point ended: status, message
    };
    Kind kind = Kind::Log;
    int run_index = 0; // position in the sweep
    int run_count = 0;
    std::string run_uuid;
    std::string run_name;
    RunStage stage = RunStage::Load;
    ProgressInfo progress;                               // Progress
    TrainEvent train;                                    // Train
    store::EvalResult eval;                              // Eval
    store::TaskScore task;                               // Task
    store::RunStatus status = store::RunStatus::Running; // RunFinished
    std::string message;                                 // Log, RunFinished
};
using RunnerCallback = std::function<void(const RunnerEvent&)>;

struct RunnerOptions {
    std::string store_path;  // the SQLite run store (created if missing)
    RunnerCallback on_event; // called on the runner's thread
    const CancelToken* cancel = nullptr;
    // Asked between sweep points; while it returns true the runner waits (the GUI's pause).
    std::function<bool()> paused;
    bool write_outputs = true; // adapter, quantized base, run.json into output_dir
    bool save_merged = false;  // also the merged model (base + adapters) as an HF folder
    std::string output_base;   // relative output_dir resolves against it; "" = cwd
    // run_point() records the point under this uuid (a Slurm task's run, created beforehand in
    // the main store, core/cluster/); "" = a new one.
    std::string run_uuid;
};

struct RunOutcome {
    std::string uuid;
    std::string name;
    store::RunStatus status = store::RunStatus::Scheduled;
    std::string message;
    std::string output_dir;                   // absolute; empty when nothing was written
    TrainResult train;                        // RILQ's compensation
    TrainResult finetune;                     // the fine-tuning stage (status Running: it did not run)
    double finetune_eval_loss = kNotMeasured; // the fine-tuned adapters' final eval loss
    std::vector<store::EvalResult> evals;     // per stage and dataset
    std::vector<store::TaskScore> tasks;      // per stage and task
};

class Runner {
  public:
    explicit Runner(RunnerOptions options);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // Every point of the experiment in order. A cancel ends the current point KILLED and marks
    // the points not started KILLED too ("cancelled before start"). Throws rilq::Error, before
    // any point starts, when the trainer or quantizer rejects some point's settings.
    std::vector<RunOutcome> run_experiment(const ExperimentConfig& experiment);

    // One point. `experiment_document` is stored once per experiment (ExperimentConfig::document_json).
    RunOutcome run_point(const RunConfig& config, const std::string& experiment_document = "",
                         int run_count = 1);

    // Continues a KILLED, FAILED or INTERRUPTED run from its last checkpoint (same uuid, same
    // settings, read back from the store). Error when the run has no checkpoint to resume.
    RunOutcome resume(const std::string& run_reference);

    // A preparation made elsewhere (a shared-preparation job, prepared_artifact.h): the next
    // points whose preparation settings match use it instead of preparing again.
    void adopt_preparation(std::unique_ptr<Preparation> prepared);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace rilq::run
