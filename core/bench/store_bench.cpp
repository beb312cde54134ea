#include "core/bench/store_bench.h"
#include "core/bench/cpu_clock.h"

#include "core/store/run_store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace rilq::bench {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A plausible loss curve: decaying, a little noise, deterministic.
double metric_value(int run, int key, int step) {
    return (1.0 + key) * std::exp(-step / 300.0) + 0.01 * std::sin(step * 0.7 + run) + 0.1;
}

void remove_db(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(path + suffix, ec);
}

struct Inserted {
    std::vector<std::string> run_ids;
    double seconds = 0.0;
    double cpu_seconds = 0.0;
    int64_t commits = 0;
};

// Runs one after another, as one worker runs a sweep.
Inserted insert_runs(const std::string& path, const StoreBenchOptions& o, bool per_step) {
    Inserted out;
    store::RunStore store(path);
    std::vector<std::string> keys;
    for (int k = 0; k < o.keys; ++k)
        keys.push_back("metric_" + std::to_string(k));
    for (int r = 0; r < o.runs; ++r) {
        out.run_ids.push_back(
            store.create_run({"bench-store", "", "run_" + std::to_string(r), "{}", "", {}, {}}));
        store.start_run(out.run_ids.back());
    }
    std::vector<std::pair<std::string, double>> values(static_cast<size_t>(o.keys));
    const auto start = Clock::now();
    const double cpu_start = process_cpu_seconds();
    for (int r = 0; r < o.runs; ++r) {
        const std::string& id = out.run_ids[size_t(r)];
        for (int step = 0; step < o.steps; ++step) {
            if (per_step) {
                for (int k = 0; k < o.keys; ++k)
                    values[size_t(k)] = {keys[size_t(k)], metric_value(r, k, step)};
                store.log_metrics(id, step, values);
                ++out.commits;
            } else {
                for (int k = 0; k < o.keys; ++k)
                    store.log_metric(id, keys[size_t(k)], metric_value(r, k, step), step);
            }
        }
    }
    store.flush();
    out.seconds = ms_since(start) / 1000.0;
    out.cpu_seconds = process_cpu_seconds() - cpu_start;
    if (!per_step) {
        const int64_t points = int64_t(o.runs) * o.keys * o.steps;
        out.commits = (points + int64_t(store::StoreOptions{}.flush_every_points) - 1) /
                      int64_t(store::StoreOptions{}.flush_every_points);
    }
    for (const auto& id : out.run_ids)
        store.end_run(id, store::RunStatus::Finished);
    return out;
}

std::string scratch_path(const std::string& tag) {
    return (fs::temp_directory_path() /
            ("rilq-bench-store-" + std::to_string(getpid()) + "-" + tag + ".sqlite"))
        .string();
}

} // namespace

StoreBenchResult run_store_bench(const StoreBenchOptions& options) {
    const bool temporary = options.db_path.empty();
    const std::string path = temporary ? scratch_path("batched") : options.db_path;
    remove_db(path);
    StoreBenchResult result;
    result.points = int64_t(options.runs) * options.keys * options.steps;
    const Inserted batched = insert_runs(path, options, false);
    result.batched_insert_s = batched.seconds;
    result.batched_commits = batched.commits;
    result.batched_cpu_s = batched.cpu_seconds;
    if (options.per_step_commits) {
        const std::string per_step_path =
            temporary ? scratch_path("per-step") : options.db_path + ".per-step";
        remove_db(per_step_path);
        const Inserted per_step = insert_runs(per_step_path, options, true);
        result.per_step_insert_s = per_step.seconds;
        result.per_step_commits = per_step.commits;
        result.per_step_cpu_s = per_step.cpu_seconds;
        remove_db(per_step_path);
    }

    // A reader, as the GUI opens one.
    store::StoreOptions read_only;
    read_only.mode = store::Database::Mode::ReadOnly;
    store::RunStore reader(path, read_only);
    const std::string& run = batched.run_ids[batched.run_ids.size() / 2];
    const std::string curve_key = "metric_" + std::to_string(options.keys / 2);
    std::vector<double> times;
    for (int i = 0; i < 7; ++i) {
        const auto start = Clock::now();
        result.curve_points = reader.metric_history(run, curve_key).size();
        times.push_back(ms_since(start));
    }
    result.curve_first_ms = times.front();
    std::sort(times.begin(), times.end());
    result.curve_median_ms = times[times.size() / 2];
    {
        const auto start = Clock::now();
        for (const auto& key : reader.metric_keys(run))
            result.run_points += reader.metric_history(run, key).size();
        result.run_curves_ms = ms_since(start);
    }
    {
        const auto start = Clock::now();
        result.runs_listed = reader.list_runs().size();
        result.list_runs_ms = ms_since(start);
    }
    std::error_code ec;
    const auto size_of = [&](const std::string& p) {
        return fs::exists(p) ? double(fs::file_size(p, ec)) : 0.0;
    };
    result.file_mb = (size_of(path) + size_of(path + "-wal")) / 1e6;
    if (temporary) remove_db(path);
    return result;
}

std::string format_store_bench(const StoreBenchOptions& o, const StoreBenchResult& r) {
    char buf[2048];
    int n = std::snprintf(buf, sizeof buf,
                          "run store: %lld metric points (%d runs x %d steps x %d metrics)\n"
                          "insert, batched (log_metric, %lld commits):         %7.3f s wall, %6.3f s CPU, "
                          "%8.0f points/s  [goal < 1 s for 100k]\n",
                          static_cast<long long>(r.points), o.runs, o.steps, o.keys,
                          static_cast<long long>(r.batched_commits), r.batched_insert_s, r.batched_cpu_s,
                          double(r.points) / std::max(r.batched_insert_s, 1e-9));
    if (r.per_step_commits > 0) {
        n += std::snprintf(buf + n, sizeof buf - size_t(n),
                           "insert, one commit per step (log_metrics, %lld): %7.3f s wall, %6.3f s CPU, "
                           "%8.0f points/s, %.3f ms per commit\n",
                           static_cast<long long>(r.per_step_commits), r.per_step_insert_s, r.per_step_cpu_s,
                           double(r.points) / std::max(r.per_step_insert_s, 1e-9),
                           1000.0 * r.per_step_insert_s / double(r.per_step_commits));
    }
    std::snprintf(
        buf + n, sizeof buf - size_t(n),
        "curve read (one run, one metric, %zu points): first %.2f ms, median of 7 %.2f ms  [goal < 50 ms]\n"
        "run read (one run, all %d metrics, %zu points): %.2f ms\n"
        "list runs (%zu runs with latest/best metrics): %.2f ms\n"
        "file: %.1f MB (database + WAL)\n",
        r.curve_points, r.curve_first_ms, r.curve_median_ms, o.keys, r.run_points, r.run_curves_ms,
        r.runs_listed, r.list_runs_ms, r.file_mb);
    return buf;
}

} // namespace rilq::bench
