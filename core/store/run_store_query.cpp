// RunStore: reading. Listing uses latest_metrics / best_metrics only; a curve is one range
// scan of the metrics_curve index.
#include "core/store/run_store.h"

#include "core/util/error.h"

#include <cmath>
#include <limits>
#include <set>

namespace rilq::store {

namespace {

constexpr const char* kSummaryColumns =
    "SELECT r.run_uuid, e.name, r.name, r.status, r.start_time, r.end_time, r.heartbeat_time, r.config_hash, "
    "r.program_version, r.host, r.pid, r.status_message FROM runs r JOIN experiments e "
    "ON e.experiment_id = r.experiment_id ";

std::optional<int64_t> optional_int(const Statement& s, int column) {
    if (s.column_is_null(column)) return std::nullopt;
    return s.column_int64(column);
}

RunSummary read_summary(const Statement& s) {
    RunSummary r;
    r.uuid = s.column_text(0);
    r.experiment = s.column_text(1);
    r.name = s.column_text(2);
    r.status = run_status_from_string(s.column_text(3));
    r.start_time_ms = optional_int(s, 4);
    r.end_time_ms = optional_int(s, 5);
    r.heartbeat_ms = optional_int(s, 6);
    r.config_hash = s.column_text(7);
    r.program_version = s.column_text(8);
    r.host = s.column_text(9);
    r.pid = s.column_int64(10);
    r.status_message = s.column_text(11);
    return r;
}

std::map<std::string, MetricSummary> read_metric_summaries(Statement& s, const std::string& uuid) {
    std::map<std::string, MetricSummary> out;
    s.bind(1, uuid);
    while (s.step()) {
        MetricSummary m;
        m.latest = s.column_int64(3) ? std::numeric_limits<double>::quiet_NaN() : s.column_double(1);
        m.latest_step = s.column_int64(2);
        m.has_best = !s.column_is_null(4);
        if (m.has_best) {
            m.min = s.column_double(4);
            m.min_step = s.column_int64(5);
            m.max = s.column_double(6);
            m.max_step = s.column_int64(7);
        }
        out[s.column_text(0)] = m;
    }
    s.reset();
    return out;
}

constexpr const char* kMetricSummarySql =
    "SELECT l.key, l.value, l.step, l.is_nan, b.min_value, b.min_step, b.max_value, b.max_step "
    "FROM latest_metrics l LEFT JOIN best_metrics b ON b.run_uuid = l.run_uuid AND b.key = l.key "
    "WHERE l.run_uuid = ?1 ORDER BY l.key";

std::map<std::string, std::string> read_params(Statement& s, const std::string& uuid) {
    std::map<std::string, std::string> out;
    s.bind(1, uuid);
    while (s.step())
        out[s.column_text(0)] = s.column_text(1);
    s.reset();
    return out;
}

} // namespace

std::vector<ExperimentInfo> RunStore::experiments() {
    Statement s(
        *db_,
        "SELECT e.experiment_id, e.name, e.creation_time, COUNT(r.run_uuid) FROM experiments e "
        "LEFT JOIN runs r ON r.experiment_id = e.experiment_id GROUP BY e.experiment_id ORDER BY e.name");
    std::vector<ExperimentInfo> out;
    while (s.step())
        out.push_back({s.column_int64(0), s.column_text(1), s.column_int64(2), s.column_int64(3)});
    return out;
}

std::vector<RunSummary> RunStore::list_runs(const RunFilter& filter) {
    // One snapshot for the list and its metrics, even while a writer commits.
    Transaction snapshot(*db_, Transaction::Kind::Deferred);
    Statement s(*db_, std::string(kSummaryColumns) +
                          "WHERE (?1 = '' OR e.name = ?1) AND (?2 = '' OR r.status = ?2) AND "
                          "(?3 = '' OR instr(r.name, ?3) > 0) ORDER BY e.name, r.rowid LIMIT ?4");
    s.bind_all(filter.experiment, std::string(filter.status ? to_string(*filter.status) : ""),
               filter.name_contains, static_cast<int64_t>(filter.limit > 0 ? filter.limit : -1));
    std::vector<RunSummary> out;
    while (s.step())
        out.push_back(read_summary(s));
    Statement metrics(*db_, kMetricSummarySql);
    Statement params(*db_, "SELECT key, value FROM params WHERE run_uuid = ?1");
    for (auto& run : out) {
        run.metrics = read_metric_summaries(metrics, run.uuid);
        if (filter.with_params) run.params = read_params(params, run.uuid);
    }
    snapshot.commit();
    return out;
}

std::string RunStore::resolve_run(const std::string& reference) {
    if (reference.empty()) throw Error("empty run reference");
    std::vector<std::pair<std::string, std::string>> matches; // (uuid, "experiment/name")
    const auto collect = [&](Statement& s) {
        while (s.step())
            matches.emplace_back(s.column_text(0), s.column_text(1) + "/" + s.column_text(2));
    };
    {
        Statement exact(*db_, "SELECT r.run_uuid, e.name, r.name FROM runs r JOIN experiments e "
                              "ON e.experiment_id = r.experiment_id WHERE r.run_uuid = ?1");
        exact.bind(1, reference);
        collect(exact);
    }
    if (matches.empty() && reference.size() >= 4 &&
        reference.find_first_not_of("0123456789abcdef") == std::string::npos) {
        Statement prefix(*db_, "SELECT r.run_uuid, e.name, r.name FROM runs r JOIN experiments e "
                               "ON e.experiment_id = r.experiment_id WHERE substr(r.run_uuid, 1, ?2) = ?1");
        prefix.bind(1, reference).bind(2, static_cast<int64_t>(reference.size()));
        collect(prefix);
    }
    if (matches.empty()) {
        const size_t slash = reference.find('/');
        Statement by_name(
            *db_, "SELECT r.run_uuid, e.name, r.name FROM runs r JOIN experiments e "
                  "ON e.experiment_id = r.experiment_id WHERE (?1 = '' OR e.name = ?1) AND r.name = ?2 "
                  "ORDER BY r.rowid");
        if (slash != std::string::npos)
            by_name.bind(1, reference.substr(0, slash)).bind(2, reference.substr(slash + 1));
        else
            by_name.bind(1, std::string()).bind(2, reference);
        collect(by_name);
    }
    if (matches.empty()) throw Error(path() + ": no run matches \"" + reference + "\"");
    if (matches.size() > 1) {
        std::string list;
        for (size_t i = 0; i < matches.size() && i < 5; ++i)
            list += "\n  " + matches[i].first + "  " + matches[i].second;
        throw Error(path() + ": \"" + reference + "\" matches " + std::to_string(matches.size()) +
                    " runs; use a longer id:" + list);
    }
    return matches.front().first;
}

RunDetail RunStore::get_run(const std::string& uuid) {
    Transaction snapshot(*db_, Transaction::Kind::Deferred);
    RunDetail detail;
    {
        Statement s(*db_, std::string(kSummaryColumns) + "WHERE r.run_uuid = ?1");
        s.bind(1, uuid);
        if (!s.step()) throw Error(path() + ": no run " + uuid);
        detail.summary = read_summary(s);
    }
    {
        Statement s(*db_, "SELECT config_json FROM runs WHERE run_uuid = ?1");
        s.bind(1, uuid);
        s.step();
        detail.config_json = s.column_text(0);
    }
    Statement metrics(*db_, kMetricSummarySql);
    detail.summary.metrics = read_metric_summaries(metrics, uuid);
    Statement params(*db_, "SELECT key, value FROM params WHERE run_uuid = ?1");
    detail.summary.params = read_params(params, uuid);
    Statement tags(*db_, "SELECT key, value FROM tags WHERE run_uuid = ?1");
    detail.tags = read_params(tags, uuid);
    detail.eval_results = eval_results(uuid);
    detail.task_scores = task_scores(uuid);
    detail.artifacts = artifacts(uuid);
    snapshot.commit();
    return detail;
}

std::vector<std::string> RunStore::metric_keys(const std::string& uuid) {
    Statement s(*db_, "SELECT key FROM latest_metrics WHERE run_uuid = ?1 ORDER BY key");
    s.bind(1, uuid);
    std::vector<std::string> out;
    while (s.step())
        out.push_back(s.column_text(0));
    return out;
}

std::vector<MetricPoint> RunStore::metric_history(const std::string& uuid, const std::string& key,
                                                  std::optional<int64_t> after_step) {
    // (run_uuid, key, step, rowid) is the index order: no sort, and equal steps keep log order.
    Statement s(*db_, "SELECT step, value, timestamp, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 "
                      "AND step > ?3 ORDER BY step, rowid");
    s.bind(1, uuid).bind(2, key).bind(3, after_step.value_or(std::numeric_limits<int64_t>::min()));
    std::vector<MetricPoint> out;
    while (s.step()) {
        const double value =
            s.column_int64(3) ? std::numeric_limits<double>::quiet_NaN() : s.column_double(1);
        out.push_back({s.column_int64(0), value, s.column_int64(2)});
    }
    return out;
}

std::map<std::string, MetricSummary> RunStore::metric_summaries(const std::string& uuid) {
    Statement s(*db_, kMetricSummarySql);
    return read_metric_summaries(s, uuid);
}

std::map<std::string, std::string> RunStore::params(const std::string& uuid) {
    Statement s(*db_, "SELECT key, value FROM params WHERE run_uuid = ?1");
    return read_params(s, uuid);
}

std::vector<ParamDiff> RunStore::diff_params(const std::string& uuid_a, const std::string& uuid_b) {
    require_run(uuid_a);
    require_run(uuid_b);
    return store::diff_params(params(uuid_a), params(uuid_b));
}

std::vector<EvalResult> RunStore::eval_results(const std::string& uuid) {
    Statement s(*db_,
                "SELECT dataset, stage, file_sha256, tokenizer, seqlen, n_windows, n_tokens, ppl, timestamp "
                "FROM eval_results WHERE run_uuid = ?1 ORDER BY timestamp, dataset, stage");
    s.bind(1, uuid);
    std::vector<EvalResult> out;
    while (s.step()) {
        EvalResult r;
        r.dataset = s.column_text(0);
        r.stage = s.column_text(1);
        r.file_sha256 = s.column_text(2);
        r.tokenizer = s.column_text(3);
        r.seqlen = static_cast<int>(s.column_int64(4));
        r.n_windows = s.column_int64(5);
        r.n_tokens = s.column_int64(6);
        r.ppl = s.column_double(7);
        r.timestamp_ms = s.column_int64(8);
        out.push_back(r);
    }
    return out;
}

std::vector<TaskScore> RunStore::task_scores(const std::string& uuid) {
    Statement s(*db_,
                "SELECT task, stage, n, acc, acc_stderr, acc_norm, acc_norm_stderr, shots, data_sha256, "
                "tokenizer, bos, max_length, protocol_json, timestamp FROM task_results WHERE run_uuid = ?1 "
                "ORDER BY timestamp, task, stage");
    s.bind(1, uuid);
    Statement groups(*db_,
                     "SELECT kind, name, n, acc FROM task_group_scores WHERE run_uuid = ?1 AND task = ?2 AND "
                     "stage = ?3 ORDER BY position");
    std::vector<TaskScore> out;
    while (s.step()) {
        TaskScore t;
        t.task = s.column_text(0);
        t.stage = s.column_text(1);
        t.n = s.column_int64(2);
        t.acc = s.column_double(3);
        auto optional = [&](int column) {
            return s.column_is_null(column) ? std::numeric_limits<double>::quiet_NaN()
                                            : s.column_double(column);
        };
        t.acc_stderr = optional(4);
        t.acc_norm = optional(5);
        t.acc_norm_stderr = optional(6);
        t.shots = s.column_int64(7);
        t.data_sha256 = s.column_text(8);
        t.tokenizer = s.column_text(9);
        t.bos = s.column_text(10);
        t.max_length = s.column_int64(11);
        t.protocol_json = s.column_text(12);
        t.timestamp_ms = s.column_int64(13);
        groups.bind_all(uuid, t.task, t.stage);
        while (groups.step())
            t.groups.push_back({groups.column_text(0), groups.column_text(1), groups.column_int64(2),
                                groups.column_double(3)});
        groups.reset();
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<LayerStat> RunStore::layer_stats(const std::string& uuid, const std::string& stage) {
    Statement s(*db_, "SELECT stage, layer, module, metric, value FROM layer_stats WHERE run_uuid = ?1 AND "
                      "(?2 = '' OR stage = ?2) ORDER BY stage, layer, module, metric");
    s.bind(1, uuid).bind(2, stage);
    std::vector<LayerStat> out;
    while (s.step()) {
        out.push_back({s.column_text(0), static_cast<int>(s.column_int64(1)), s.column_text(2),
                       s.column_text(3), s.column_double(4)});
    }
    return out;
}

std::vector<Artifact> RunStore::artifacts(const std::string& uuid) {
    Statement s(
        *db_, "SELECT kind, path, sha256, size_bytes FROM artifacts WHERE run_uuid = ?1 ORDER BY kind, path");
    s.bind(1, uuid);
    std::vector<Artifact> out;
    while (s.step())
        out.push_back({s.column_text(0), s.column_text(1), s.column_text(2), s.column_int64(3)});
    return out;
}

} // namespace rilq::store
