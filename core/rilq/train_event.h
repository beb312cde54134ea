// What the trainer reports, as it happens (TrainEvent through a callback) and at the end
// (TrainResult). Field names follow the official log (aiha-lab/RILQ main.py approx_log:
// t_a_loss, t_gt_loss, t_loss, v_a_loss, v_gt_loss, v_loss). NaN means "not measured".
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace rilq {

enum class TrainEventKind {
    Update,      // after each optimizer update
    Validation,  // after each validation (update 0 = before training; logged, never best)
    EarlyStop,   // patience exhausted; a Finished event follows
    Finished,    // last event of every run, whatever the status
};

enum class TrainStatus {
    Running,
    Finished,      // ran all approx_total_steps micro-steps
    EarlyStopped,  // approx_early_stop with approx_es_patience validations without improvement
    Killed,        // cancelled through the CancelToken
    Failed,        // non-finite loss or an error; `message` says which
};

std::string to_string(TrainEventKind kind);   // "update" | "validation" | "early_stop" | "finished"
std::string to_string(TrainStatus status);    // "running" | "finished" | "early_stopped" | "killed" | "failed"

constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

struct TrainEvent {
    TrainEventKind kind = TrainEventKind::Update;
    int64_t micro_step = 0;        // micro-steps done (the official step_i)
    int64_t update_step = 0;       // optimizer updates done
    int64_t total_micro_steps = 0; // approx_total_steps
    // Training losses, means over the micro-steps of the last accumulation window. t_loss is
    // the weighted objective itself (the official log divides it by the accumulation steps).
    double t_a_loss = kNotMeasured;
    double t_gt_loss = kNotMeasured;
    double t_loss = kNotMeasured;
    // Validation losses (Validation; Finished repeats the best validation's).
    double v_a_loss = kNotMeasured;
    double v_gt_loss = kNotMeasured;
    double v_loss = kNotMeasured;
    bool is_best = false;          // this validation became the best so far
    double grad_norm =
        kNotMeasured;              // the adapters' gradient L2 norm before clipping (with max_grad_norm > 0)
    double lr = 0.0;               // learning rate of the last update
    double tokens_per_s = 0.0;     // training tokens / training time, this session (validation excluded)
    double elapsed_s = 0.0;        // wall time since this session started
    double eta_s = -1.0;           // estimate to approx_total_steps; negative while unknown
    int64_t es_counter = 0;        // validations in a row without improvement
    double best_v_loss = std::numeric_limits<double>::infinity();
    int64_t best_update_step = -1; // -1: no best yet
    TrainStatus status = TrainStatus::Running;
    std::string message;           // Finished / EarlyStop: why it ended
};

using TrainEventCallback = std::function<void(const TrainEvent&)>;

// The metrics an event records, under the run store's keys, with the event's update_step as
// their step: an Update gives t_a_loss, t_gt_loss, t_loss, lr, tokens_per_s; a Validation gives
// v_a_loss, v_gt_loss, v_loss, es_counter; other events none. The Runner stores exactly these and
// the GUI draws its live curves from them, so a run drawn live and reopened from the store match.
std::vector<std::pair<std::string, double>> train_event_metrics(const TrainEvent& event);

struct TrainResult {
    TrainStatus status = TrainStatus::Running;
    std::string message;
    int64_t micro_steps = 0;
    int64_t updates = 0;
    int64_t validations = 0;       // including the one at update 0
    double best_v_loss = std::numeric_limits<double>::infinity();
    int64_t best_update_step = -1;
    bool best_restored = false;    // the adapters now hold the best validation's snapshot
    double initial_v_loss = kNotMeasured;   // validation at update 0 (this session's start, if fresh)
    double elapsed_s = 0.0;
    double tokens_per_s = 0.0;
};

} // namespace rilq
