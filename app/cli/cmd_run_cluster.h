// The ways `rilq run` runs points other than the local sweep (issue 18), kept out of cmd_run.cpp:
//   --backend slurm [--partition P --gres G --cpus N --mem M --time T --max-parallel N
//                    --sbatch-arg ARG... --shared-prep --job-dir DIR --poll-seconds S]
//                      submit the sweep (or --resume RUN...) as a Slurm job array and follow it
//   --point N          run only sweep point N (0-based) of EXPERIMENT
//   --point N --job F  what a Slurm array task runs on its node: task N of job manifest F,
//                      recorded in a node-local store published as the run's shard
//   --prepare G --job F  a shared-preparation task: writes prepared folder G of job F
#pragma once
#include <QCommandLineParser>

#include <vector>

#include "core/run/experiment_config.h"
#include "core/run/runner.h"

namespace rilq::cli {

void add_cluster_options(QCommandLineParser& parser);

// --set and --data-root as the experiment parser takes them.
run::ParseOptions experiment_parse_options(const QCommandLineParser& parser);

// True for --point / --prepare / --job: run_point_task() does the whole command.
bool is_point_task(const QCommandLineParser& parser);
int run_point_task(const QCommandLineParser& parser, run::RunnerOptions options);

// True for --backend slurm; Error for an unknown backend, or options Slurm cannot honour.
bool slurm_requested(const QCommandLineParser& parser);
// Submits `experiment` (or, when null, the --resume runs) and follows the job to its end; the
// runs are in options.store_path. Progress goes through options.on_event, cancel through
// options.cancel (Ctrl-C scancels the job).
std::vector<run::RunOutcome> run_on_slurm(const QCommandLineParser& parser,
                                          const run::ExperimentConfig* experiment,
                                          const run::RunnerOptions& options);

} // namespace rilq::cli
