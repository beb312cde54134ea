// Submitting a sweep to Slurm: one job array, one task per sweep point, each task running
// `rilq run EXPERIMENT --point $SLURM_ARRAY_TASK_ID --job job.json` on its node (slurm_job.h).
// Every point is recorded in the main store at once (SCHEDULED, tagged with the job), so the
// GUI and `rilq runs` show the whole sweep from the start; the tasks record into their own
// shards, which follow_job() (slurm_follow.h) brings home.
//
// Shared preparation: points whose preparation agrees (a rank sweep: same model, quantizer,
// calibration, eval) can load one prepared folder (the quantized student, the teacher's targets,
// the FP and quantized results) written once by a preparation job; the sweep's array then waits
// for it with --dependency=afterok (and is cancelled if it fails).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/cluster/slurm_client.h"
#include "core/cluster/slurm_job.h"

namespace rilq::store {
class RunStore;
}
namespace rilq::run {
struct ExperimentConfig;
struct RunConfig;
} // namespace rilq::run

namespace rilq::cluster {

struct SlurmSubmitOptions {
    SlurmResources resources;
    std::string job_dir;      // "" = <the first run's output folder's parent>/slurm/<experiment>-<time>
    std::string working_dir;  // relative output_dir resolves against it (tasks run there); "" = cwd
    std::string rilq_program; // the rilq the nodes run; "" = this program
    std::vector<std::string> run_args; // passed to every task (--no-outputs, --save-merged)
    bool shared_preparation = false;
    // Which points share preparation (run::preparation_key); needed with shared_preparation.
    std::function<std::string(const run::RunConfig&)> preparation_key;
};

// Every point of `experiment`, as one job array. Error (nothing recorded) when the job folder
// cannot be made; when sbatch refuses, the recorded points end FAILED with Slurm's message.
SlurmJob submit_experiment(SlurmClient& slurm, store::RunStore& main, const run::ExperimentConfig& experiment,
                           const SlurmSubmitOptions& options);

// Resubmits KILLED, FAILED or INTERRUPTED runs (ids, prefixes or names, as `rilq run --resume`):
// each task continues its run from its checkpoint, from a shard seeded with the run's record in
// the main store.
SlurmJob submit_resume(SlurmClient& slurm, store::RunStore& main, const std::vector<std::string>& run_refs,
                       const SlurmSubmitOptions& options);

// Where a run's store shard lies: beside its output folder, named after the run (a later run of
// the same point never overwrites it): <output_dir>.<uuid prefix>.shard.sqlite.
std::string shard_path_for(const std::string& output_dir, const std::string& run_uuid);

} // namespace rilq::cluster
