// The run store's round trips: runs recorded from real experiment configs, status
// transitions, metrics with their latest/best summaries (checked against a plain loop over the
// same values), params, tags, layer stats, eval results, artifacts, lookup, diff, delete,
// the default location, read-only access and crash detection of dead runs.
#include "tests/support/test_support.h"

#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/run/run_record.h"
#include "core/store/process_identity.h"
#include "core/store/run_store.h"
#include "core/store/schema.h"
#include "core/store/store_location.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sys/wait.h>
#include <unistd.h>

using namespace rilq::store;
namespace fs = std::filesystem;

namespace {

std::string experiment_file(const std::string& name) {
    return fs::path(rilq::test::test_data("../../experiments/" + name)).lexically_normal().string();
}

std::string fresh_db(const std::string& tag) {
    return rilq::test::make_temp_dir(tag) + "/nested/runs.sqlite";
}

// A pid that certainly belonged to a process which has ended and been reaped.
int64_t dead_pid() {
    const pid_t child = fork();
    if (child == 0) _exit(0);
    int status = 0;
    waitpid(child, &status, 0);
    return child;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

class TestRunStore : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void open_creates_a_wal_database_at_the_latest_schema() {
        const std::string path = fresh_db("open");
        RunStore store(path);
        QVERIFY(fs::exists(path));
        QCOMPARE(store.schema_version(), kSchemaVersion);
        QCOMPARE(store.database().query_text("PRAGMA journal_mode"), std::string("wal"));
        QCOMPARE(store.database().query_int("PRAGMA busy_timeout"), int64_t(10000));
        QCOMPARE(store.database().query_int("PRAGMA foreign_keys"), int64_t(1));
        QCOMPARE(store.database().query_int("PRAGMA synchronous"), int64_t(1)); // NORMAL
        QCOMPARE(store.database().query_text("PRAGMA integrity_check"), std::string("ok"));
        for (const char* table : {"experiments", "runs", "params", "tags", "metrics", "latest_metrics",
                                  "best_metrics", "layer_stats", "eval_results", "artifacts"}) {
            QCOMPARE(store.database().query_int(
                         std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table + "'"),
                     int64_t(1));
        }
    }

    void run_recorded_from_a_real_config_round_trips() {
        const auto experiment =
            rilq::run::parse_experiment_file(experiment_file("stories260k-rank-sweep.json"));
        const auto& config = experiment.runs[4]; // lora_r=2, scope=model (ranks slowest, then scopes)
        RunStore store(fresh_db("record"));
        const std::string uuid = store.create_run(rilq::run::to_new_run(config, experiment.document_json));
        QCOMPARE(uuid.size(), size_t(32));
        const RunDetail d = store.get_run(uuid);
        QCOMPARE(d.summary.experiment, std::string("stories260k-rank-sweep"));
        QCOMPARE(d.summary.name, std::string("lora_r=2,scope=model"));
        QCOMPARE(d.summary.status, RunStatus::Scheduled);
        QCOMPARE(d.summary.config_hash, config.config_hash);
        QCOMPARE(d.summary.program_version, std::string(RILQ_VERSION));
        QCOMPARE(d.summary.host, current_host());
        QVERIFY(!d.summary.start_time_ms);
        QCOMPARE(d.tags.at("sweep.rilq.lora_r"), std::string("2"));
        QCOMPARE(d.tags.at("sweep.index"), std::string("4"));
        const auto params = rilq::run::run_params(config);
        QCOMPARE(d.summary.params.size(), params.size());
        for (const auto& [key, value] : params)
            QCOMPARE(d.summary.params.at(key), value);
        QCOMPARE(d.summary.params.at("rilq.lora_r"), std::string("2"));
        // The stored document is enough to rebuild the run (resume).
        const auto back = rilq::run::run_config_from_document(d.config_json, d.summary.name, 4);
        QCOMPARE(back.config_hash, config.config_hash);
        QCOMPARE(back.resolve(back.model.base_model), config.resolve(config.model.base_model));
        // The experiment document is kept once.
        QCOMPARE(store.database().query_text("SELECT config_json FROM experiments"),
                 experiment.document_json);
        QCOMPARE(store.experiments().size(), size_t(1));
        QCOMPARE(store.experiments()[0].run_count, int64_t(1));
    }

    void status_transitions() {
        RunStore store(fresh_db("status"));
        const std::string uuid = store.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.end_run(uuid, RunStatus::Finished)); // never started
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.end_run(uuid, RunStatus::Running));  // not an end state
        store.start_run(uuid);
        RunSummary s = store.get_run(uuid).summary;
        QCOMPARE(s.status, RunStatus::Running);
        QCOMPARE(s.pid, current_pid());
        QVERIFY(s.start_time_ms && s.heartbeat_ms);
        QVERIFY(!s.end_time_ms);
        store.end_run(uuid, RunStatus::Killed, "cancelled by user");
        s = store.get_run(uuid).summary;
        QCOMPARE(s.status, RunStatus::Killed);
        QCOMPARE(s.status_message, std::string("cancelled by user"));
        const int64_t first_start = *s.start_time_ms;
        QVERIFY(s.end_time_ms && *s.end_time_ms >= first_start);
        store.set_status(uuid, RunStatus::Running); // resume keeps the first start time
        s = store.get_run(uuid).summary;
        QCOMPARE(*s.start_time_ms, first_start);
        QVERIFY(!s.end_time_ms);
        store.set_status(uuid, RunStatus::Finished);
        try {
            store.start_run(uuid);
            QFAIL("a finished run restarted");
        } catch (const rilq::Error& e) {
            QVERIFY2(contains(e.what(), "is FINISHED and cannot start"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.start_run("0000nonexistent"));
        QCOMPARE(run_status_from_string("interrupted"), RunStatus::Interrupted);
        QVERIFY_THROWS_EXCEPTION(rilq::Error, run_status_from_string("DONE"));
    }

    void metrics_history_latest_and_best() {
        RunStore store(fresh_db("metrics"));
        const std::string uuid = store.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        store.start_run(uuid);
        const double nan = std::numeric_limits<double>::quiet_NaN();
        // (step, value): out of order, a repeated step, a NaN, an infinity, ties at the minimum.
        const std::vector<std::pair<int64_t, double>> points = {
            {0, 2.5}, {1, 1.75}, {3, 1.5}, {2, 1.6},  {4, nan},
            {5, 1.5}, {6, 3.25}, {6, 3.0}, {7, -0.5}, {8, std::numeric_limits<double>::infinity()},
            {9, 0.25}};
        int64_t t = 1000;
        for (size_t i = 0; i < points.size(); ++i) {
            store.log_metric(uuid, "loss", points[i].second, points[i].first, t++);
            if (i == 4) store.flush(); // two batches: summaries must merge across flushes
        }
        store.log_metrics(uuid, 0, {{"lr", 1e-4}, {"tokens_per_s", 1234.5}}, 5000);

        // Independent expectation: a plain loop over the same points.
        std::vector<std::pair<int64_t, double>> sorted = points;
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        double min = INFINITY, max = -INFINITY;
        int64_t min_step = -1, max_step = -1;
        for (const auto& [step, value] : points) {
            if (std::isnan(value)) continue;
            if (value < min || (value == min && step < min_step)) {
                min = value;
                min_step = step;
            }
            if (value > max || (value == max && step < max_step)) {
                max = value;
                max_step = step;
            }
        }
        const auto history = store.metric_history(uuid, "loss");
        QCOMPARE(history.size(), sorted.size());
        for (size_t i = 0; i < history.size(); ++i) {
            QCOMPARE(history[i].step, sorted[i].first);
            if (std::isnan(sorted[i].second))
                QVERIFY(std::isnan(history[i].value));
            else
                QCOMPARE(history[i].value, sorted[i].second);
        }
        const auto tail = store.metric_history(uuid, "loss", int64_t(6));
        QCOMPARE(tail.size(), size_t(3));   // steps 7, 8, 9
        QCOMPARE(tail.front().step, int64_t(7));
        QCOMPARE(tail.front().value, -0.5);
        const auto summaries = store.metric_summaries(uuid);
        const MetricSummary& loss = summaries.at("loss");
        QCOMPARE(loss.latest_step, int64_t(9));
        QCOMPARE(loss.latest, 0.25);
        QVERIFY(loss.has_best);
        QCOMPARE(loss.min, -0.5);
        QCOMPARE(loss.min_step, min_step);
        QCOMPARE(loss.max, max);
        QCOMPARE(loss.max_step, max_step);
        QCOMPARE(summaries.at("lr").latest, 1e-4);
        QVERIFY(store.metric_keys(uuid) == (std::vector<std::string>{"loss", "lr", "tokens_per_s"}));
        QCOMPARE(store.database().query_int("SELECT count(*) FROM metrics WHERE is_nan = 1"), int64_t(1));

        // A NaN as the newest value is the latest, and leaves the best alone.
        store.log_metrics(uuid, 10, {{"loss", nan}});
        const MetricSummary after = store.metric_summaries(uuid).at("loss");
        QVERIFY(std::isnan(after.latest));
        QCOMPARE(after.latest_step, int64_t(10));
        QCOMPARE(after.min, -0.5);
        // A late point for an earlier step does not replace the latest.
        store.log_metrics(uuid, 3, {{"loss", 7.0}});
        QCOMPARE(store.metric_summaries(uuid).at("loss").latest_step, int64_t(10));
        QVERIFY(std::isinf(store.metric_summaries(uuid).at("loss").max)); // the earlier +inf still wins
        QCOMPARE(store.metric_history(uuid, "loss").size(), points.size() + 2);
        // A series that is all NaN has a latest but no best.
        store.log_metrics(uuid, 0, {{"broken", nan}});
        QVERIFY(!store.metric_summaries(uuid).at("broken").has_best);
    }

    void buffered_metrics_commit_on_flush_and_on_limits() {
        const std::string path = fresh_db("buffer");
        StoreOptions options;
        options.flush_every_points = 5;
        options.flush_every_ms = 1000000;
        RunStore writer(path, options);
        const std::string uuid = writer.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        StoreOptions read_only;
        read_only.mode = Database::Mode::ReadOnly;
        RunStore reader(path, read_only);
        for (int i = 0; i < 4; ++i)
            writer.log_metric(uuid, "loss", 1.0 / (i + 1), i);
        QCOMPARE(writer.buffered_points(), size_t(4));
        QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(0)); // not committed yet
        writer.log_metric(uuid, "loss", 0.1, 4);                         // the fifth point flushes
        QCOMPARE(writer.buffered_points(), size_t(0));
        QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(5));
        writer.log_metric(uuid, "loss", 0.05, 5);
        writer.flush();
        QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(6));
        // Age limit: a zero age flushes every point.
        StoreOptions eager;
        eager.flush_every_ms = 0;
        RunStore second(path, eager);
        second.log_metric(uuid, "other", 1.0, 0);
        QCOMPARE(second.buffered_points(), size_t(0));
    }

    void bad_metric_fails_without_poisoning_the_buffer() {
        RunStore store(fresh_db("fk"));
        const std::string uuid = store.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        store.log_metric("no-such-run", "loss", 1.0, 0);
        try {
            store.flush();
            QFAIL("a metric for an unknown run was accepted");
        } catch (const rilq::Error& e) {
            QVERIFY2(contains(e.what(), "FOREIGN KEY"), e.what());
        }
        QCOMPARE(store.buffered_points(), size_t(0));
        store.log_metrics(uuid, 0, {{"loss", 1.0}});
        QCOMPARE(store.metric_history(uuid, "loss").size(), size_t(1));
    }

    void params_are_immutable_tags_are_not() {
        RunStore store(fresh_db("params"));
        const std::string uuid = store.create_run({"exp", "", "r1", "{}", "h", {{"rilq.lora_r", "16"}}, {}});
        store.log_params(uuid, {{"rilq.lora_r", "16"}, {"extra", "x"}}); // same value again: fine
        try {
            store.log_params(uuid, {{"rilq.lora_r", "32"}});
            QFAIL("a param changed");
        } catch (const rilq::Error& e) {
            QVERIFY2(contains(e.what(), "param \"rilq.lora_r\" is \"16\""), e.what());
        }
        QCOMPARE(store.params(uuid).at("rilq.lora_r"), std::string("16"));
        QCOMPARE(store.params(uuid).at("extra"), std::string("x"));
        store.set_tag(uuid, "note", "first");
        store.set_tag(uuid, "note", "second");
        QCOMPARE(store.get_run(uuid).tags.at("note"), std::string("second"));
    }

    void layer_stats_eval_results_and_artifacts() {
        RunStore store(fresh_db("results"));
        const std::string uuid = store.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        store.log_layer_stats(uuid, {{"quantized", 0, "self_attn.q_proj", "weight_error", 0.41},
                                     {"quantized", 1, "mlp.down_proj", "weight_error", 0.38},
                                     {"compensated", 0, "self_attn.q_proj", "weight_error", 0.12},
                                     {"quantized", 0, "self_attn.q_proj", "weight_error", 0.40}}); // replaces
        const auto all = store.layer_stats(uuid);
        QCOMPARE(all.size(), size_t(3));
        const auto quantized = store.layer_stats(uuid, "quantized");
        QCOMPARE(quantized.size(), size_t(2));
        QCOMPARE(quantized[0].value, 0.40);
        QCOMPARE(quantized[1].module, std::string("mlp.down_proj"));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.log_layer_stats(uuid, {{"int2", 0, "m", "x", 1.0}}));

        EvalResult r;
        r.dataset = "wikitext2";
        r.stage = "compensated";
        r.file_sha256 = "4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c";
        r.tokenizer = "llama2 sentencepiece";
        r.seqlen = 2048;
        r.n_windows = 140;
        r.n_tokens = 286720;
        r.ppl = 10.05;
        store.log_eval_result(uuid, r);
        r.stage = "quantized";
        r.ppl = 433.65;
        store.log_eval_result(uuid, r);
        const auto results = store.eval_results(uuid);
        QCOMPARE(results.size(), size_t(2));
        QCOMPARE(results[0].ppl, 10.05);
        QCOMPARE(results[0].n_tokens, int64_t(286720));
        QCOMPARE(results[1].stage, std::string("quantized"));
        QVERIFY(results[1].timestamp_ms > 0);
        QCOMPARE(results[0].file_sha256, r.file_sha256);
        r.stage = "final";
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.log_eval_result(uuid, r));

        store.log_artifact(uuid, {"adapter", "/out/adapter_model.safetensors", "abc", 1234});
        store.log_artifact(uuid, {"adapter", "/out/adapter_model.safetensors", "def", 1235}); // rewritten
        const auto artifacts = store.artifacts(uuid);
        QCOMPARE(artifacts.size(), size_t(1));
        QCOMPARE(artifacts[0].sha256, std::string("def"));
        QCOMPARE(store.get_run(uuid).eval_results.size(), size_t(2));
        QCOMPARE(store.get_run(uuid).artifacts.size(), size_t(1));
    }

    void list_filter_resolve_diff_delete() {
        const auto sweep =
            rilq::run::parse_experiment_file(experiment_file("rilq-llama2-7b-rank-sweep.json"));
        const auto single = rilq::run::parse_experiment_file(experiment_file("rilq-llama2-7b-r64.json"));
        RunStore store(fresh_db("list"));
        std::vector<std::string> ids;
        for (const auto& config : sweep.runs)
            ids.push_back(store.create_run(rilq::run::to_new_run(config)));
        const std::string lone = store.create_run(rilq::run::to_new_run(single.runs[0]));
        store.start_run(ids[1]);
        store.log_metrics(ids[1], 25, {{"v_loss", 0.5}});
        store.end_run(ids[1], RunStatus::Finished);
        store.start_run(ids[2]);
        store.end_run(ids[2], RunStatus::Failed, "loss became NaN at step 40");

        QCOMPARE(store.list_runs().size(), size_t(6));
        RunFilter by_experiment;
        by_experiment.experiment = "rilq-llama2-7b-rank-sweep";
        const auto listed = store.list_runs(by_experiment);
        QCOMPARE(listed.size(), size_t(5));
        for (size_t i = 0; i < listed.size(); ++i)
            QCOMPARE(listed[i].uuid, ids[i]); // sweep order
        QCOMPARE(listed[1].metrics.at("v_loss").min, 0.5);
        QVERIFY(listed[0].params.empty());
        RunFilter finished;
        finished.status = RunStatus::Finished;
        finished.with_params = true;
        const auto done = store.list_runs(finished);
        QCOMPARE(done.size(), size_t(1));
        QCOMPARE(done[0].params.at("rilq.lora_r"), std::string("16"));
        RunFilter named;
        named.name_contains = "=12";
        QCOMPARE(store.list_runs(named).size(), size_t(1));
        RunFilter limited;
        limited.limit = 2;
        QCOMPARE(store.list_runs(limited).size(), size_t(2));

        QCOMPARE(store.resolve_run(ids[3]), ids[3]);
        QCOMPARE(store.resolve_run(ids[3].substr(0, 12)), ids[3]);
        QCOMPARE(store.resolve_run("lora_r=128"), ids[4]);
        QCOMPARE(store.resolve_run("rilq-llama2-7b-r64/rilq-llama2-7b-r64"), lone);
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.resolve_run("lora_r=7"));
        // Recorded twice under the same name: the name alone is ambiguous.
        store.create_run(rilq::run::to_new_run(sweep.runs[4]));
        try {
            store.resolve_run("lora_r=128");
            QFAIL("ambiguous reference accepted");
        } catch (const rilq::Error& e) {
            QVERIFY2(contains(e.what(), "matches 2 runs"), e.what());
        }

        // Diff: only what differs; the same settings under two experiments differ in place only.
        const auto diff = store.diff_params(ids[1], ids[2]);
        QCOMPARE(diff.size(), size_t(2));
        QCOMPARE(diff[0].key, std::string("rilq.lora_r"));
        QCOMPARE(*diff[0].a, std::string("16"));
        QCOMPARE(*diff[0].b, std::string("32"));
        QCOMPARE(diff[1].key, std::string("rilq.output_dir"));
        const auto same_settings = store.diff_params(ids[3], lone);
        QCOMPARE(same_settings.size(), size_t(1));
        QCOMPARE(same_settings[0].key, std::string("rilq.output_dir"));
        store.log_params(lone, {{"only.here", "1"}});
        const auto one_sided = store.diff_params(ids[3], lone);
        QCOMPARE(one_sided.size(), size_t(2));
        QVERIFY(!one_sided[0].a.has_value());
        QCOMPARE(*one_sided[0].b, std::string("1"));

        // Delete cascades through every table and leaves the others alone.
        store.log_layer_stats(ids[1], {{"fp", 0, "m", "x", 1.0}});
        store.log_eval_result(ids[1], {"wikitext2", "fp", "h", "t", 2048, 1, 2048, 5.47, 0});
        store.log_artifact(ids[1], {"adapter", "/a", "h", 1});
        store.set_tag(ids[1], "k", "v");
        store.delete_run(ids[1]);
        for (const char* table : {"runs", "params", "tags", "metrics", "latest_metrics", "best_metrics",
                                  "layer_stats", "eval_results", "artifacts"}) {
            QCOMPARE(store.database().query_int(std::string("SELECT count(*) FROM ") + table +
                                                " WHERE run_uuid = '" + ids[1] + "'"),
                     int64_t(0));
        }
        QCOMPARE(store.list_runs().size(), size_t(6));
        QVERIFY(!store.params(ids[2]).empty());
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.delete_run(ids[1]));
    }

    void default_location_follows_env_then_xdg() {
        const auto keep = [](const char* name) {
            const char* v = std::getenv(name);
            return v ? std::optional<std::string>(v) : std::nullopt;
        };
        const auto saved_db = keep("RILQ_DB"), saved_xdg = keep("XDG_DATA_HOME"), saved_home = keep("HOME");
        setenv("HOME", "/home/alice", 1);
        unsetenv("RILQ_DB");
        unsetenv("XDG_DATA_HOME");
        QCOMPARE(default_store_path(), std::string("/home/alice/.local/share/rilq-workbench/runs.sqlite"));
        setenv("XDG_DATA_HOME", "relative/ignored", 1);
        QCOMPARE(default_store_path(), std::string("/home/alice/.local/share/rilq-workbench/runs.sqlite"));
        setenv("XDG_DATA_HOME", "/data/xdg", 1);
        QCOMPARE(default_store_path(), std::string("/data/xdg/rilq-workbench/runs.sqlite"));
        setenv("RILQ_DB", "/tmp/mine.sqlite", 1);
        QCOMPARE(default_store_path(), std::string("/tmp/mine.sqlite"));
        QCOMPARE(resolve_store_path("/cli/choice.sqlite"), std::string("/cli/choice.sqlite"));
        QCOMPARE(resolve_store_path(""), std::string("/tmp/mine.sqlite"));
        unsetenv("RILQ_DB");
        unsetenv("XDG_DATA_HOME");
        unsetenv("HOME");
        QVERIFY_THROWS_EXCEPTION(rilq::Error, default_store_path());
        const auto restore = [](const char* name, const std::optional<std::string>& v) {
            if (v)
                setenv(name, v->c_str(), 1);
            else
                unsetenv(name);
        };
        restore("RILQ_DB", saved_db);
        restore("XDG_DATA_HOME", saved_xdg);
        restore("HOME", saved_home);
    }

    void read_only_store_refuses_writes() {
        const std::string path = fresh_db("readonly");
        StoreOptions read_only;
        read_only.mode = Database::Mode::ReadOnly;
        QVERIFY_THROWS_EXCEPTION(rilq::Error, RunStore(path, read_only)); // nothing there yet
        std::string uuid;
        {
            RunStore writer(path);
            uuid = writer.create_run({"exp", "", "r1", "{}", "h", {}, {}});
        }
        RunStore reader(path, read_only);
        QCOMPARE(reader.list_runs().size(), size_t(1));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, reader.create_run({"exp", "", "r2", "{}", "h", {}, {}}));
        reader.log_metric(uuid, "loss", 1.0, 0);
        QVERIFY_THROWS_EXCEPTION(rilq::Error, reader.flush());
    }

    void runs_of_dead_processes_become_interrupted_on_open() {
        const std::string path = fresh_db("interrupted");
        std::string dead_here, alive_here, stale_remote, fresh_remote;
        {
            RunStore store(path);
            for (auto* id : {&dead_here, &alive_here, &stale_remote, &fresh_remote}) {
                *id = store.create_run({"exp", "", "r", "{}", "h", {}, {}});
                store.start_run(*id);
            }
            store.log_metrics(dead_here, 0, {{"loss", 1.0}});
            Database& db = store.database();
            db.exec("UPDATE runs SET pid = " + std::to_string(dead_pid()) + " WHERE run_uuid = '" +
                    dead_here + "'");
            const int64_t hour_ago = now_ms() - 3600 * 1000;
            db.exec("UPDATE runs SET host = 'elsewhere', heartbeat_time = " + std::to_string(hour_ago) +
                    " WHERE run_uuid = '" + stale_remote + "'");
            db.exec("UPDATE runs SET host = 'elsewhere' WHERE run_uuid = '" + fresh_remote + "'");
        }
        RunStore reopened(path);
        QCOMPARE(reopened.interrupted_on_open().size(), size_t(2));
        const RunSummary dead = reopened.get_run(dead_here).summary;
        QCOMPARE(dead.status, RunStatus::Interrupted);
        QVERIFY2(contains(dead.status_message, "ended without closing the run"), dead.status_message.c_str());
        QCOMPARE(*dead.end_time_ms, *dead.heartbeat_ms); // ended at its last sign of life
        QCOMPARE(reopened.get_run(stale_remote).summary.status, RunStatus::Interrupted);
        QVERIFY(
            contains(reopened.get_run(stale_remote).summary.status_message, "no heartbeat from elsewhere"));
        QCOMPARE(reopened.get_run(alive_here).summary.status, RunStatus::Running); // this very process
        QCOMPARE(reopened.get_run(fresh_remote).summary.status, RunStatus::Running);
        QCOMPARE(reopened.metric_history(dead_here, "loss").size(), size_t(1));
        reopened.start_run(dead_here); // an interrupted run can be resumed
        QCOMPARE(reopened.get_run(dead_here).summary.status, RunStatus::Running);
        QVERIFY(reopened.mark_interrupted_runs().empty());
    }
};

RILQ_TEST_APPLESS_MAIN(TestRunStore)
#include "test_run_store.moc"
