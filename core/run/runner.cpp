#include "core/run/runner.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "core/io/model_loader.h"
#include "core/finetune/finetune_record.h"
#include "core/lora/lora_set.h"
#include "core/lora/peft_adapter.h"
#include "core/rilq/adapter_init.h"
#include "core/rilq/checkpoint.h"
#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/run/finetune_stage.h"
#include "core/run/layer_stats.h"
#include "core/run/run_config.h"
#include "core/run/run_outputs.h"
#include "core/run/run_preparation.h"
#include "core/run/run_record.h"
#include "core/run/run_settings.h"
#include "core/store/run_store.h"
#include "core/util/error.h"
#include "core/util/stop_signals.h"

namespace fs = std::filesystem;

namespace rilq::run {

const char* to_string(RunStage stage) {
    static const char* const names[] = {"load",        "calibrate",      "eval fp",        "teacher targets",
                                        "quantize",    "eval quantized", "train",          "eval compensated",
                                        "layer stats", "finetune",       "eval finetuned", "save"};
    return names[static_cast<int>(stage)]; // in RunStage's order
}

namespace {

store::RunStatus store_status(TrainStatus status) {
    switch (status) {
    case TrainStatus::Finished:
    case TrainStatus::EarlyStopped:
        return store::RunStatus::Finished;
    case TrainStatus::Killed:
        return store::RunStatus::Killed;
    case TrainStatus::Running:
    case TrainStatus::Failed:
        return store::RunStatus::Failed;
    }
    return store::RunStatus::Failed;
}

nlohmann::json eval_json(const std::vector<store::EvalResult>& evals) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : evals)
        j.push_back({{"dataset", e.dataset},
                     {"stage", e.stage},
                     {"ppl", e.ppl},
                     {"seqlen", e.seqlen},
                     {"windows", e.n_windows},
                     {"tokens", e.n_tokens},
                     {"file_sha256", e.file_sha256},
                     {"tokenizer", e.tokenizer}});
    return j;
}

nlohmann::json train_json(const TrainResult& r) {
    return {{"status", rilq::to_string(r.status)},
            {"micro_steps", r.micro_steps},
            {"updates", r.updates},
            {"validations", r.validations},
            {"initial_v_loss", r.initial_v_loss},
            {"best_v_loss", r.best_v_loss},
            {"best_update_step", r.best_update_step},
            {"elapsed_s", r.elapsed_s},
            {"tokens_per_s", r.tokens_per_s}};
}

nlohmann::json task_json(const std::vector<store::TaskScore>& scores) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : scores)
        j.push_back({{"task", t.task},
                     {"stage", t.stage},
                     {"n", t.n},
                     {"acc", t.acc},
                     {"acc_stderr", t.acc_stderr},
                     {"acc_norm", t.acc_norm},
                     {"shots", t.shots},
                     {"data_sha256", t.data_sha256},
                     {"protocol", nlohmann::json::parse(t.protocol_json)}});
    return j;
}

} // namespace

struct Runner::Impl {
    RunnerOptions options;
    std::unique_ptr<store::RunStore> store;
    std::unique_ptr<Preparation> preparation;

    // The point being run, for events.
    int run_index = 0, run_count = 1;
    std::string uuid, name;
    std::string output_dir; // claimed for this run before any work (run_outputs.h)
    RunStage stage = RunStage::Load;
    std::chrono::steady_clock::time_point last_heartbeat{};
    // Student weights a closed-form init replaced (LoftQ's base), put back after the point.
    ReplacedWeights replaced_base;

    std::string output_dir_of(const RunConfig& config) const {
        return resolve_output_dir(config.output_dir(), options.output_base);
    }

    // Makes the run's output folder its own before anything runs (a folder of another run is
    // left alone: this run then writes beside it).
    void claim_output(const std::string& wanted, bool may_move, bool adopt_checkpoint) {
        output_dir = claim_output_dir(wanted, uuid, may_move, adopt_checkpoint);
        if (output_dir != wanted) log(wanted + " belongs to another run; this run writes to " + output_dir);
    }

    store::RunStore& db() {
        if (!store) store = std::make_unique<store::RunStore>(options.store_path);
        return *store;
    }

    void emit(RunnerEvent e) {
        if (!options.on_event) return;
        e.run_index = run_index;
        e.run_count = run_count;
        e.run_uuid = uuid;
        e.run_name = name;
        e.stage = stage;
        options.on_event(e);
    }
    void log(const std::string& message) {
        RunnerEvent e;
        e.kind = RunnerEvent::Kind::Log;
        e.message = message;
        emit(e);
    }
    void enter(RunStage s) {
        stage = s;
        RunnerEvent e;
        e.kind = RunnerEvent::Kind::Stage;
        e.message = to_string(s);
        emit(e);
    }

    // `heartbeat`: progress also keeps the current run's store record alive (false while no
    // run exists, e.g. building the demo model).
    ProgressSink progress_sink(bool heartbeat = true) {
        ProgressSink sink;
        sink.cancel = options.cancel;
        sink.on_progress = [this, heartbeat](const ProgressInfo& info) {
            RunnerEvent e;
            e.kind = RunnerEvent::Kind::Progress;
            e.progress = info;
            emit(e);
            if (heartbeat) keep_alive();
        };
        return sink;
    }

    // Long stages without metrics still show the run is alive (the store marks silent runs
    // of other hosts INTERRUPTED after a while).
    void keep_alive() {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_heartbeat < std::chrono::seconds(10)) return;
        last_heartbeat = now;
        db().heartbeat(uuid);
    }

    void record_tasks(const std::vector<store::TaskScore>& scores, RunOutcome& outcome) {
        for (const auto& t : scores) {
            db().log_task_score(uuid, t);
            outcome.tasks.push_back(t);
            RunnerEvent ev;
            ev.kind = RunnerEvent::Kind::Task;
            ev.task = t;
            emit(ev);
            log("task " + t.stage + " " + t.task + ": acc " + std::to_string(t.acc));
        }
    }

    void record_evals(const std::vector<store::EvalResult>& evals, RunOutcome& outcome) {
        for (const auto& e : evals) {
            db().log_eval_result(uuid, e);
            outcome.evals.push_back(e);
            RunnerEvent ev;
            ev.kind = RunnerEvent::Kind::Eval;
            ev.eval = e;
            emit(ev);
            log("PPL " + e.stage + " " + e.dataset + ": " + std::to_string(e.ppl));
        }
    }

    RunOutcome execute(const RunConfig& config, bool resuming);
    CompensationResult compensate(const RunConfig& config, bool resuming, const std::string& checkpoint_dir);
    AdapterInitializer closed_form_init(const RunConfig& config, std::shared_ptr<const LlamaModel> fp);
    void finetune(const RunConfig& config, bool resuming, const std::string& checkpoint_dir,
                  LoraSet compensated, LoraSet& finetuned, RunOutcome& outcome);
    void train_and_finish(const RunConfig& config, bool resuming, RunOutcome& outcome);
};

Runner::Runner(RunnerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}
Runner::~Runner() = default;

std::vector<RunOutcome> Runner::run_experiment(const ExperimentConfig& experiment) {
    std::vector<RunOutcome> outcomes;
    const int count = static_cast<int>(experiment.runs.size());
    // Configs built in code skip the schema's checks: a unit's rejection fails here, before any
    // point loads a model, not an hour into a sweep.
    for (const RunConfig& config : experiment.runs) {
        try {
            config.train.validate();
            if (config.quantizes()) config.quant.validate("$.quant");
            if (config.finetunes()) {
                config.finetune.sft.validate();
                config.finetune.train.validate();
                // Found missing now, not after hours of compensation.
                if (!fs::is_regular_file(config.resolve(config.finetune.data)))
                    throw Error("finetune.data: no file " + config.resolve(config.finetune.data));
            }
            check_output_dir(impl_->output_dir_of(config)); // a user's folder is never replaced
        } catch (const std::exception& e) {
            throw Error("experiment " + experiment.name + ", run " + config.run_name + ": " + e.what());
        }
    }
    impl_->name = experiment.name;
    impl_->stage = RunStage::Load;
    const std::string prepared =
        prepare_data_root(experiment, &impl_->db(), impl_->progress_sink(/*heartbeat=*/false));
    if (!prepared.empty()) impl_->log(prepared);
    for (const RunConfig& config : experiment.runs) {
        while (impl_->options.paused && impl_->options.paused() &&
               !(impl_->options.cancel && impl_->options.cancel->cancelled()))
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (impl_->options.cancel && impl_->options.cancel->cancelled()) {
            // Points never started are recorded too, so the sweep shows what is missing.
            auto& db = impl_->db();
            RunOutcome skipped;
            skipped.uuid = db.create_run(to_new_run(config, experiment.document_json));
            skipped.name = config.run_name;
            db.end_run(skipped.uuid, store::RunStatus::Killed, "cancelled before start");
            skipped.status = store::RunStatus::Killed;
            skipped.message = "cancelled before start";
            outcomes.push_back(skipped);
            continue;
        }
        outcomes.push_back(run_point(config, experiment.document_json, count));
    }
    impl_->preparation.reset();
    return outcomes;
}

RunOutcome Runner::run_point(const RunConfig& config, const std::string& experiment_document, int run_count) {
    Impl& m = *impl_;
    m.run_index = config.index;
    m.run_count = run_count;
    m.name = config.run_name;
    m.uuid = m.options.run_uuid.empty() ? store::new_run_uuid() : m.options.run_uuid;
    m.claim_output(m.output_dir_of(config), /*may_move=*/true, /*adopt_checkpoint=*/false);
    store::NewRun record = to_new_run(config, experiment_document);
    record.uuid = m.uuid;
    for (auto& [key, value] : record.params) // where this run really writes (absolute, maybe moved)
        if (key == "rilq.output_dir") value = m.output_dir;
    m.db().create_run(record);
    return m.execute(config, false);
}

void Runner::adopt_preparation(std::unique_ptr<Preparation> prepared) {
    impl_->preparation = std::move(prepared);
}

RunOutcome Runner::resume(const std::string& run_reference) {
    Impl& m = *impl_;
    m.uuid = m.db().resolve_run(run_reference);
    const store::RunDetail detail = m.db().get_run(m.uuid);
    const store::RunStatus status = detail.summary.status;
    if (status != store::RunStatus::Killed && status != store::RunStatus::Failed &&
        status != store::RunStatus::Interrupted)
        throw Error("run " + run_reference + " is " + store::to_string(status) +
                    ": only KILLED, FAILED or INTERRUPTED runs can be resumed");
    int index = 0;
    if (const auto it = detail.tags.find("sweep.index"); it != detail.tags.end())
        index = std::stoi(it->second);
    const RunConfig config = run_config_from_document(detail.config_json, detail.summary.name, index);
    m.run_index = index;
    m.run_count = 1;
    m.name = detail.summary.name;
    // The folder recorded at the start (absolute); runs recorded before that: the template.
    const auto stored = m.db().params(m.uuid);
    const auto it = stored.find("rilq.output_dir");
    const std::string wanted =
        it != stored.end() && fs::path(it->second).is_absolute() ? it->second : m.output_dir_of(config);
    const std::string owner = output_dir_owner(wanted);
    const bool from_checkpoint =
        is_checkpoint_dir(checkpoint_dir_of(wanted)) && (owner.empty() || owner == m.uuid);
    m.claim_output(wanted, /*may_move=*/!from_checkpoint, /*adopt_checkpoint=*/from_checkpoint);
    // Metrics past the checkpoint are logged again by the resumed training (all of them when it
    // starts over: a run cancelled before start, or one that never reached a checkpoint).
    const int64_t keep_through =
        from_checkpoint ? checkpoint_update_step(checkpoint_dir_of(m.output_dir)) : -1;
    m.db().delete_metrics_after(m.uuid, keep_through);
    if (!from_checkpoint) m.log("no checkpoint to resume from: run " + m.uuid + " starts over");
    return m.execute(config, from_checkpoint);
}

RunOutcome Runner::Impl::execute(const RunConfig& config, bool resuming) {
    RunOutcome outcome;
    outcome.uuid = uuid;
    outcome.name = name;
    replaced_base.clear(); // a failed point's list belongs to a student that is gone
    db().start_run(uuid);
    last_heartbeat = std::chrono::steady_clock::now();
    {
        RunnerEvent e;
        e.kind = RunnerEvent::Kind::RunStarted;
        e.message = resuming ? "resumed" : "started";
        emit(e);
    }
    try {
        preparation = prepare(
            config, std::move(preparation), [this](RunStage s) { enter(s); }, progress_sink());
        if (!resuming || db().eval_results(uuid).empty()) {
            record_evals(preparation->fp_evals, outcome);
            record_evals(preparation->quantized_evals, outcome);
            record_tasks(preparation->fp_tasks, outcome);
            record_tasks(preparation->quantized_tasks, outcome);
            if (!preparation->quantized_stats.empty())
                db().log_layer_stats(uuid, preparation->quantized_stats);
        }
        train_and_finish(config, resuming, outcome);
    } catch (const Cancelled&) {
        outcome.status = store::RunStatus::Killed;
        outcome.message = "cancelled during " + std::string(to_string(stage));
    } catch (const std::exception& e) {
        outcome.status = store::RunStatus::Failed;
        outcome.message = std::string(to_string(stage)) + ": " + e.what();
    }
    if (outcome.status != store::RunStatus::Finished) {
        // The student may hold adapters or half-quantized weights: never reuse it.
        preparation.reset();
    }
    if (outcome.output_dir.empty()) release_output_dir(output_dir, uuid); // claimed, nothing written
    if (outcome.status == store::RunStatus::Killed && stop_signal() != 0)
        outcome.message += " (" + signal_name(stop_signal()) + ")"; // a scheduler's SIGTERM, Ctrl-C
    try {
        db().flush();
        db().end_run(uuid, outcome.status, outcome.message);
    } catch (const std::exception& e) {
        outcome.message += std::string(outcome.message.empty() ? "" : "; ") + "store: " + e.what();
    }
    RunnerEvent e;
    e.kind = RunnerEvent::Kind::RunFinished;
    e.status = outcome.status;
    e.message = outcome.message;
    emit(e);
    return outcome;
}

// lora_init loftq / qera-*: sets the adapters from `fp` (released once used) and keeps what LoftQ
// replaced in the shared student. Empty for the random inits.
AdapterInitializer Runner::Impl::closed_form_init(const RunConfig& config,
                                                  std::shared_ptr<const LlamaModel> fp) {
    if (!is_closed_form(config.train.lora.init)) return {};
    return [this, &config, fp](LoraSet& adapters) mutable {
        ClosedFormInputs inputs;
        inputs.fp = fp.get();
        inputs.quant = config.quantizes() ? &config.quant : nullptr;
        inputs.calib_ids = preparation->train_ids; // the windows every scope trains on
        inputs.batch_windows = config.train.approx_batch_size;
        std::string line;
        replaced_base = init_adapters_closed_form(*preparation->student, adapters, config.train.lora, inputs,
                                                  &line, progress_sink());
        fp.reset();
        log(line);
    };
}

CompensationResult Runner::Impl::compensate(const RunConfig& config, bool resuming,
                                            const std::string& checkpoint_dir) {
    Preparation& p = *preparation;
    const TrainConfig& train_config = config.train;
    const bool model_scope = config.train.scope == Scope::Model;
    const bool closed_form = is_closed_form(train_config.lora.init) && train_config.lora.r > 0;
    std::shared_ptr<const LlamaModel> teacher;
    if (!model_scope || closed_form) {
        enter(RunStage::Load);
        teacher =
            std::make_shared<LlamaModel>(load_model(p.base_model, model_options_of(config), progress_sink()));
    }
    const AdapterInitializer init = closed_form ? closed_form_init(config, teacher) : AdapterInitializer{};
    enter(RunStage::Train);
    TrainerOptions trainer;
    trainer.cancel = options.cancel;
    trainer.checkpoint_dir = train_config.lora.r > 0 ? checkpoint_dir : "";
    if (resuming) trainer.resume_from = checkpoint_dir;
    trainer.on_event = [this](const TrainEvent& event) {
        const auto metrics = train_event_metrics(event);
        if (!metrics.empty()) db().log_metrics(uuid, event.update_step, metrics);
        RunnerEvent e;
        e.kind = RunnerEvent::Kind::Train;
        e.train = event;
        emit(e);
    };
    if (model_scope) {
        teacher.reset(); // the init holds its own reference until it has run
        return train_on_targets(*p.student, *p.targets, p.train_ids, p.val_ids, train_config, trainer, init);
    }
    return run_compensation(std::move(teacher), *p.student, p.train_ids, p.val_ids, train_config, trainer,
                            progress_sink(), init);
}

// The SFT stage: `finetuned` receives the adapters it trains (attached to the student), so the
// caller detaches them whatever happens here.
void Runner::Impl::finetune(const RunConfig& config, bool resuming, const std::string& checkpoint_dir,
                            LoraSet compensated, LoraSet& finetuned, RunOutcome& outcome) {
    Preparation& p = *preparation;
    enter(RunStage::Finetune);
    FinetuneData data = load_finetune_stage_data(config, *p.tokenizer);
    finetuned = finetune_stage_adapters(*p.student, std::move(compensated), config);
    log("finetune: " + std::to_string(data.train.size()) + " train / " + std::to_string(data.eval.size()) +
        " eval examples, " + std::to_string(finetuned.parameter_count()) + " adapter parameters");
    TrainerOptions trainer;
    trainer.cancel = options.cancel;
    trainer.checkpoint_dir = finetune_checkpoint_dir(checkpoint_dir);
    if (resuming) trainer.resume_from = trainer.checkpoint_dir;
    trainer.on_event = [this](const TrainEvent& event) {
        const auto metrics = finetune_event_metrics(event, kFinetuneMetricPrefix);
        if (!metrics.empty()) db().log_metrics(uuid, event.update_step, metrics);
        RunnerEvent e;
        e.kind = RunnerEvent::Kind::Train;
        e.train = event;
        emit(e);
    };
    const FinetuneResult result =
        run_finetune(*p.student, finetuned, std::move(data), finetune_config_of(config), trainer);
    outcome.finetune = result.train;
    outcome.finetune_eval_loss = result.final_eval.loss;
    outcome.status = store_status(result.train.status);
    outcome.message = result.train.message;
    if (std::isfinite(result.final_eval.loss))
        db().log_metrics(uuid, result.train.updates,
                         {{std::string(kFinetuneMetricPrefix) + "final_eval_loss", result.final_eval.loss}});
    if (outcome.status == store::RunStatus::Finished && wants_stage(config, EvalStage::Finetuned)) {
        enter(RunStage::EvalFinetuned);
        record_evals(evaluate_sets(*p.student, p.eval_sets, "finetuned", progress_sink()), outcome);
        record_tasks(score_tasks(*p.student, p, "finetuned", progress_sink()), outcome);
    }
}

void Runner::Impl::train_and_finish(const RunConfig& config, bool resuming, RunOutcome& outcome) {
    Preparation& p = *preparation;
    const fs::path run_dir(output_dir); // the folder claimed for this run (claim_output)
    const std::string checkpoint_dir = checkpoint_dir_of(run_dir.string());
    // Resumed during the fine-tuning stage: the compensation ended, and was recorded, before it.
    const bool resume_finetune = resuming && config.finetunes() &&
                                 fs::exists(finetune_checkpoint_dir(checkpoint_dir) + "/checkpoint.json");
    const std::string compensated_dir = compensated_adapter_dir(checkpoint_dir);

    CompensationResult result;
    if (resume_finetune) {
        if (config.train.lora.init == LoraInit::Loftq && config.train.lora.r > 0) {
            // The compensated adapter belongs to LoftQ's base: rebuild that base first.
            const auto fp = std::make_shared<LlamaModel>(
                load_model(p.base_model, model_options_of(config), progress_sink()));
            LoraSet scratch = attach_lora(*p.student, config.train.lora);
            closed_form_init(config, fp)(scratch);
            detach_lora(*p.student, scratch);
        }
        if (fs::exists(compensated_dir)) result.adapters = load_peft_adapter(compensated_dir, *p.student);
        result.train.status = TrainStatus::Finished;
        result.train.message = "compensated before the resume";
    } else {
        result = compensate(config, resuming, checkpoint_dir);
    }
    outcome.train = result.train;
    outcome.status = store_status(result.train.status);
    outcome.message = result.train.message;
    // Detach before anything can throw, so the cached student is clean for the next point.
    LoraSet finetuned;
    struct Detach {
        LlamaModel& model;
        LoraSet& set;
        LoraSet& finetuned;
        ReplacedWeights& replaced;
        ~Detach() {
            detach_lora(model, set);
            detach_lora(model, finetuned);
            restore_weights(model, replaced);
        }
    } detach{*p.student, result.adapters, finetuned, replaced_base};

    const bool trained = !result.adapters.empty();
    if (outcome.status == store::RunStatus::Finished && trained && !resume_finetune &&
        wants_stage(config, EvalStage::Compensated)) {
        enter(RunStage::EvalCompensated);
        record_evals(evaluate_sets(*p.student, p.eval_sets, "compensated", progress_sink()), outcome);
        record_tasks(score_tasks(*p.student, p, "compensated", progress_sink()), outcome);
        enter(RunStage::Stats);
        db().log_layer_stats(uuid, compensated_layer_stats(p.base_model, model_options_of(config), *p.student,
                                                           result.adapters, output_error_windows(p),
                                                           progress_sink()));
    }
    const bool finetunes = outcome.status == store::RunStatus::Finished && config.finetunes();
    if (finetunes) {
        // RILQ's adapters as PEFT before fine-tuning changes them: the outputs' adapter/, and what a
        // resume during the stage starts from.
        if (trained && !resume_finetune)
            save_peft_adapter(compensated_dir, result.adapters, (run_dir / "quantized").string());
        finetune(config, resume_finetune, checkpoint_dir, std::move(result.adapters), finetuned, outcome);
    }
    // A killed run keeps its best adapters: they are saved like a finished run's.
    if (options.write_outputs && outcome.status != store::RunStatus::Failed) {
        enter(RunStage::Save);
        nlohmann::json summary = {
            {"run",
             {{"uuid", uuid}, {"name", name}, {"experiment", config.experiment}, {"index", config.index}}},
            {"status", store::to_string(outcome.status)},
            {"message", outcome.message},
            {"config", run_document(config)},
            {"training", train_json(outcome.train)},
            {"calibration", p.calibration_description},
            {"perplexity", eval_json(outcome.evals)},
            {"tasks", task_json(outcome.tasks)},
            {"versions", {{"rilq", RILQ_VERSION}, {"libtorch", TORCH_VERSION}}}};
        if (finetunes) {
            summary["finetune"] = train_json(outcome.finetune);
            summary["finetune"]["final_eval_loss"] = outcome.finetune_eval_loss;
        }
        RunOutputContent content;
        content.run_uuid = uuid;
        content.student = p.student.get();
        content.adapters = &result.adapters;
        if (finetunes && fs::exists(compensated_dir)) content.adapter_dir = compensated_dir;
        content.finetuned = finetunes ? &finetuned : nullptr;
        content.tokenizer_file = p.tokenizer_file;
        content.quant_stats = p.quant_stats_json ? &*p.quant_stats_json : nullptr;
        content.run_summary = &summary;
        content.save_merged = options.save_merged;
        for (const auto& artifact : write_run_outputs(run_dir.string(), content))
            db().log_artifact(uuid, artifact);
        outcome.output_dir = run_dir.string();
        log("outputs written to " + outcome.output_dir);
    }
    if (outcome.status == store::RunStatus::Finished) remove_checkpoint(checkpoint_dir);
}

} // namespace rilq::run
