#include "core/cluster/slurm_state.h"

#include <set>

namespace rilq::cluster {

SlurmPhase slurm_phase(const std::string& state) {
    static const std::set<std::string> waiting = {"PENDING",      "REQUEUED",    "REQUEUE_HOLD",
                                                  "REQUEUE_FED",  "CONFIGURING", "RESV_DEL_HOLD",
                                                  "POWER_UP_NODE"};
    static const std::set<std::string> running = {"RUNNING",   "SUSPENDED", "STOPPED",
                                                  "SIGNALING", "RESIZING",  "STAGE_OUT"};
    if (waiting.count(state)) return SlurmPhase::Waiting;
    if (running.count(state)) return SlurmPhase::Running;
    if (state == "COMPLETING") return SlurmPhase::Ending;
    return SlurmPhase::Ended;
}

std::string describe(const SlurmTaskState& t) {
    std::string text = t.state;
    if (!t.node.empty()) text += " on " + t.node;
    if (t.elapsed_s > 0) text += " after " + slurm_duration_text(t.elapsed_s);
    if (!t.reason.empty() && t.reason != "None") text += " (" + t.reason + ")";
    if (!t.exit_code.empty() && t.exit_code != "0:0") text += ", exit code " + t.exit_code;
    return text;
}

RunVerdict verdict_for_ended_task(const SlurmTaskState& task, store::RunStatus recorded,
                                  const std::string& recorded_message) {
    using store::RunStatus;
    const bool closed = is_terminal(recorded);
    const std::string slurm = "Slurm: task " + describe(task);
    const auto with_record = [&](const std::string& lead) {
        return recorded_message.empty() ? lead : lead + "; the run said: " + recorded_message;
    };
    RunVerdict v;
    const std::string& s = task.state;
    if (recorded == RunStatus::Finished) return v;
    if (s == "TIMEOUT" || s == "NODE_FAIL" || s == "PREEMPTED" || s == "BOOT_FAIL" || s == "DEADLINE" ||
        s == "REVOKED") {
        v = {true, RunStatus::Interrupted, with_record(slurm)};
    } else if (s == "OUT_OF_MEMORY") {
        v = {true, RunStatus::Failed, with_record(slurm)};
    } else if (closed) {
        return v; // COMPLETED, FAILED, CANCELLED after the task closed its run: its record stands
    } else if (s == "CANCELLED") {
        v = {true, RunStatus::Killed,
             recorded == RunStatus::Scheduled
                 ? "cancelled before start (" + slurm + ")"
                 : "cancelled (" + slurm + "); the task ended without closing the run"};
    } else if (s == "FAILED") {
        v = {true, RunStatus::Failed,
             recorded == RunStatus::Scheduled ? slurm + "; the run never started (see the task's log)"
                                              : slurm + "; the task ended without closing the run"};
    } else {
        v = {true, RunStatus::Interrupted,
             s == "UNKNOWN" ? "Slurm no longer reports this task (it left the queue and the cluster keeps no "
                              "accounting) and the run was not closed"
                            : slurm + "; the run was not closed"};
    }
    return v;
}

} // namespace rilq::cluster
