// Following a submitted sweep from the submitting machine, until every task has ended:
//   - squeue (sacct for tasks the controller has forgotten) at a modest rate, every poll_interval;
//   - each task's shard imported into the main store whenever it changed (shard_import.h), so the
//     GUI's queue and live curves and `rilq runs` show the remote runs as they train;
//   - Slurm's state, node, elapsed time and reason kept as the run's tags slurm.state, slurm.node,
//     slurm.elapsed_s, slurm.reason;
//   - when a task ends, its last shard imported and the verdict of slurm_state.h applied;
//   - RunnerEvents emitted as the local Runner emits them (RunStarted, Train updates and
//     validations, Eval, RunFinished), so every front end shows a remote sweep like a local one.
// A cancel (Ctrl-C, the GUI's Cancel) scancels the job: pending tasks never start, running ones
// get SIGTERM, end their runs KILLED with their best adapters saved and publish their shards,
// which are imported before follow_job returns.
#pragma once
#include <chrono>
#include <functional>
#include <vector>

#include "core/cluster/slurm_client.h"
#include "core/cluster/slurm_job.h"
#include "core/run/runner.h"

namespace rilq::store {
class RunStore;
}

namespace rilq::cluster {

struct SlurmFollowOptions {
    const CancelToken* cancel = nullptr;
    run::RunnerCallback on_event;
    // Where each task is, for a front end's queue: called (on the follower's thread) when a task's
    // Slurm state, node or reason changes, with the task's position in the job.
    std::function<void(int task, const SlurmTaskState& state)> on_task_state;
    std::chrono::milliseconds poll_interval{5000};
    // After scancel, how long to wait for the tasks to end (Slurm's KillWait is 30 s by default).
    std::chrono::seconds cancel_grace{300};
    // Slurm unreachable this long: stop following (the job goes on; import its shards later).
    std::chrono::seconds give_up_after{900};
};

// One outcome per task, in the job's task order (status, message and PPL as the main store has them).
std::vector<run::RunOutcome> follow_job(SlurmClient& slurm, store::RunStore& main, const SlurmJob& job,
                                        const SlurmFollowOptions& options);

} // namespace rilq::cluster
