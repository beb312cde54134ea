// The Slurm command-line tools, as the sweep backend uses them: sbatch to submit a job array,
// squeue (sacct once a task has left the controller's memory) to follow its tasks, scancel to
// stop it. Every call goes through a ProcessRunner; every failure is an Error quoting the command
// and what Slurm printed.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/cluster/process_runner.h"

namespace rilq::cluster {

// One array task as Slurm reports it.
struct SlurmTaskState {
    int task = -1;         // $SLURM_ARRAY_TASK_ID
    std::string state;     // PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ...
    std::string node;      // "" while pending
    int64_t elapsed_s = 0; // time running
    std::string reason;    // why it waits or why it ended: Priority, Dependency, NonZeroExitCode, TimeLimit
    std::string exit_code; // "1:0" (sacct only; "" when unknown)
};

class SlurmClient {
  public:
    explicit SlurmClient(ProcessRunner& runner) : runner_(runner) {}

    // sbatch --parsable [options] SCRIPT; returns the job id.
    std::string submit(const std::string& script, const std::vector<std::string>& options = {});
    // The tasks of array job `job_id` by index: squeue first; `expected` tasks it no longer lists
    // come from sacct when the cluster keeps accounting (absent otherwise).
    std::map<int, SlurmTaskState> tasks(const std::string& job_id, const std::vector<int>& expected);
    // scancel: pending tasks never start, running ones get SIGTERM (then SIGKILL after KillWait).
    void cancel(const std::string& job_id);

  private:
    ProcessResult call(const std::vector<std::string>& argv, bool must_succeed);
    ProcessRunner& runner_;
};

// Parsers of the formats SlurmClient asks for (exposed for tests).
std::vector<SlurmTaskState> parse_squeue(const std::string& out); // "%K|%T|%N|%M|%r" lines
std::vector<SlurmTaskState>
parse_sacct(const std::string& out); // JobID|State|NodeList|ElapsedRaw|Reason|ExitCode
// Slurm's durations: "SS", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS"; -1 when unreadable.
int64_t parse_slurm_duration(const std::string& text);
// "01:02:03", "1-02:03:04": the form squeue prints.
std::string slurm_duration_text(int64_t seconds);

} // namespace rilq::cluster
