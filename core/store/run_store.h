// The run store: every run, its settings, curves, evaluations and files, in one SQLite file.
//
// Writers (one RunStore per process, on the thread that trains) log metrics into a small
// buffer committed in batches: log_metrics() commits one step's values together, log_metric()
// buffers until flush() or the auto-flush limits. latest_metrics and best_metrics are updated
// in the same transaction, so listing runs never scans a history. A metric is durable once
// its transaction commits: WAL with synchronous=NORMAL survives a killed process (only an OS
// crash or power loss can drop the last commits).
//
// Readers (the GUI, `rilq runs`) open their own RunStore, typically read-only; in WAL mode
// they never block the writer and the writer never blocks them.
//
// Opening read-write upgrades the schema and marks runs left RUNNING by a dead process as
// INTERRUPTED: same host and the pid is gone, or another host and no heartbeat for
// `stale_after_ms`. Opening read-only writes nothing, creates nothing (a missing store is an
// Error) and also reads a store on read-only media (then without WAL locks: immutable).
#pragma once
#include "core/store/run_types.h"
#include "core/store/sqlite.h"
#include "core/util/error.h" // every failure throws rilq::Error

#include <memory>
#include <string>
#include <vector>

namespace rilq::store {

// 128 random bits as 32 hex digits, like MLflow's run ids.
std::string new_run_uuid();

struct StoreOptions {
    Database::Mode mode = Database::Mode::ReadWrite;
    int busy_timeout_ms = 10000;             // how long a writer waits for another writer
    size_t flush_every_points = 1000;        // auto-flush when the buffer holds this many points
    int64_t flush_every_ms = 250;            // ... or when its oldest point is this old
    int64_t stale_after_ms = 15 * 60 * 1000; // other-host runs without heartbeat become INTERRUPTED
    bool detect_interrupted = true;          // ReadWrite only
};

class RunStore {
  public:
    explicit RunStore(const std::string& path, StoreOptions options = {});
    ~RunStore(); // flushes buffered metrics (errors there are swallowed: call flush() to see them)
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::string& path() const;
    int schema_version();
    // uuids of the runs this open turned from RUNNING into INTERRUPTED.
    const std::vector<std::string>& interrupted_on_open() const { return interrupted_on_open_; }
    // Runs the detection again (e.g. periodically from a long-lived GUI); returns changed uuids.
    std::vector<std::string> mark_interrupted_runs();
    // The rule that detection applies: a RUNNING run whose process is gone (this host) or that
    // has been silent for stale_after_ms (another host). Readers show it without writing.
    bool is_orphaned(const RunSummary& run) const;

    // ---- writing --------------------------------------------------------------------------
    int64_t ensure_experiment(const std::string& name, const std::string& config_json = "");
    std::string create_run(const NewRun& run); // SCHEDULED; returns the uuid (run.uuid when given)
    void start_run(const std::string& uuid);   // -> RUNNING, records pid, host, heartbeat
    void end_run(const std::string& uuid, RunStatus status, const std::string& message = "");
    void set_status(const std::string& uuid, RunStatus status, const std::string& message = "");
    void heartbeat(const std::string& uuid);

    // Params are immutable (as in MLflow): logging a key again with another value is an error.
    void log_params(const std::string& uuid, const std::vector<std::pair<std::string, std::string>>& params);
    void set_tag(const std::string& uuid, const std::string& key, const std::string& value);

    void log_metric(const std::string& uuid, const std::string& key, double value, int64_t step,
                    int64_t timestamp_ms = 0);
    // One step's values, committed together before returning.
    void log_metrics(const std::string& uuid, int64_t step,
                     const std::vector<std::pair<std::string, double>>& values, int64_t timestamp_ms = 0);
    // Forgets every metric point logged after `step` (all of them for -1) and recomputes
    // latest_metrics / best_metrics from what is left: a resumed run logs those steps again.
    void delete_metrics_after(const std::string& uuid, int64_t step);
    void flush();
    size_t buffered_points() const { return buffer_.size(); }

    void log_layer_stats(const std::string& uuid, const std::vector<LayerStat>& stats);
    void log_eval_result(const std::string& uuid, const EvalResult& result);
    // Replaces the run's score for (task, stage), its group scores included.
    void log_task_score(const std::string& uuid, const TaskScore& score);
    void log_artifact(const std::string& uuid, const Artifact& artifact);

    // Error for a RUNNING run (its process is alive, or it would have been marked INTERRUPTED
    // on opening) unless `even_if_running`: deleting it under a live writer loses its results.
    void delete_run(const std::string& uuid, bool even_if_running = false);

    // ---- reading --------------------------------------------------------------------------
    std::vector<ExperimentInfo> experiments();
    std::vector<RunSummary> list_runs(const RunFilter& filter = {});
    // A uuid, a unique uuid prefix (4+ characters), a unique run name, or "experiment/name".
    std::string resolve_run(const std::string& reference);
    RunDetail get_run(const std::string& uuid);
    std::vector<std::string> metric_keys(const std::string& uuid);
    // The curve by step. With `after_step`, only the points past it: a reader following a run
    // that trains elsewhere polls with the last step it has.
    std::vector<MetricPoint> metric_history(const std::string& uuid, const std::string& key,
                                            std::optional<int64_t> after_step = std::nullopt);
    std::map<std::string, MetricSummary> metric_summaries(const std::string& uuid);
    std::map<std::string, std::string> params(const std::string& uuid);
    std::vector<ParamDiff> diff_params(const std::string& uuid_a, const std::string& uuid_b);
    std::vector<EvalResult> eval_results(const std::string& uuid);
    std::vector<TaskScore> task_scores(const std::string& uuid);
    std::vector<LayerStat> layer_stats(const std::string& uuid, const std::string& stage = "");
    std::vector<Artifact> artifacts(const std::string& uuid);

    // The connection, for tests and tools (integrity checks, raw queries).
    Database& database() { return *db_; }

  private:
    struct PendingMetric {
        std::string uuid;
        std::string key;
        double value;
        int64_t step;
        int64_t timestamp_ms;
    };
    RunStatus current_status(const std::string& uuid);
    void require_run(const std::string& uuid);
    void maybe_flush();

    StoreOptions options_;
    std::unique_ptr<Database> db_;
    // Hot-path statements, prepared once (declared after db_: destroyed before it).
    std::unique_ptr<Statement> insert_metric_;
    std::unique_ptr<Statement> upsert_latest_;
    std::unique_ptr<Statement> upsert_best_;
    std::unique_ptr<Statement> touch_run_;
    std::vector<PendingMetric> buffer_;
    int64_t buffer_started_ms_ = 0;
    std::vector<std::string> interrupted_on_open_;
    std::map<std::string, int64_t> heartbeat_ms_; // last heartbeat written by flush(), per run
    std::string host_;
};

} // namespace rilq::store
