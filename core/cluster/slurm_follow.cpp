#include "core/cluster/slurm_follow.h"

#include "core/cluster/slurm_state.h"
#include "core/finetune/finetune_metrics.h"
#include "core/run/config_document.h"
#include "core/store/run_store.h"
#include "core/store/shard_import.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace rilq::cluster {

namespace {

using Clock = std::chrono::steady_clock;

// One trained stage's curves as a task logs them: RILQ's compensation under train_event.h's keys,
// the chained fine-tuning stage under finetune_metrics.h's, after "sft.". The keys come from those
// functions (the one list of each), asked with an event that measured everything.
struct StageCurves {
    run::RunStage stage;
    std::string prefix; // stripped before a key names its TrainEvent field
    std::vector<std::string> update_keys, validation_keys;
    const TrainConfig& (*settings)(const run::RunConfig&); // the stage's trainer settings
};

const std::vector<StageCurves>& trained_stages() {
    static const std::vector<StageCurves> stages = [] {
        const auto keys_of = [](TrainEventKind kind, bool finetune) {
            TrainEvent e;
            e.kind = kind;
            e.grad_norm = 0.0; // logged only when measured
            std::vector<std::string> keys;
            for (const auto& [key, value] :
                 finetune ? finetune_event_metrics(e, run::kFinetuneMetricPrefix) : train_event_metrics(e))
                keys.push_back(key);
            return keys;
        };
        return std::vector<StageCurves>{
            {run::RunStage::Train, "", keys_of(TrainEventKind::Update, false),
             keys_of(TrainEventKind::Validation, false),
             [](const run::RunConfig& c) -> const TrainConfig& { return c.train; }},
            {run::RunStage::Finetune, run::kFinetuneMetricPrefix, keys_of(TrainEventKind::Update, true),
             keys_of(TrainEventKind::Validation, true),
             [](const run::RunConfig& c) -> const TrainConfig& { return c.finetune.train; }}};
    }();
    return stages;
}

// The TrainEvent field a stored metric came from (the inverse of train_event_metrics and
// finetune_event_metrics; `name` without the stage's prefix).
void set_train_event_field(TrainEvent& e, const std::string& name, double value) {
    static const std::map<std::string, double TrainEvent::*> fields = {
        {"t_a_loss", &TrainEvent::t_a_loss},
        {"t_gt_loss", &TrainEvent::t_gt_loss},
        {"t_loss", &TrainEvent::t_loss},
        {"v_a_loss", &TrainEvent::v_a_loss},
        {"v_gt_loss", &TrainEvent::v_gt_loss},
        {"v_loss", &TrainEvent::v_loss},
        {"grad_norm", &TrainEvent::grad_norm},
        {"lr", &TrainEvent::lr},
        {"tokens_per_s", &TrainEvent::tokens_per_s}};
    if (name == "es_counter") {
        e.es_counter = std::isnan(value) ? 0 : static_cast<int64_t>(value);
    } else if (const auto it = fields.find(name); it != fields.end() && !std::isnan(value)) {
        e.*(it->second) = value;
    }
}

// Where a PPL or task result stands in a run's order: before training (fp, quantized), after
// RILQ's compensation, after the fine-tuning stage. Reported in that order, each after the
// curves of the stage before it, as a local run does.
int result_phase(const std::string& stage) {
    if (stage == "compensated") return 1;
    if (stage == "finetuned") return 2;
    return 0;
}

// How far the follower has reported one trained stage of a task.
struct CurvesReported {
    bool announced = false; // its Stage event sent, the scale below read
    // The store logs curves by optimizer update; a local run's events also carry micro-steps
    // (what progress bars count): update x gradient_accumulation_steps, of approx_total_steps.
    int64_t micro_steps_per_update = 1, total_micro_steps = 0;
    int64_t last_update = -1, last_validation = -1;
    double best_v_loss = std::numeric_limits<double>::infinity();
};

// What the follower knows about one task.
struct Tracked {
    int position = 0;
    const SlurmTask* task = nullptr;
    SlurmTaskState slurm;
    bool seen = false, started = false, finished = false;
    fs::file_time_type shard_time{};
    uintmax_t shard_size = 0;
    std::vector<CurvesReported> curves = std::vector<CurvesReported>(trained_stages().size());
    std::set<std::pair<std::string, std::string>> evals; // (dataset, stage) already reported
    std::set<std::pair<std::string, std::string>> tasks; // (task, stage) already reported
    run::RunOutcome outcome;
};

class Follower {
  public:
    Follower(SlurmClient& slurm, store::RunStore& main, const SlurmJob& job,
             const SlurmFollowOptions& options)
        : slurm_(slurm), main_(main), job_(job), options_(options) {
        for (size_t i = 0; i < job.tasks.size(); ++i) {
            Tracked t;
            t.position = static_cast<int>(i);
            t.task = &job.tasks[i];
            t.outcome.uuid = t.task->run_uuid;
            t.outcome.name = t.task->run_name;
            tracked_.push_back(t);
        }
    }

    std::vector<run::RunOutcome> run();

  private:
    void emit(const Tracked& t, run::RunnerEvent e) {
        if (!options_.on_event) return;
        e.run_index = t.position;
        e.run_count = static_cast<int>(tracked_.size());
        e.run_uuid = t.task->run_uuid;
        e.run_name = t.task->run_name;
        options_.on_event(e);
    }
    void log(const Tracked& t, const std::string& message) {
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Log;
        e.message = message;
        emit(t, e);
    }
    bool cancelled() const { return options_.cancel && options_.cancel->cancelled(); }
    void tell_state(const Tracked& t, const SlurmTaskState& state) {
        if (options_.on_task_state) options_.on_task_state(t.position, state);
    }

    void poll_slurm();
    void update(Tracked& t, const SlurmTaskState& state);
    void import_shard(Tracked& t, bool force);
    void report_new_results(Tracked& t);
    void report_results_of_phase(Tracked& t, int phase, const std::vector<store::EvalResult>& evals,
                                 const std::vector<store::TaskScore>& scores);
    void report_curves(Tracked& t, const StageCurves& stage, CurvesReported& reported);
    void finish(Tracked& t, const SlurmTaskState& state);
    std::string preparation_failure(const Tracked& t) const;
    void force_status(const std::string& uuid, store::RunStatus status, const std::string& message);
    void sleep_a_poll();

    SlurmClient& slurm_;
    store::RunStore& main_;
    const SlurmJob& job_;
    SlurmFollowOptions options_;
    std::vector<Tracked> tracked_;
    std::map<int, SlurmTaskState> preparation_states_;
    Clock::time_point started_ = Clock::now();
    Clock::time_point last_contact_ = Clock::now();
    bool cancel_sent_ = false;
};

void Follower::force_status(const std::string& uuid, store::RunStatus status, const std::string& message) {
    // The verdict may overrule what the task wrote (KILLED by the SIGTERM of a time limit becomes
    // INTERRUPTED), which the store's transitions for a live run do not allow: set it directly.
    main_.flush();
    const int64_t now = store::now_ms();
    store::Statement s(main_.database(), "UPDATE runs SET status = ?1, end_time = ?2, heartbeat_time = "
                                         "MAX(COALESCE(heartbeat_time, 0), ?2), status_message = ?3 "
                                         "WHERE run_uuid = ?4");
    s.bind_all(std::string(store::to_string(status)), now, message, uuid).run();
}

void Follower::import_shard(Tracked& t, bool force) {
    std::error_code ec;
    const auto time = fs::last_write_time(t.task->shard, ec);
    if (ec) return; // nothing published yet
    const uintmax_t size = fs::file_size(t.task->shard, ec);
    if (!force && time == t.shard_time && size == t.shard_size) return;
    try {
        store::import_shards(main_, {t.task->shard});
        t.shard_time = time;
        t.shard_size = size;
    } catch (const std::exception& e) {
        // A snapshot caught mid-replacement on a network file system reads as garbage once in a
        // while; the next poll tries again. The final import reports what it found.
        log(t, std::string("shard not imported yet: ") + e.what());
        return;
    }
    report_new_results(t);
}

void Follower::report_new_results(Tracked& t) {
    const std::string& uuid = t.task->run_uuid;
    if (!t.started) {
        const store::RunStatus status = main_.get_run(uuid).summary.status;
        if (status == store::RunStatus::Scheduled) return;
    }
    // In the order a local run reports them: FP and quantized PPL, RILQ's updates and validations
    // by step (a step's update before its validation), the compensated PPL, then the fine-tuning
    // stage's curves and the fine-tuned PPL.
    const std::vector<store::EvalResult> evals = main_.eval_results(uuid);
    const std::vector<store::TaskScore> scores = main_.task_scores(uuid);
    report_results_of_phase(t, 0, evals, scores);
    for (size_t i = 0; i < trained_stages().size(); ++i) {
        report_curves(t, trained_stages()[i], t.curves[i]);
        report_results_of_phase(t, static_cast<int>(i) + 1, evals, scores);
    }
}

void Follower::report_results_of_phase(Tracked& t, int phase, const std::vector<store::EvalResult>& evals,
                                       const std::vector<store::TaskScore>& scores) {
    for (const store::EvalResult& r : evals) {
        if (result_phase(r.stage) != phase || !t.evals.insert({r.dataset, r.stage}).second) continue;
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Eval;
        e.eval = r;
        emit(t, e);
    }
    for (const store::TaskScore& r : scores) {
        if (result_phase(r.stage) != phase || !t.tasks.insert({r.task, r.stage}).second) continue;
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Task;
        e.task = r;
        emit(t, e);
    }
}

void Follower::report_curves(Tracked& t, const StageCurves& stage, CurvesReported& reported) {
    const std::string& uuid = t.task->run_uuid;
    const auto collect = [&](const std::vector<std::string>& keys, int64_t after) {
        std::map<int64_t, std::map<std::string, double>> by_step;
        for (const std::string& key : keys)
            for (const auto& p : main_.metric_history(uuid, key, after))
                by_step[p.step][key.substr(stage.prefix.size())] = p.value;
        return by_step;
    };
    const auto updates = collect(stage.update_keys, reported.last_update);
    const auto validations = collect(stage.validation_keys, reported.last_validation);
    if (updates.empty() && validations.empty()) return;
    if (!reported.announced) {
        reported.announced = true;
        try {
            const store::RunDetail detail = main_.get_run(uuid);
            const TrainConfig& settings = stage.settings(
                run::run_config_from_document(detail.config_json, detail.summary.name, t.position));
            reported.micro_steps_per_update = std::max<int64_t>(1, settings.gradient_accumulation_steps);
            reported.total_micro_steps = settings.approx_total_steps;
        } catch (const std::exception& e) {
            log(t, std::string("progress counted in updates: ") + e.what()); // a record without its document
        }
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Stage;
        e.stage = stage.stage;
        emit(t, e);
    }
    std::set<int64_t> steps;
    for (const auto& [step, v] : updates)
        steps.insert(step);
    for (const auto& [step, v] : validations)
        steps.insert(step);
    const auto train_event = [&](int64_t step, TrainEventKind kind,
                                 const std::map<std::string, double>& values) {
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Train;
        e.stage = stage.stage;
        e.train.kind = kind;
        e.train.update_step = step;
        e.train.micro_step = step * reported.micro_steps_per_update;
        e.train.total_micro_steps = reported.total_micro_steps;
        for (const auto& [name, value] : values)
            set_train_event_field(e.train, name, value);
        return e;
    };
    for (const int64_t step : steps) {
        if (const auto u = updates.find(step); u != updates.end()) {
            run::RunnerEvent e = train_event(step, TrainEventKind::Update, u->second);
            e.train.best_v_loss = reported.best_v_loss;
            emit(t, e);
            reported.last_update = step;
        }
        if (const auto v = validations.find(step); v != validations.end()) {
            run::RunnerEvent e = train_event(step, TrainEventKind::Validation, v->second);
            // As the trainer says it: validation 0 (before training) is never "best".
            e.train.is_best = step > 0 && e.train.v_loss < reported.best_v_loss;
            if (e.train.is_best) reported.best_v_loss = e.train.v_loss;
            e.train.best_v_loss = reported.best_v_loss;
            emit(t, e);
            reported.last_validation = step;
        }
    }
}

std::string Follower::preparation_failure(const Tracked& t) const {
    if (t.task->preparation < 0) return {};
    const auto it = preparation_states_.find(t.task->preparation);
    if (it == preparation_states_.end() || slurm_phase(it->second.state) != SlurmPhase::Ended ||
        it->second.state == "COMPLETED")
        return {};
    return "its shared preparation (Slurm job " + job_.preparation_job_id + "_" +
           std::to_string(t.task->preparation) + ") ended " + describe(it->second) + "; see " +
           job_.log_path(job_.preparation_job_id, t.task->preparation);
}

void Follower::finish(Tracked& t, const SlurmTaskState& state) {
    import_shard(t, true);
    const store::RunDetail detail = main_.get_run(t.task->run_uuid);
    RunVerdict verdict = verdict_for_ended_task(state, detail.summary.status, detail.summary.status_message);
    const std::string preparation = preparation_failure(t);
    if (!preparation.empty() && detail.summary.status == store::RunStatus::Scheduled)
        verdict = {true, store::RunStatus::Failed, "never started: " + preparation};
    if (verdict.change) force_status(t.task->run_uuid, verdict.status, verdict.message);
    report_new_results(t);
    const store::RunDetail final_detail = main_.get_run(t.task->run_uuid);
    t.outcome.status = final_detail.summary.status;
    t.outcome.message = final_detail.summary.status_message;
    t.outcome.evals = final_detail.eval_results;
    t.finished = true;
    run::RunnerEvent e;
    e.kind = run::RunnerEvent::Kind::RunFinished;
    e.status = t.outcome.status;
    e.message = t.outcome.message;
    emit(t, e);
}

void Follower::update(Tracked& t, const SlurmTaskState& state) {
    const bool changed = !t.seen || state.state != t.slurm.state || state.node != t.slurm.node ||
                         state.reason != t.slurm.reason;
    if (changed || state.elapsed_s != t.slurm.elapsed_s) {
        const std::string& uuid = t.task->run_uuid;
        main_.set_tag(uuid, "slurm.state", state.state);
        main_.set_tag(uuid, "slurm.elapsed_s", std::to_string(state.elapsed_s));
        if (changed) {
            main_.set_tag(uuid, "slurm.node", state.node);
            main_.set_tag(uuid, "slurm.reason", state.reason);
        }
    }
    t.seen = true;
    t.slurm = state;
    if (changed) tell_state(t, state);
    const SlurmPhase phase = slurm_phase(state.state);
    const bool ran = phase == SlurmPhase::Running || phase == SlurmPhase::Ending || !state.node.empty();
    if (phase != SlurmPhase::Waiting && ran && !t.started) {
        t.started = true;
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::RunStarted;
        e.message = "running on " + (state.node.empty() ? std::string("a node") : state.node) +
                    " (Slurm job " + job_.job_id + "_" + std::to_string(t.position) + ")";
        emit(t, e);
    }
    if (phase == SlurmPhase::Waiting && changed) {
        run::RunnerEvent e;
        e.kind = run::RunnerEvent::Kind::Progress;
        e.progress.stage = "Slurm " + describe(state);
        emit(t, e);
    }
    if (phase == SlurmPhase::Running || phase == SlurmPhase::Ending) import_shard(t, false);
    if (phase == SlurmPhase::Ended) finish(t, state);
}

void Follower::poll_slurm() {
    std::vector<int> expected;
    for (const Tracked& t : tracked_)
        if (!t.finished) expected.push_back(t.position);
    std::map<int, SlurmTaskState> states;
    try {
        states = slurm_.tasks(job_.job_id, expected);
        if (!job_.preparation_job_id.empty()) {
            std::vector<int> preparations;
            for (size_t i = 0; i < job_.preparations.size(); ++i)
                preparations.push_back(static_cast<int>(i));
            for (const auto& [index, state] : slurm_.tasks(job_.preparation_job_id, preparations))
                preparation_states_[index] = state;
        }
        last_contact_ = Clock::now();
    } catch (const std::exception& e) {
        if (Clock::now() - last_contact_ > options_.give_up_after)
            throw Error(std::string(e.what()) + "; stopped following Slurm job " + job_.job_id +
                        " (it goes on: import its shards later with rilq runs import)");
        log(tracked_.front(), std::string("Slurm did not answer (trying again): ") + e.what());
        return;
    }
    for (Tracked& t : tracked_) {
        if (t.finished) continue;
        const auto it = states.find(t.position);
        if (it != states.end()) {
            update(t, it->second);
            continue;
        }
        // Not listed: right after submission the controller may lag; later the task has left
        // the controller's memory and no accounting remembers it.
        if (!t.seen && Clock::now() - started_ < std::chrono::seconds(60)) continue;
        SlurmTaskState unknown = t.slurm;
        unknown.task = t.position;
        unknown.state = "UNKNOWN";
        update(t, unknown);
    }
}

void Follower::sleep_a_poll() {
    const auto until = Clock::now() + options_.poll_interval;
    while (Clock::now() < until) {
        if (cancelled() && !cancel_sent_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::vector<run::RunOutcome> Follower::run() {
    Clock::time_point cancel_time{};
    while (true) {
        if (cancelled() && !cancel_sent_) {
            cancel_sent_ = true;
            cancel_time = Clock::now();
            log(tracked_.front(), "cancelling: scancel " + job_.job_id);
            if (!job_.preparation_job_id.empty()) slurm_.cancel(job_.preparation_job_id);
            slurm_.cancel(job_.job_id);
        }
        poll_slurm();
        bool all = true;
        for (const Tracked& t : tracked_)
            all = all && t.finished;
        if (all) break;
        if (cancel_sent_ && Clock::now() - cancel_time > options_.cancel_grace) {
            for (Tracked& t : tracked_) {
                if (t.finished) continue;
                SlurmTaskState gone = t.slurm;
                gone.state = "CANCELLED";
                gone.reason = "still " + t.slurm.state + " " + std::to_string(options_.cancel_grace.count()) +
                              " s after scancel";
                tell_state(t, gone);
                finish(t, gone);
            }
            break;
        }
        sleep_a_poll();
    }
    std::vector<run::RunOutcome> outcomes;
    for (const Tracked& t : tracked_)
        outcomes.push_back(t.outcome);
    return outcomes;
}

} // namespace

std::vector<run::RunOutcome> follow_job(SlurmClient& slurm, store::RunStore& main, const SlurmJob& job,
                                        const SlurmFollowOptions& options) {
    if (job.tasks.empty()) return {};
    return Follower(slurm, main, job, options).run();
}

} // namespace rilq::cluster
