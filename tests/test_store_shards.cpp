// Store shards (issue 18): runs recorded in another store file come home by uuid.
//  - import copies every table of a run exactly; importing again changes nothing (the whole
//    main store, times included, stays byte-for-byte the same when dumped);
//  - a shard of a running task is imported, grows, is imported again: the main store follows
//    (curve appended, status and results updated); a shard older than the main store's record
//    (a status set later by the submitting side) is left alone;
//  - import while a writer thread logs into the shard, both live (WAL, local disk) and through
//    published snapshots: every import succeeds and shows a consistent prefix of the curve, the
//    last one shows everything;
//  - a corrupt, truncated or foreign file, or a shard whose run has other settings under the same
//    uuid, is rejected with an error naming it, and nothing of the import lands (one transaction);
//  - export_runs seeds a shard that imports back to the same content.
#include "tests/support/test_support.h"

#include "app/cli/commands.h"
#include "core/store/run_store.h"
#include "core/store/shard_import.h"
#include "core/store/store_snapshot.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace rilq;
using namespace rilq::store;
namespace fs = std::filesystem;

namespace {

// Every row of every table, sorted: two stores with equal dumps hold the same data.
std::string dump(Database& db, const std::string& only_uuid = "") {
    std::vector<std::string> tables;
    {
        Statement s(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                        "ORDER BY name");
        while (s.step())
            tables.push_back(s.column_text(0));
    }
    std::string out;
    for (const auto& t : tables) {
        std::vector<std::string> lines;
        const bool by_run = t != "experiments";
        Statement s(db, "SELECT * FROM " + t + (by_run && !only_uuid.empty() ? " WHERE run_uuid = ?1" : ""));
        if (by_run && !only_uuid.empty()) s.bind(1, only_uuid);
        while (s.step()) {
            std::string line = t + ":";
            for (int c = 0; c < s.column_count(); ++c) {
                // Experiment ids are local to a store (experiments: keep the name only; runs: skip
                // column 1, experiment_id).
                if ((!by_run && c != 1) || (t == "runs" && c == 1)) continue;
                line += "|" + (s.column_is_null(c) ? std::string("NULL") : s.column_text(c));
            }
            lines.push_back(line);
        }
        std::sort(lines.begin(), lines.end());
        for (const auto& l : lines)
            out += l + "\n";
    }
    return out;
}

NewRun sample_run(const std::string& name, const std::string& hash = "hash-1") {
    NewRun r;
    r.experiment = "shards";
    r.experiment_config = "{\"name\":\"shards\"}";
    r.name = name;
    r.config_json = "{\"rilq\":{\"lora_r\":4}}";
    r.config_hash = hash;
    r.params = {{"rilq.lora_r", "4"}, {"seed", "42"}};
    r.tags = {{"sweep.index", "0"}};
    return r;
}

// A finished run with a bit of everything.
std::string record_full_run(RunStore& store, const std::string& name) {
    const std::string uuid = store.create_run(sample_run(name));
    store.start_run(uuid);
    for (int step = 0; step < 20; ++step)
        store.log_metrics(uuid, step, {{"t_loss", 2.0 / (step + 1)}, {"lr", 1e-3}});
    store.log_metrics(uuid, 10, {{"v_loss", std::nan("")}});
    store.log_metrics(uuid, 20, {{"v_loss", 0.5}});
    store.log_eval_result(uuid, {"heldout", "fp", "abc", "bpe:tok", 128, 12, 1536, 5.25, 0});
    store.log_eval_result(uuid, {"heldout", "compensated", "abc", "bpe:tok", 128, 12, 1536, 7.5, 0});
    store.log_layer_stats(uuid, {{"quantized", 0, "self_attn.q_proj", "rel_error", 0.25},
                                 {"compensated", 0, "self_attn.q_proj", "rel_error", 0.125}});
    store.log_artifact(uuid, {"adapter", "/out/" + name + "/adapter", "00ff", 1234});
    store.end_run(uuid, RunStatus::Finished);
    return uuid;
}

std::string published(RunStore& live, const std::string& path) {
    live.flush();
    write_store_snapshot(live.database(), path);
    return path;
}

} // namespace

class TestStoreShards : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void importCopiesEverythingAndReimportIsANoOp() {
        QTemporaryDir dir;
        const std::string shard_path = dir.filePath("shard.sqlite").toStdString();
        std::string uuid;
        {
            RunStore shard(shard_path);
            uuid = record_full_run(shard, "r4");
        }
        RunStore main(dir.filePath("main.sqlite").toStdString());
        const ImportReport first = import_shards(main, {shard_path});
        QCOMPARE(first.added, 1);
        QCOMPARE(first.uuids, std::vector<std::string>{uuid});
        {
            Database shard(shard_path);
            QCOMPARE(dump(main.database(), uuid), dump(shard, uuid));
        }
        QCOMPARE(main.get_run(uuid).summary.status, RunStatus::Finished);
        QVERIFY(std::isnan(main.metric_history(uuid, "v_loss").front().value)); // NaN survives the trip

        // Whole-file dump, times and experiment rows included: a second import writes nothing.
        const std::string before = dump(main.database());
        const int64_t experiment_time = main.database().query_int("SELECT last_update_time FROM experiments");
        const ImportReport again = import_shards(main, {shard_path});
        QCOMPARE(again.added, 0);
        QCOMPARE(again.updated, 0);
        QCOMPARE(again.unchanged, 1);
        QCOMPARE(dump(main.database()), before);
        QCOMPARE(main.database().query_int("SELECT last_update_time FROM experiments"), experiment_time);

        // Through the command line too.
        QCOMPARE(cli::cmd_runs({"rilq runs", "import", QString::fromStdString(shard_path), "--db",
                                QString::fromStdString(main.path())}),
                 0);
        QCOMPARE(dump(main.database()), before);
    }

    void growingShardIsFollowedAndOlderShardIsIgnored() {
        QTemporaryDir dir;
        const std::string live_path = dir.filePath("live.sqlite").toStdString();
        const std::string shard_path = dir.filePath("shard.sqlite").toStdString();
        RunStore live(live_path);
        RunStore main(dir.filePath("main.sqlite").toStdString());
        // The submitting side records the point first, SCHEDULED, with its own tags.
        NewRun planned = sample_run("r4");
        const std::string uuid = main.create_run(planned);
        main.set_tag(uuid, "slurm.job_id", "17");
        planned.uuid = uuid;
        QCOMPARE(live.create_run(planned), uuid);
        live.start_run(uuid);
        for (int step = 0; step < 5; ++step)
            live.log_metrics(uuid, step, {{"t_loss", 1.0 + step}});

        QCOMPARE(import_shards(main, {published(live, shard_path)}).updated, 1);
        QCOMPARE(main.get_run(uuid).summary.status, RunStatus::Running);
        QCOMPARE(main.metric_history(uuid, "t_loss").size(), size_t{5});
        QCOMPARE(main.get_run(uuid).tags.at("slurm.job_id"),
                 std::string("17")); // the main store's own tag stays

        // The task goes on: more points, an eval, the end.
        for (int step = 5; step < 9; ++step)
            live.log_metrics(uuid, step, {{"t_loss", 1.0 + step}});
        live.log_eval_result(uuid, {"heldout", "compensated", "abc", "bpe:tok", 128, 12, 1536, 7.5, 0});
        live.end_run(uuid, RunStatus::Killed, "cancelled during train");
        const std::string shard_snapshot = published(live, shard_path);
        const std::string stale_copy = dir.filePath("stale.sqlite").toStdString();
        fs::copy_file(shard_snapshot, stale_copy);
        QCOMPARE(import_shards(main, {shard_snapshot}).updated, 1);
        const auto history = main.metric_history(uuid, "t_loss");
        QCOMPARE(history.size(), size_t{9});
        for (int step = 0; step < 9; ++step)
            QCOMPARE(history[size_t(step)].value, 1.0 + step);
        QCOMPARE(main.get_run(uuid).summary.status, RunStatus::Killed);
        QCOMPARE(main.eval_results(uuid).size(), size_t{1});
        QCOMPARE(main.metric_summaries(uuid).at("t_loss").latest_step, int64_t{8});

        // The submitting side then learns more (Slurm's verdict, later): a stale shard is ignored.
        main.database().exec(
            "UPDATE runs SET status = 'INTERRUPTED', status_message = 'Slurm: TIMEOUT', "
            "end_time = end_time + 1000, heartbeat_time = heartbeat_time + 1000 WHERE run_uuid = '" +
            uuid + "'");
        const std::string before = dump(main.database());
        const ImportReport stale = import_shards(main, {stale_copy});
        QCOMPARE(stale.older, 1);
        QCOMPARE(dump(main.database()), before);
    }

    void importWhileTheShardIsBeingWritten_data() {
        QTest::addColumn<bool>("through_snapshots");
        QTest::newRow("live store (WAL, local disk)") << false;
        QTest::newRow("published snapshots") << true;
    }

    void importWhileTheShardIsBeingWritten() {
        QFETCH(bool, through_snapshots);
        QTemporaryDir dir;
        const std::string live_path = dir.filePath("live.sqlite").toStdString();
        const std::string shard_path = dir.filePath("shard.sqlite").toStdString();
        constexpr int kSteps = 300;
        std::string uuid;
        std::atomic<bool> done{false};
        std::string writer_error;
        {
            RunStore live(live_path);
            uuid = live.create_run(sample_run("r4"));
            live.start_run(uuid);
            if (through_snapshots) published(live, shard_path);
        }
        std::thread writer([&] {
            try {
                RunStore live(live_path);
                for (int step = 0; step < kSteps; ++step) {
                    live.log_metrics(uuid, step, {{"t_loss", 1.0 / (step + 1)}, {"lr", step * 1e-4}});
                    if (through_snapshots && step % 25 == 0) published(live, shard_path);
                }
                live.end_run(uuid, RunStatus::Finished);
                if (through_snapshots) published(live, shard_path);
            } catch (const std::exception& e) {
                writer_error = e.what();
            }
            done = true;
        });
        RunStore main(dir.filePath("main.sqlite").toStdString());
        const std::string source = through_snapshots ? shard_path : live_path;
        int imports = 0;
        size_t seen = 0;
        while (true) {
            const bool last = done.load();
            import_shards(main, {source}); // never throws: each import reads one consistent state
            ++imports;
            // A consistent prefix: steps 0..n-1 of both keys, latest_metrics at n-1, nothing else.
            const auto loss = main.metric_history(uuid, "t_loss");
            const auto lr = main.metric_history(uuid, "lr");
            QCOMPARE(loss.size(), lr.size());
            QVERIFY(loss.size() >= seen);
            seen = loss.size();
            for (size_t i = 0; i < loss.size(); ++i) {
                QCOMPARE(loss[i].step, int64_t(i));
                QCOMPARE(loss[i].value, 1.0 / double(i + 1));
            }
            if (!loss.empty())
                QCOMPARE(main.metric_summaries(uuid).at("t_loss").latest_step, int64_t(loss.size() - 1));
            if (last) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        writer.join();
        QVERIFY2(writer_error.empty(), writer_error.c_str());
        QVERIFY(imports >= 2);
        QCOMPARE(main.metric_history(uuid, "t_loss").size(), size_t{kSteps});
        QCOMPARE(main.get_run(uuid).summary.status, RunStatus::Finished);
        Database live(live_path);
        QCOMPARE(dump(main.database(), uuid), dump(live, uuid));
    }

    void corruptOrForeignShardIsRejectedAndNothingLands_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated") << "truncated";
        QTest::newRow("page overwritten") << "page";
        QTest::newRow("not a store") << "text";
        QTest::newRow("same uuid, other settings") << "other-settings";
        QTest::newRow("missing") << "missing";
    }

    void corruptOrForeignShardIsRejectedAndNothingLands() {
        QFETCH(QString, damage);
        QTemporaryDir dir;
        const std::string main_path = dir.filePath("main.sqlite").toStdString();
        const std::string good_path = dir.filePath("good.sqlite").toStdString();
        const std::string bad_path = dir.filePath("bad.sqlite").toStdString();
        std::string main_uuid, good_uuid;
        RunStore main(main_path);
        main_uuid = record_full_run(main, "already-here");
        {
            RunStore good(dir.filePath("good-live.sqlite").toStdString());
            good_uuid = record_full_run(good, "r8");
            published(good, good_path);
        }
        {
            RunStore bad(dir.filePath("bad-live.sqlite").toStdString());
            NewRun other = sample_run("already-here", "hash-2");
            other.uuid = main_uuid;
            bad.create_run(other);
            for (int i = 0; i < 400; ++i)
                bad.log_metrics(main_uuid, i, {{"t_loss", i * 0.5}});
            published(bad, bad_path);
        }
        const auto size = fs::file_size(bad_path);
        if (damage == "truncated") {
            fs::resize_file(bad_path, size / 2);
        } else if (damage == "page") {
            // The metrics table's root page becomes garbage.
            int64_t root = 0;
            {
                Database db(bad_path, Database::Mode::Immutable);
                root = db.query_int("SELECT rootpage FROM sqlite_master WHERE name = 'metrics'");
            }
            const int64_t page = 4096;
            std::fstream f(bad_path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp((root - 1) * page);
            const std::string garbage(page, '\x5a');
            f.write(garbage.data(), page);
        } else if (damage == "text") {
            test::write_file(bad_path, "run_uuid,status\nabc,FINISHED\n");
        } else if (damage == "missing") {
            fs::remove(bad_path);
        }
        const std::string before = dump(main.database());
        try {
            import_shards(main, {good_path, bad_path});
            QFAIL("the damaged shard was imported");
        } catch (const Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.find(bad_path) != std::string::npos, message.c_str());
            if (damage == "other-settings")
                QVERIFY2(message.find("another run") != std::string::npos, message.c_str());
        }
        QCOMPARE(dump(main.database()), before); // not even the good shard's run
        QVERIFY(main.list_runs().size() == 1);
        QCOMPARE(cli::cmd_runs({"rilq runs", "import", QString::fromStdString(bad_path), "--db",
                                QString::fromStdString(main_path)}),
                 1);
        QCOMPARE(dump(main.database()), before);
        // The good one alone still imports.
        QCOMPARE(import_shards(main, {good_path}).added, 1);
    }

    void exportSeedsAShardThatImportsBackUnchanged() {
        QTemporaryDir dir;
        RunStore main(dir.filePath("main.sqlite").toStdString());
        const std::string uuid = record_full_run(main, "r4");
        record_full_run(main, "r8");
        const std::string shard_path = dir.filePath("out/r4.shard.sqlite").toStdString();
        export_runs(main, {uuid}, shard_path);
        QVERIFY(is_snapshot_file(shard_path));
        QVERIFY(!fs::exists(shard_path + "-wal"));
        const auto shard = open_shard(shard_path);
        QCOMPARE(shard->query_int("SELECT count(*) FROM runs"), int64_t{1});
        QCOMPARE(dump(*shard, uuid), dump(main.database(), uuid));
        const std::string before = dump(main.database());
        QCOMPARE(import_shards(main, {shard_path}).unchanged, 1);
        QCOMPARE(dump(main.database()), before);
    }
};

RILQ_TEST_APPLESS_MAIN(TestStoreShards)
#include "test_store_shards.moc"
