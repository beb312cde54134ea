// `rilq bench store`: how fast the run store takes a training run's metrics and gives a curve
// back. Goal (issue "Experiments, the SQLite run store, and table export"): 100,000 points
// inserted in under 1 s, one run's curve read in under 50 ms.
//
// Two ways to insert are timed: batched (log_metric, auto-flushed every 1000 points: the
// store's bulk path) and one commit per step (log_metrics, each step durable as soon as it
// returns: what a trainer that must lose nothing on SIGKILL pays). Each commit rewrites every
// page it touches, about one index page per metric key, so per-step commits cost I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rilq::bench {

struct StoreBenchOptions {
    std::string db_path; // "" = fresh temporary files, removed afterwards
    int runs = 10;
    int keys = 10;                // metrics logged per step
    int steps = 1000;             // per run: runs x keys x steps = 100,000 points by default
    bool per_step_commits = true; // also time the one-commit-per-step insert
};

struct StoreBenchResult {
    int64_t points = 0;
    // Wall time, and this process's CPU time (user + system): on a shared, loaded machine the
    // wall time includes waiting for a core, the CPU time does not.
    double batched_insert_s = 0.0;
    double batched_cpu_s = 0.0;
    int64_t batched_commits = 0;
    double per_step_insert_s = 0.0; // 0 when not measured
    double per_step_cpu_s = 0.0;
    int64_t per_step_commits = 0;
    size_t curve_points = 0; // one run, one key
    double curve_first_ms = 0.0;
    double curve_median_ms = 0.0;
    size_t run_points = 0; // one run, every key
    double run_curves_ms = 0.0;
    size_t runs_listed = 0;
    double list_runs_ms = 0.0; // list_runs with latest/best metrics of every run
    double file_mb = 0.0;
};

StoreBenchResult run_store_bench(const StoreBenchOptions& options);
std::string format_store_bench(const StoreBenchOptions& options, const StoreBenchResult& result);

} // namespace rilq::bench
