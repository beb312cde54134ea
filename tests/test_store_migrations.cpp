// Schema migrations from every earlier version: a database is built at version 0, 1, 2 and 3 and
// filled the way a program of that version wrote it (raw SQL), then opened by the current
// RunStore. The data must survive, the new tables must be backfilled (best_metrics, computed
// here by hand), and the result must be schema-identical to a fresh store.
#include "tests/support/test_support.h"

#include "core/store/process_identity.h"
#include "core/store/run_store.h"
#include "core/store/schema.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>

using namespace rilq::store;

namespace {

const std::string kFinished = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kLeftRunning = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

// What a version-1 program wrote: two runs, one finished, one left RUNNING (it had no pid or
// heartbeat to leave behind), params, tags, metrics with a NaN, and latest_metrics.
void fill_v1(Database& db) {
    db.exec("INSERT INTO experiments (experiment_id, name, creation_time, last_update_time, config_json) "
            "VALUES (1, 'old-sweep', 1000, 1000, '{\"name\":\"old-sweep\"}')");
    db.exec("INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, end_time, config_json, "
            "config_hash, "
            "program_version, host) VALUES "
            "('" +
            kFinished +
            "', 1, 'lora_r=16', 'FINISHED', 1000, 2000, '{}', 'hash16', '0.0.1', 'somehost'), "
            "('" +
            kLeftRunning + "', 1, 'lora_r=32', 'RUNNING', 1500, NULL, '{}', 'hash32', '0.0.1', '" +
            current_host() + "')");
    db.exec("INSERT INTO params VALUES ('" + kFinished + "', 'rilq.lora_r', '16'), ('" + kLeftRunning +
            "', 'rilq.lora_r', '32')");
    db.exec("INSERT INTO tags VALUES ('" + kFinished + "', 'note', 'baseline')");
    // v_loss of the finished run: 3.0 2.0 2.5 1.0 1.5 NaN at steps 0..5.
    db.exec("INSERT INTO metrics (run_uuid, key, value, step, timestamp, is_nan) VALUES "
            "('" +
            kFinished + "', 'v_loss', 3.0, 0, 1100, 0), ('" + kFinished +
            "', 'v_loss', 2.0, 1, 1200, 0), "
            "('" +
            kFinished + "', 'v_loss', 2.5, 2, 1300, 0), ('" + kFinished +
            "', 'v_loss', 1.0, 3, 1400, 0), "
            "('" +
            kFinished + "', 'v_loss', 1.5, 4, 1500, 0), ('" + kFinished +
            "', 'v_loss', 0.0, 5, 1600, 1), "
            "('" +
            kLeftRunning + "', 'v_loss', 4.0, 0, 1600, 0), ('" + kLeftRunning +
            "', 'v_loss', 3.5, 1, 1700, 0), "
            "('" +
            kLeftRunning + "', 'v_loss', 3.8, 2, 1800, 0)");
    db.exec("INSERT INTO latest_metrics VALUES ('" + kFinished + "', 'v_loss', 0.0, 5, 1600, 1), ('" +
            kLeftRunning + "', 'v_loss', 3.8, 2, 1800, 0)");
}

// What a version-2 program added: best_metrics kept on insert (for the v1 data above), and
// evaluation, layer statistics, an artifact.
void fill_v2(Database& db) {
    db.exec("INSERT INTO best_metrics VALUES ('" + kFinished + "', 'v_loss', 1.0, 3, 3.0, 0), ('" +
            kLeftRunning + "', 'v_loss', 3.5, 1, 4.0, 0)");
    db.exec("INSERT INTO eval_results VALUES ('" + kFinished +
            "', 'wikitext2', 'compensated', 'abc', 'llama2', 2048, 140, 286720, 10.23, 2000)");
    db.exec("INSERT INTO layer_stats VALUES ('" + kFinished +
            "', 'quantized', 0, 'self_attn.q_proj', 'weight_error', 0.4)");
    db.exec("INSERT INTO artifacts VALUES ('" + kFinished +
            "', 'adapter', '/out/adapter_model.safetensors', 'def', 99)");
}

std::string schema_text(Database& db) {
    std::string out;
    Statement s(db, "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name");
    while (s.step())
        out += s.column_text(0) + " " + s.column_text(1) + " " + s.column_text(2) + ": " + s.column_text(3) +
               "\n";
    return out;
}

} // namespace

class TestStoreMigrations : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void from_every_earlier_version_data() {
        QTest::addColumn<int>("start_version");
        for (int v = 0; v < kSchemaVersion; ++v)
            QTest::newRow(("v" + std::to_string(v)).c_str()) << v;
    }
    void from_every_earlier_version() {
        QFETCH(int, start_version);
        const std::string dir = rilq::test::make_temp_dir("migrate");
        const std::string path = dir + "/runs.sqlite";
        {
            Database db(path);
            migrate(db, start_version);
            QCOMPARE(schema_version(db), start_version);
            if (start_version >= 1) fill_v1(db);
            if (start_version >= 2) fill_v2(db);
        }
        RunStore store(path);
        QCOMPARE(store.schema_version(), kSchemaVersion);
        QCOMPARE(store.database().query_text("PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(store.database().query_int("PRAGMA foreign_key_check"), int64_t(0));
        {
            RunStore fresh(dir + "/fresh.sqlite");
            QCOMPARE(schema_text(store.database()), schema_text(fresh.database()));
        }
        if (start_version == 0) {
            QVERIFY(store.list_runs().empty());
            return;
        }

        const RunDetail finished = store.get_run(kFinished);
        QCOMPARE(finished.summary.status, RunStatus::Finished);
        QCOMPARE(finished.summary.experiment, std::string("old-sweep"));
        QCOMPARE(finished.summary.params.at("rilq.lora_r"), std::string("16"));
        QCOMPARE(finished.tags.at("note"), std::string("baseline"));
        QCOMPARE(finished.summary.pid, int64_t(0));
        const auto history = store.metric_history(kFinished, "v_loss");
        QCOMPARE(history.size(), size_t(6));
        QCOMPARE(history[3].value, 1.0);
        QVERIFY(std::isnan(history[5].value));
        // best_metrics did not exist at v1: backfilled from the history, NaN skipped (from v2 on,
        // written by the program).
        const MetricSummary v_loss = store.metric_summaries(kFinished).at("v_loss");
        QVERIFY(std::isnan(v_loss.latest));
        QCOMPARE(v_loss.latest_step, int64_t(5));
        QVERIFY(v_loss.has_best);
        QCOMPARE(v_loss.min, 1.0);
        QCOMPARE(v_loss.min_step, int64_t(3));
        QCOMPARE(v_loss.max, 3.0);
        QCOMPARE(v_loss.max_step, int64_t(0));
        const MetricSummary other = store.metric_summaries(kLeftRunning).at("v_loss");
        QCOMPARE(other.min, 3.5);
        QCOMPARE(other.min_step, int64_t(1));

        // Left RUNNING by a program that recorded no pid: nothing can be running it now.
        const RunSummary left = store.get_run(kLeftRunning).summary;
        QCOMPARE(left.status, RunStatus::Interrupted);
        QCOMPARE(*left.end_time_ms, int64_t(1500)); // its start: the last sign of life known
        QVERIFY(store.interrupted_on_open() == std::vector<std::string>{kLeftRunning});

        if (start_version >= 2) {
            QCOMPARE(store.eval_results(kFinished).at(0).ppl, 10.23);
            QCOMPARE(store.layer_stats(kFinished).at(0).value, 0.4);
            QCOMPARE(store.artifacts(kFinished).at(0).size_bytes, int64_t(99));
        }

        // The upgraded store takes new writes, and the summaries keep tracking them.
        store.start_run(kLeftRunning);
        store.log_metrics(kLeftRunning, 3, {{"v_loss", 0.5}});
        const MetricSummary updated = store.metric_summaries(kLeftRunning).at("v_loss");
        QCOMPARE(updated.min, 0.5);
        QCOMPARE(updated.min_step, int64_t(3));
        QCOMPARE(updated.max, 4.0);
        QCOMPARE(updated.latest_step, int64_t(3));
        store.end_run(kLeftRunning, RunStatus::Finished);
        store.delete_run(kFinished);
        QCOMPARE(store.database().query_int("SELECT count(*) FROM metrics"), int64_t(4));
    }

    void task_scores_after_upgrade() {
        // v4 added task_results / task_group_scores: a v3 store upgrades, then keeps task accuracy
        // with its protocol, NaN metrics as NULL, group scores in their order; a rewrite replaces
        // the groups; deleting the run removes both.
        const std::string path = rilq::test::make_temp_dir("tasks") + "/runs.sqlite";
        {
            Database db(path);
            migrate(db, 3);
            fill_v1(db);
            fill_v2(db);
        }
        RunStore store(path);
        QCOMPARE(store.schema_version(), 4);
        TaskScore mmlu;
        mmlu.task = "mmlu";
        mmlu.stage = "compensated";
        mmlu.n = 14042;
        mmlu.acc = 0.25;
        mmlu.acc_stderr = 0.0037;
        mmlu.acc_norm = mmlu.acc_norm_stderr = std::nan("");
        mmlu.shots = 5;
        mmlu.data_sha256 = "abc";
        mmlu.tokenizer = "sentencepiece:tok512.model";
        mmlu.bos = "bos";
        mmlu.max_length = 512;
        mmlu.protocol_json = "{\"task\":\"mmlu\"}";
        mmlu.timestamp_ms = 5000;
        mmlu.groups = {{"category", "STEM", 3018, 0.24},
                       {"category", "humanities", 4705, 0.26},
                       {"subcategory", "math", 1064, 0.23},
                       {"subject", "abstract_algebra", 100, 0.22}};
        store.log_task_score(kFinished, mmlu);
        TaskScore arc = mmlu;
        arc.task = "arc_easy";
        arc.acc_norm = 0.19;
        arc.acc_norm_stderr = 0.039;
        arc.groups.clear();
        store.log_task_score(kFinished, arc);
        auto scores = store.task_scores(kFinished);
        QCOMPARE(scores.size(), size_t(2));
        QCOMPARE(scores[1].task, std::string("mmlu")); // same timestamp: by task name
        QVERIFY(std::isnan(scores[1].acc_norm) && std::isnan(scores[1].acc_norm_stderr));
        QCOMPARE(scores[1].acc_stderr, 0.0037);
        QCOMPARE(scores[1].groups.size(), size_t(4));
        QCOMPARE(scores[1].groups[1].name, std::string("humanities"));
        QCOMPARE(scores[1].groups[3].kind, std::string("subject"));
        QCOMPARE(scores[1].protocol_json, mmlu.protocol_json);
        QCOMPARE(scores[0].acc_norm, 0.19);
        QCOMPARE(store.get_run(kFinished).task_scores.size(), size_t(2));
        mmlu.groups.resize(1);
        store.log_task_score(kFinished, mmlu);
        QCOMPARE(store.task_scores(kFinished)[1].groups.size(), size_t(1));
        mmlu.stage = "teacher";
        QVERIFY_THROWS_EXCEPTION(rilq::Error, store.log_task_score(kFinished, mmlu));
        store.delete_run(kFinished);
        QCOMPARE(store.database().query_int("SELECT count(*) FROM task_results"), int64_t(0));
        QCOMPARE(store.database().query_int("SELECT count(*) FROM task_group_scores"), int64_t(0));
    }

    void reopening_is_a_no_op() {
        const std::string path = rilq::test::make_temp_dir("reopen") + "/runs.sqlite";
        std::string uuid;
        {
            RunStore store(path);
            uuid = store.create_run({"e", "", "r", "{}", "h", {}, {}});
        }
        RunStore again(path);
        QCOMPARE(again.schema_version(), kSchemaVersion);
        QCOMPARE(again.list_runs().size(), size_t(1));
    }

    void migrate_steps_one_version_at_a_time() {
        const std::string path = rilq::test::make_temp_dir("steps") + "/runs.sqlite";
        Database db(path);
        for (int v = 0; v <= kSchemaVersion; ++v) {
            migrate(db, v);
            QCOMPARE(schema_version(db), v);
        }
        QCOMPARE(db.query_int("SELECT count(*) FROM sqlite_master WHERE name = 'best_metrics'"), int64_t(1));
        QCOMPARE(db.query_int("SELECT count(*) FROM sqlite_master WHERE name = 'task_results'"), int64_t(1));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, migrate(db, kSchemaVersion + 1));
    }

    void newer_files_and_foreign_files_are_refused() {
        const std::string dir = rilq::test::make_temp_dir("refuse");
        {
            Database db(dir + "/future.sqlite");
            db.exec("PRAGMA user_version = 99");
        }
        try {
            RunStore store(dir + "/future.sqlite");
            QFAIL("a newer schema was opened");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("schema version 99 is newer") != std::string::npos, e.what());
        }
        rilq::test::write_file(dir + "/notes.sqlite",
                               "these are not the bytes of a database, just some text....");
        QVERIFY_THROWS_EXCEPTION(rilq::Error, RunStore(dir + "/notes.sqlite"));

        // An old store opened read-only says how to upgrade it rather than misreading it.
        {
            Database db(dir + "/old.sqlite");
            migrate(db, 1);
        }
        StoreOptions read_only;
        read_only.mode = Database::Mode::ReadOnly;
        try {
            RunStore store(dir + "/old.sqlite", read_only);
            QFAIL("an old schema was read");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("open it read-write once to upgrade") != std::string::npos,
                     e.what());
        }
    }
};

RILQ_TEST_APPLESS_MAIN(TestStoreMigrations)
#include "test_store_migrations.moc"
