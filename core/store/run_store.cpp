// RunStore: opening (pragmas, migrations, crash detection) and writing. Reading is in
// run_store_query.cpp.
#include "core/store/run_store.h"

#include "core/store/process_identity.h"
#include "core/store/run_stages.h"
#include "core/store/schema.h"
#include "core/util/error.h"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rilq::store {

namespace {

std::string random_uuid() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (static_cast<uint64_t>(current_pid()) << 32) ^
                                            static_cast<uint64_t>(now_ms())};
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (int half = 0; half < 2; ++half) {
        uint64_t bits = rng();
        for (int i = 0; i < 16; ++i, bits >>= 4)
            out.push_back(digits[bits & 0xf]);
    }
    return out;
}

constexpr int64_t kHeartbeatEveryMs = 1000;

// A store on a read-only file system (or in a folder this user cannot write): SQLite cannot
// create the WAL index there, so such a store is read as immutable.
bool folder_read_only(const std::string& path) {
    const fs::path parent = fs::absolute(path).parent_path();
    return ::access(parent.c_str(), W_OK) != 0 || ::access(path.c_str(), W_OK) != 0;
}

std::string iso_time(int64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &utc);
    return buf;
}

// Commits still in a WAL file are read through a private index (SQLite >= 3.22 does that on
// read-only media when the -shm file exists); a store closed cleanly has no WAL left and is
// read as immutable.
std::unique_ptr<Database> open_on_read_only_media(const std::string& path) {
    std::error_code ec;
    const auto wal_size = fs::file_size(path + "-wal", ec);
    if (!ec && wal_size > 0) {
        try {
            auto db = std::make_unique<Database>(path, Database::Mode::ReadOnly);
            schema_version(*db); // the first read is where a missing WAL index shows
            return db;
        } catch (const Error&) {
            // fall through: the main file alone, as it was at the last checkpoint
        }
    }
    return std::make_unique<Database>(path, Database::Mode::Immutable);
}

} // namespace

std::string new_run_uuid() {
    return random_uuid();
}

RunStore::RunStore(const std::string& path, StoreOptions options) : options_(options), host_(current_host()) {
    const bool read_only = options.mode == Database::Mode::ReadOnly;
    if (read_only) {
        if (!fs::exists(path))
            throw Error("no run store at " + path + " (nothing has been recorded there yet)");
        // Opened read-write at the file level (never created), writes refused by query_only: WAL
        // readers need the shared-memory index, which a SQLITE_OPEN_READONLY connection cannot
        // create. On read-only media there is no index to share and nobody writing: immutable.
        db_ = folder_read_only(path) ? open_on_read_only_media(path)
                                     : std::make_unique<Database>(path, Database::Mode::ReadWrite);
    } else {
        const fs::path parent = fs::path(path).parent_path();
        if (!parent.empty()) fs::create_directories(parent);
        db_ = std::make_unique<Database>(path, Database::Mode::ReadWrite);
    }
    db_->set_busy_timeout(options.busy_timeout_ms);
    if (read_only) {
        if (db_->mode() != Database::Mode::Immutable) db_->exec("PRAGMA query_only = ON");
        const int version = store::schema_version(*db_);
        if (version != kSchemaVersion) {
            throw Error(path + ": run store schema version " + std::to_string(version) +
                        ", this program reads " + std::to_string(kSchemaVersion) +
                        (version < kSchemaVersion ? " (open it read-write once to upgrade)" : ""));
        }
    } else {
        // WAL: readers see the last commit and never block the writer. NORMAL sync: a commit
        // is in the WAL file before COMMIT returns, so a killed process loses nothing.
        const std::string mode = db_->query_text("PRAGMA journal_mode = WAL");
        if (mode != "wal") throw Error(path + ": cannot switch to WAL journal mode (got \"" + mode + "\")");
        db_->exec("PRAGMA synchronous = NORMAL");
        migrate(*db_);
    }
    db_->exec("PRAGMA foreign_keys = ON");
    if (!read_only && options.detect_interrupted) interrupted_on_open_ = mark_interrupted_runs();
}

RunStore::~RunStore() {
    try {
        flush();
    } catch (...) {
        // Destructors must not throw; the caller who cares calls flush() and sees the error.
    }
}

const std::string& RunStore::path() const {
    return db_->path();
}

int RunStore::schema_version() {
    return store::schema_version(*db_);
}

bool RunStore::is_orphaned(const RunSummary& run) const {
    if (run.status != RunStatus::Running) return false;
    if (run.host == host_) return !process_alive(run.pid);
    const std::optional<int64_t> last_seen = run.heartbeat_ms ? run.heartbeat_ms : run.start_time_ms;
    return !last_seen || now_ms() - *last_seen > options_.stale_after_ms;
}

std::vector<std::string> RunStore::mark_interrupted_runs() {
    struct Candidate {
        std::string uuid, host;
        int64_t pid;
        std::optional<int64_t> last_seen;
    };
    const int64_t now = now_ms();
    std::vector<std::string> changed;
    Transaction transaction(*db_);
    std::vector<Candidate> running;
    {
        Statement s(*db_, "SELECT run_uuid, host, pid, COALESCE(heartbeat_time, start_time) FROM runs "
                          "WHERE status = 'RUNNING'");
        while (s.step()) {
            Candidate c{s.column_text(0), s.column_text(1), s.column_int64(2), std::nullopt};
            if (!s.column_is_null(3)) c.last_seen = s.column_int64(3);
            running.push_back(c);
        }
    }
    Statement update(*db_, "UPDATE runs SET status = 'INTERRUPTED', end_time = ?1, status_message = ?2 "
                           "WHERE run_uuid = ?3 AND status = 'RUNNING'");
    for (const auto& c : running) {
        const bool same_host = c.host == host_;
        RunSummary run;
        run.status = RunStatus::Running;
        run.host = c.host;
        run.pid = c.pid;
        run.heartbeat_ms = c.last_seen;
        if (!is_orphaned(run)) continue;
        const std::string last = c.last_seen ? iso_time(*c.last_seen) : std::string("never");
        const std::string why =
            same_host
                ? "process " + std::to_string(c.pid) + " on " + c.host + " ended without closing the run"
                : "no heartbeat from " + c.host + " (process " + std::to_string(c.pid) + ") since " + last;
        update.bind(1, c.last_seen.value_or(now))
            .bind(2, why + "; last sign of life " + last)
            .bind(3, c.uuid);
        update.run();
        changed.push_back(c.uuid);
    }
    transaction.commit();
    return changed;
}

// ---- experiments and runs ------------------------------------------------------------------

namespace {
int64_t upsert_experiment(Database& db, const std::string& name, const std::string& config_json) {
    if (name.empty()) throw Error(db.path() + ": an experiment needs a name");
    const int64_t now = now_ms();
    Statement upsert(db,
                     "INSERT INTO experiments (name, creation_time, last_update_time, config_json) "
                     "VALUES (?1, ?2, ?2, ?3) ON CONFLICT(name) DO UPDATE SET "
                     "last_update_time = excluded.last_update_time, config_json = CASE WHEN "
                     "excluded.config_json <> '' THEN excluded.config_json ELSE experiments.config_json END");
    upsert.bind_all(name, now, config_json).run();
    Statement id(db, "SELECT experiment_id FROM experiments WHERE name = ?1");
    id.bind(1, name);
    id.step();
    return id.column_int64(0);
}
} // namespace

int64_t RunStore::ensure_experiment(const std::string& name, const std::string& config_json) {
    Transaction transaction(*db_);
    const int64_t id = upsert_experiment(*db_, name, config_json);
    transaction.commit();
    return id;
}

std::string RunStore::create_run(const NewRun& run) {
    if (run.name.empty()) throw Error(path() + ": a run needs a name");
    Transaction transaction(*db_);
    const int64_t experiment_id = upsert_experiment(*db_, run.experiment, run.experiment_config);
    const std::string uuid = run.uuid.empty() ? random_uuid() : run.uuid;
    Statement insert(*db_,
                     "INSERT INTO runs (run_uuid, experiment_id, name, status, config_json, config_hash, "
                     "program_version, host) VALUES (?1, ?2, ?3, 'SCHEDULED', ?4, ?5, ?6, ?7)");
    insert
        .bind_all(uuid, experiment_id, run.name, run.config_json, run.config_hash, std::string(RILQ_VERSION),
                  host_)
        .run();
    Statement param(*db_, "INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)");
    for (const auto& [key, value] : run.params)
        param.bind_all(uuid, key, value).run();
    Statement tag(*db_, "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)");
    for (const auto& [key, value] : run.tags)
        tag.bind_all(uuid, key, value).run();
    transaction.commit();
    return uuid;
}

RunStatus RunStore::current_status(const std::string& uuid) {
    Statement s(*db_, "SELECT status FROM runs WHERE run_uuid = ?1");
    s.bind(1, uuid);
    if (!s.step()) throw Error(path() + ": no run " + uuid);
    return run_status_from_string(s.column_text(0));
}

void RunStore::require_run(const std::string& uuid) {
    current_status(uuid);
}

void RunStore::start_run(const std::string& uuid) {
    flush();
    Transaction transaction(*db_);
    const RunStatus from = current_status(uuid);
    if (!is_allowed_transition(from, RunStatus::Running)) {
        throw Error(path() + ": run " + uuid + " is " + to_string(from) + " and cannot start (RUNNING)");
    }
    const int64_t now = now_ms();
    Statement s(*db_,
                "UPDATE runs SET status = 'RUNNING', start_time = COALESCE(start_time, ?1), end_time = NULL, "
                "pid = ?2, host = ?3, heartbeat_time = ?1, status_message = '' WHERE run_uuid = ?4");
    s.bind_all(now, current_pid(), host_, uuid).run();
    transaction.commit();
}

void RunStore::end_run(const std::string& uuid, RunStatus status, const std::string& message) {
    if (!is_terminal(status)) {
        throw Error(std::string("end_run: expected FINISHED, FAILED, KILLED or INTERRUPTED, found ") +
                    to_string(status));
    }
    flush();
    Transaction transaction(*db_);
    const RunStatus from = current_status(uuid);
    if (!is_allowed_transition(from, status)) {
        throw Error(path() + ": run " + uuid + " is " + to_string(from) + " and cannot become " +
                    to_string(status));
    }
    Statement s(*db_, "UPDATE runs SET status = ?1, end_time = ?2, heartbeat_time = ?2, status_message = ?3 "
                      "WHERE run_uuid = ?4");
    s.bind_all(std::string(to_string(status)), now_ms(), message, uuid).run();
    transaction.commit();
}

void RunStore::set_status(const std::string& uuid, RunStatus status, const std::string& message) {
    if (status == RunStatus::Running) return start_run(uuid);
    if (status == RunStatus::Scheduled) {
        throw Error(path() + ": run " + uuid + " cannot go back to SCHEDULED");
    }
    end_run(uuid, status, message);
}

void RunStore::heartbeat(const std::string& uuid) {
    Statement s(*db_, "UPDATE runs SET heartbeat_time = ?1 WHERE run_uuid = ?2");
    s.bind_all(now_ms(), uuid).run();
    if (db_->changes() == 0) throw Error(path() + ": no run " + uuid);
}

void RunStore::log_params(const std::string& uuid,
                          const std::vector<std::pair<std::string, std::string>>& params) {
    Transaction transaction(*db_);
    require_run(uuid);
    Statement insert(*db_,
                     "INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
    Statement existing(*db_, "SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2");
    for (const auto& [key, value] : params) {
        insert.bind_all(uuid, key, value).run();
        if (db_->changes() > 0) continue;
        existing.bind_all(uuid, key);
        existing.step();
        const std::string old = existing.column_text(0);
        existing.reset();
        if (old != value) {
            throw Error(path() + ": run " + uuid + ": param \"" + key + "\" is \"" + old +
                        "\" and params cannot change (found \"" + value + "\")");
        }
    }
    transaction.commit();
}

void RunStore::set_tag(const std::string& uuid, const std::string& key, const std::string& value) {
    Transaction transaction(*db_);
    require_run(uuid);
    Statement s(*db_, "INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value");
    s.bind_all(uuid, key, value).run();
    transaction.commit();
}

// ---- metrics -------------------------------------------------------------------------------

void RunStore::log_metric(const std::string& uuid, const std::string& key, double value, int64_t step,
                          int64_t timestamp_ms) {
    const int64_t now = now_ms();
    if (buffer_.empty()) buffer_started_ms_ = now;
    buffer_.push_back({uuid, key, value, step, timestamp_ms ? timestamp_ms : now});
    maybe_flush();
}

void RunStore::log_metrics(const std::string& uuid, int64_t step,
                           const std::vector<std::pair<std::string, double>>& values, int64_t timestamp_ms) {
    const int64_t now = now_ms();
    if (buffer_.empty()) buffer_started_ms_ = now;
    for (const auto& [key, value] : values)
        buffer_.push_back({uuid, key, value, step, timestamp_ms ? timestamp_ms : now});
    flush();
}

void RunStore::maybe_flush() {
    if (buffer_.size() >= options_.flush_every_points ||
        now_ms() - buffer_started_ms_ >= options_.flush_every_ms) {
        flush();
    }
}

void RunStore::flush() {
    if (buffer_.empty()) return;
    // The buffer goes whether or not the commit works: a bad point (unknown run) must not
    // poison every later flush. The caller sees the error.
    std::vector<PendingMetric> batch;
    batch.swap(buffer_);

    struct Aggregate {
        const PendingMetric* latest = nullptr;
        bool has_best = false;
        double min = 0, max = 0;
        int64_t min_step = 0, max_step = 0;
    };
    std::map<std::pair<std::string, std::string>, Aggregate> aggregates;

    Transaction transaction(*db_);
    if (!insert_metric_) {
        insert_metric_ =
            std::make_unique<Statement>(*db_, "INSERT INTO metrics (run_uuid, key, value, step, timestamp, "
                                              "is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        upsert_latest_ = std::make_unique<Statement>(
            *db_, "INSERT INTO latest_metrics (run_uuid, key, value, step, timestamp, is_nan) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(run_uuid, key) DO UPDATE SET "
                  "value = excluded.value, step = excluded.step, timestamp = excluded.timestamp, "
                  "is_nan = excluded.is_nan WHERE excluded.step > latest_metrics.step OR "
                  "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)");
        // All right-hand sides see the old row, so min_step follows min_value consistently.
        upsert_best_ = std::make_unique<Statement>(
            *db_, "INSERT INTO best_metrics (run_uuid, key, min_value, min_step, max_value, max_step) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(run_uuid, key) DO UPDATE SET "
                  "min_value = CASE WHEN excluded.min_value < best_metrics.min_value THEN excluded.min_value "
                  "ELSE best_metrics.min_value END, "
                  "min_step = CASE WHEN excluded.min_value < best_metrics.min_value THEN excluded.min_step "
                  "ELSE best_metrics.min_step END, "
                  "max_value = CASE WHEN excluded.max_value > best_metrics.max_value THEN excluded.max_value "
                  "ELSE best_metrics.max_value END, "
                  "max_step = CASE WHEN excluded.max_value > best_metrics.max_value THEN excluded.max_step "
                  "ELSE best_metrics.max_step END");
        touch_run_ = std::make_unique<Statement>(
            *db_, "UPDATE runs SET heartbeat_time = ?1 WHERE run_uuid = ?2 AND status = 'RUNNING'");
    }
    for (const auto& p : batch) {
        const bool nan = std::isnan(p.value);
        insert_metric_->bind_all(p.uuid, p.key, nan ? 0.0 : p.value, p.step, p.timestamp_ms, nan ? 1 : 0)
            .run();
        Aggregate& a = aggregates[{p.uuid, p.key}];
        if (!a.latest || p.step > a.latest->step ||
            (p.step == a.latest->step && p.timestamp_ms >= a.latest->timestamp_ms)) {
            a.latest = &p;
        }
        if (nan) continue;
        if (!a.has_best || p.value < a.min || (p.value == a.min && p.step < a.min_step)) {
            a.min = p.value;
            a.min_step = p.step;
        }
        if (!a.has_best || p.value > a.max || (p.value == a.max && p.step < a.max_step)) {
            a.max = p.value;
            a.max_step = p.step;
        }
        a.has_best = true;
    }
    std::string last_uuid;
    const int64_t now = now_ms();
    for (const auto& [id, a] : aggregates) {
        const bool nan = std::isnan(a.latest->value);
        upsert_latest_
            ->bind_all(id.first, id.second, nan ? 0.0 : a.latest->value, a.latest->step,
                       a.latest->timestamp_ms, nan ? 1 : 0)
            .run();
        if (a.has_best)
            upsert_best_->bind_all(id.first, id.second, a.min, a.min_step, a.max, a.max_step).run();
        if (id.first != last_uuid) { // the map is sorted by run: one heartbeat per run...
            last_uuid = id.first;
            // ...and at most one a second: it is a sign of life, and each one rewrites a page.
            int64_t& last_beat = heartbeat_ms_[id.first];
            if (now - last_beat >= kHeartbeatEveryMs) {
                touch_run_->bind_all(now, id.first).run();
                last_beat = now;
            }
        }
    }
    transaction.commit();
}

// ---- results and files ---------------------------------------------------------------------

void RunStore::log_layer_stats(const std::string& uuid, const std::vector<LayerStat>& stats) {
    for (const auto& s : stats) {
        check_run_stage(s.stage, "layer stat");
        if (s.stage == "finetuned")
            throw Error("layer stat stage \"finetuned\": expected fp, quantized or compensated");
    }
    Transaction transaction(*db_);
    require_run(uuid);
    Statement insert(*db_,
                     "INSERT OR REPLACE INTO layer_stats (run_uuid, stage, layer, module, metric, value) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    for (const auto& s : stats)
        insert.bind_all(uuid, s.stage, s.layer, s.module, s.metric, s.value).run();
    transaction.commit();
}

void RunStore::log_eval_result(const std::string& uuid, const EvalResult& r) {
    check_run_stage(r.stage, "eval result");
    if (r.dataset.empty()) throw Error(path() + ": an eval result needs a dataset name");
    Transaction transaction(*db_);
    require_run(uuid);
    Statement insert(*db_,
                     "INSERT OR REPLACE INTO eval_results (run_uuid, dataset, stage, file_sha256, tokenizer, "
                     "seqlen, n_windows, n_tokens, ppl, timestamp) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    insert
        .bind_all(uuid, r.dataset, r.stage, r.file_sha256, r.tokenizer, r.seqlen, r.n_windows, r.n_tokens,
                  r.ppl, r.timestamp_ms ? r.timestamp_ms : now_ms())
        .run();
    transaction.commit();
}

void RunStore::log_task_score(const std::string& uuid, const TaskScore& t) {
    check_run_stage(t.stage, "task score");
    if (t.task.empty()) throw Error(path() + ": a task score needs a task name");
    const int64_t timestamp = t.timestamp_ms ? t.timestamp_ms : now_ms();
    Transaction transaction(*db_);
    require_run(uuid);
    Statement insert(*db_,
                     "INSERT OR REPLACE INTO task_results (run_uuid, task, stage, n, acc, acc_stderr, "
                     "acc_norm, acc_norm_stderr, shots, data_sha256, tokenizer, bos, max_length, "
                     "protocol_json, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                     "?13, ?14, ?15)");
    insert.bind_all(uuid, t.task, t.stage, t.n, t.acc);
    // SQLite has no NaN: a metric the task does not define is NULL.
    const double optional[] = {t.acc_stderr, t.acc_norm, t.acc_norm_stderr};
    for (int i = 0; i < 3; ++i) {
        if (std::isnan(optional[i]))
            insert.bind_null(6 + i);
        else
            insert.bind(6 + i, optional[i]);
    }
    insert.bind(9, t.shots)
        .bind(10, t.data_sha256)
        .bind(11, t.tokenizer)
        .bind(12, t.bos)
        .bind(13, t.max_length);
    insert.bind(14, t.protocol_json).bind(15, timestamp).run();
    Statement clear(*db_, "DELETE FROM task_group_scores WHERE run_uuid = ?1 AND task = ?2 AND stage = ?3");
    clear.bind_all(uuid, t.task, t.stage).run();
    Statement group(*db_,
                    "INSERT INTO task_group_scores (run_uuid, task, stage, kind, name, position, n, acc) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    for (size_t i = 0; i < t.groups.size(); ++i) {
        const TaskGroupScore& g = t.groups[i];
        group.bind_all(uuid, t.task, t.stage, g.kind, g.name, static_cast<int64_t>(i), g.n, g.acc).run();
    }
    transaction.commit();
}

void RunStore::log_artifact(const std::string& uuid, const Artifact& a) {
    Transaction transaction(*db_);
    require_run(uuid);
    Statement insert(*db_, "INSERT OR REPLACE INTO artifacts (run_uuid, kind, path, sha256, size_bytes) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)");
    insert.bind_all(uuid, a.kind, a.path, a.sha256, a.size_bytes).run();
    transaction.commit();
}

void RunStore::delete_metrics_after(const std::string& uuid, int64_t step) {
    flush();
    Transaction transaction(*db_);
    require_run(uuid);
    Statement(*db_, "DELETE FROM metrics WHERE run_uuid = ?1 AND step > ?2").bind_all(uuid, step).run();
    // The summaries are rebuilt from the points that are left, by the rules flush() applies:
    // latest = highest step (then newest timestamp); min / max at the first step reaching them.
    Statement(*db_, "DELETE FROM latest_metrics WHERE run_uuid = ?1").bind(1, uuid).run();
    Statement(*db_, "DELETE FROM best_metrics WHERE run_uuid = ?1").bind(1, uuid).run();
    Statement(*db_, "INSERT INTO latest_metrics (run_uuid, key, value, step, timestamp, is_nan) "
                    "SELECT run_uuid, key, value, step, timestamp, is_nan FROM ("
                    "  SELECT m.*, ROW_NUMBER() OVER (PARTITION BY key ORDER BY step DESC, timestamp DESC, "
                    "  rowid DESC) AS n FROM metrics m WHERE run_uuid = ?1) WHERE n = 1")
        .bind(1, uuid)
        .run();
    Statement(*db_, "INSERT INTO best_metrics (run_uuid, key, min_value, min_step, max_value, max_step) "
                    "SELECT m.run_uuid, m.key, MIN(m.value),"
                    " (SELECT step FROM metrics a WHERE a.run_uuid = m.run_uuid AND a.key = m.key AND "
                    "  a.is_nan = 0 ORDER BY a.value ASC, a.step ASC LIMIT 1), MAX(m.value),"
                    " (SELECT step FROM metrics b WHERE b.run_uuid = m.run_uuid AND b.key = m.key AND "
                    "  b.is_nan = 0 ORDER BY b.value DESC, b.step ASC LIMIT 1) "
                    "FROM metrics m WHERE m.run_uuid = ?1 AND m.is_nan = 0 GROUP BY m.run_uuid, m.key")
        .bind(1, uuid)
        .run();
    transaction.commit();
}

void RunStore::delete_run(const std::string& uuid, bool even_if_running) {
    flush();
    Transaction transaction(*db_);
    if (current_status(uuid) == RunStatus::Running && !even_if_running) {
        Statement s(*db_, "SELECT host, pid FROM runs WHERE run_uuid = ?1");
        s.bind(1, uuid);
        s.step();
        throw Error(path() + ": run " + uuid + " is RUNNING (process " + std::to_string(s.column_int64(1)) +
                    " on " + s.column_text(0) + "); stop it first, or force the delete");
    }
    // Every table references runs ON DELETE CASCADE (foreign_keys is on for this connection).
    Statement s(*db_, "DELETE FROM runs WHERE run_uuid = ?1");
    s.bind(1, uuid).run();
    transaction.commit();
}

} // namespace rilq::store
