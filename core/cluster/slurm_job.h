// The folder of one submitted sweep (or resubmission), on the file system the nodes share:
//   job.json          the manifest below: which run each array task records, where its shard goes
//   experiment.json   the experiment as submitted (after --set, data_root absolute): tasks read
//                     this copy, so editing the original meanwhile changes nothing
//   job.sh            the batch script (#SBATCH lines: the resources, the array, the log files)
//   prepare.sh        the shared-preparation job, when there is one
//   prepared/G/       a preparation written once and loaded by the tasks of group G
//   logs/A_T.log      Slurm's output of array job A, task T
// Each run's store shard lies beside its outputs: <output_dir>.<uuid prefix>.shard.sqlite.
#pragma once
#include <string>
#include <vector>

#include "core/cluster/slurm_resources.h"

namespace rilq::cluster {

struct SlurmTask {
    int point = 0;        // the sweep point (RunConfig::index)
    std::string run_uuid; // the run it records (created in the main store at submission)
    std::string run_name;
    std::string shard;    // its store snapshot, absolute
    bool resume = false;  // continue run_uuid from its checkpoint; the shard was seeded with it
    int preparation = -1; // index into SlurmJob::preparations; -1: the task prepares for itself
};

struct SlurmPreparation {
    int point = 0;          // the sweep point whose settings it is made for
    std::string dir;        // absolute
    std::vector<int> tasks; // the tasks that load it
};

struct SlurmJob {
    std::string dir;                   // absolute
    std::string experiment;            // name
    std::string working_dir;           // where tasks run: relative output_dir resolves against it
    std::string rilq_program;          // absolute path of the rilq the nodes run
    std::vector<std::string> run_args; // passed to every task: --no-outputs, --save-merged
    SlurmResources resources;
    std::vector<SlurmTask> tasks; // $SLURM_ARRAY_TASK_ID indexes this
    std::vector<SlurmPreparation> preparations;
    std::string job_id;             // after submission
    std::string preparation_job_id; // "" without shared preparation

    std::string manifest_path() const { return dir + "/job.json"; }
    std::string experiment_path() const { return dir + "/experiment.json"; }
    std::string log_path(const std::string& array_job, int task) const;
};

void write_job_manifest(const SlurmJob& job);
SlurmJob read_job_manifest(const std::string& path); // Error naming the file and field

// "0-5%2", "0-5": the --array value for tasks 0..count-1.
std::string array_range(int count, int max_parallel);

// The batch scripts. Each task execs rilq (no shell in between), so the SIGTERM Slurm sends on
// scancel or at the time limit reaches rilq itself, which ends the run KILLED with its best
// adapters saved and publishes its shard before KillWait runs out.
std::string task_script(const SlurmJob& job);
std::string preparation_script(const SlurmJob& job);

} // namespace rilq::cluster
