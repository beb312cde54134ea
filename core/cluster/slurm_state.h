// Slurm's job states in the run store's terms. While a task waits or runs, the store's record is
// what the task itself logs (through its shard); once Slurm says the task ended, the verdict
// below decides the run's final status from both sides:
//
//   Slurm state                      run as its shard left it      -> run status
//   COMPLETED, FAILED, CANCELLED     FINISHED / FAILED / KILLED       kept (the task closed it)
//   CANCELLED                        never started (SCHEDULED)        KILLED "cancelled before start"
//   CANCELLED                        RUNNING (killed before closing)  KILLED
//   FAILED                           not closed                       FAILED (exit code, reason)
//   OUT_OF_MEMORY                    not FINISHED                     FAILED
//   TIMEOUT, NODE_FAIL, PREEMPTED,
//   BOOT_FAIL, DEADLINE, REVOKED     not FINISHED                     INTERRUPTED (even if the task
//                                                                     closed it KILLED on SIGTERM)
//   COMPLETED                        not closed                       INTERRUPTED
//   unknown (left squeue, no sacct)  not closed                       INTERRUPTED
// Every status but FINISHED can be resumed (`rilq run --resume RUN --backend slurm`). The message
// names Slurm's state, the node, the time it ran and Slurm's reason.
#pragma once
#include <string>

#include "core/cluster/slurm_client.h"
#include "core/store/run_types.h"

namespace rilq::cluster {

enum class SlurmPhase {
    Waiting, // PENDING, REQUEUED, CONFIGURING, ...: the run stays SCHEDULED
    Running, // RUNNING, SUSPENDED, ...
    Ending,  // COMPLETING: processes are still exiting (and publishing their last results)
    Ended,   // a final state: the verdict applies
};

SlurmPhase slurm_phase(const std::string& state);

struct RunVerdict {
    bool change = false; // false: the run's record stays as the task left it
    store::RunStatus status = store::RunStatus::Failed;
    std::string message;
};

// The final status of a run whose task Slurm reports as ended (state "UNKNOWN" when Slurm no
// longer knows the task).
RunVerdict verdict_for_ended_task(const SlurmTaskState& task, store::RunStatus recorded,
                                  const std::string& recorded_message);

// "RUNNING on node17 for 01:02:03", "PENDING (Priority)": one line for logs and tags.
std::string describe(const SlurmTaskState& task);

} // namespace rilq::cluster
