// The store under concurrency and crashes:
//  - WAL: a reader gets the last commit at once while the writer holds a write transaction,
//    and the writer commits at once while a reader holds a snapshot;
//  - a writer thread logging a training run while a reader thread polls: no errors, and every
//    snapshot is consistent (a step's metrics and latest_metrics appear together);
//  - SIGKILL: a real child process logs metrics in a loop and is killed; on reopening the file
//    passes integrity_check, every step the child reported committed is there with its exact
//    values, and the run is INTERRUPTED.
#include "tests/support/test_support.h"

#include "core/store/run_store.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rilq::store;
using Clock = std::chrono::steady_clock;

namespace {

double elapsed_ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// The value the crash child logs for (step, key): recomputed by the parent to check bits.
double crash_value(int64_t step, int key) {
    return 0.001 * static_cast<double>(step) + key + 1.0 / (key + 3.0);
}

constexpr int kCrashKeys = 20;

StoreOptions read_only() {
    StoreOptions o;
    o.mode = Database::Mode::ReadOnly;
    return o;
}

} // namespace

class TestStoreConcurrency : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void wal_readers_and_writer_do_not_wait_for_each_other() {
        const std::string path = rilq::test::make_temp_dir("wal") + "/runs.sqlite";
        RunStore writer(path);
        const std::string uuid = writer.create_run({"e", "", "r", "{}", "h", {}, {}});
        writer.log_metrics(uuid, 0, {{"loss", 1.0}});
        RunStore reader(path, read_only());

        { // The writer holds an open write transaction: the reader reads the last commit at once.
            Transaction write(writer.database());
            writer.database().exec("INSERT INTO metrics (run_uuid, key, value, step, timestamp) VALUES ('" +
                                   uuid + "', 'loss', 0.9, 1, 0)");
            const auto start = Clock::now();
            const auto seen = reader.metric_history(uuid, "loss");
            QVERIFY2(elapsed_ms(start) < 1000, "reader waited for the writer"); // busy timeout is 10 s
            QCOMPARE(seen.size(), size_t(1));
            write.commit();
        }
        QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(2));

        { // The reader holds a snapshot: the writer commits at once; the snapshot stays put.
            Transaction snapshot(reader.database(), Transaction::Kind::Deferred);
            QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(2));
            const auto start = Clock::now();
            writer.log_metrics(uuid, 2, {{"loss", 0.8}});
            QVERIFY2(elapsed_ms(start) < 1000, "writer waited for the reader");
            QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(2));
            snapshot.commit();
        }
        QCOMPARE(reader.metric_history(uuid, "loss").size(), size_t(3));
    }

    void writer_thread_and_reader_thread() {
        const std::string path = rilq::test::make_temp_dir("threads") + "/runs.sqlite";
        std::string uuid;
        {
            RunStore setup(path);
            uuid = setup.create_run({"e", "", "r", "{}", "h", {}, {}});
            setup.start_run(uuid);
        }
        constexpr int kSteps = 300;
        constexpr int kKeys = 10;
        std::atomic<bool> done{false};
        std::string writer_error, reader_error;
        double max_commit_ms = 0, max_read_ms = 0;
        int reads = 0, partial_reads = 0;

        std::thread writer([&] {
            try {
                RunStore store(path);
                for (int step = 0; step < kSteps; ++step) {
                    std::vector<std::pair<std::string, double>> values;
                    for (int k = 0; k < kKeys; ++k)
                        values.emplace_back("k" + std::to_string(k), step * 0.5 + k);
                    const auto start = Clock::now();
                    store.log_metrics(uuid, step, values);
                    max_commit_ms = std::max(max_commit_ms, elapsed_ms(start));
                    std::this_thread::sleep_for(std::chrono::microseconds(300)); // a training step
                }
            } catch (const std::exception& e) {
                writer_error = e.what();
            }
            done = true;
        });
        std::thread reader([&] {
            try {
                RunStore store(path, read_only());
                while (!done) {
                    const auto start = Clock::now();
                    Transaction snapshot(store.database(), Transaction::Kind::Deferred);
                    const auto curve = store.metric_history(uuid, "k3");
                    const auto summaries = store.metric_summaries(uuid);
                    snapshot.commit();
                    max_read_ms = std::max(max_read_ms, elapsed_ms(start));
                    ++reads;
                    if (!curve.empty() && curve.size() < size_t(kSteps)) ++partial_reads;
                    // Contiguous steps with exact values; every key's latest is the same step.
                    for (size_t i = 0; i < curve.size(); ++i) {
                        if (curve[i].step != int64_t(i) || curve[i].value != double(i) * 0.5 + 3) {
                            throw std::runtime_error("curve point " + std::to_string(i) + " is wrong");
                        }
                    }
                    if (curve.empty()) continue;
                    if (summaries.size() != size_t(kKeys))
                        throw std::runtime_error("a step's keys arrived apart");
                    for (const auto& [key, summary] : summaries) {
                        if (summary.latest_step != curve.back().step) {
                            throw std::runtime_error(
                                key + ": latest step " + std::to_string(summary.latest_step) +
                                " but the curve ends at " + std::to_string(curve.back().step));
                        }
                    }
                }
            } catch (const std::exception& e) {
                reader_error = e.what();
            }
        });
        writer.join();
        reader.join();
        QVERIFY2(writer_error.empty(), writer_error.c_str());
        QVERIFY2(reader_error.empty(), reader_error.c_str());
        qInfo("%d reads (%d mid-run); slowest commit %.2f ms, slowest read %.2f ms", reads, partial_reads,
              max_commit_ms, max_read_ms);
        QVERIFY(partial_reads > 0); // the two really overlapped
        QVERIFY2(max_commit_ms < 2000, "a commit waited on the reader");
        RunStore check(path, read_only());
        QCOMPARE(check.metric_history(uuid, "k9").size(), size_t(kSteps));
    }

    void sigkill_mid_run_loses_nothing_committed_data() {
        QTest::addColumn<int>("kill_after_steps");
        QTest::newRow("early") << 20;
        QTest::newRow("later") << 250;
    }
    void sigkill_mid_run_loses_nothing_committed() {
        QFETCH(int, kill_after_steps);
        const std::string path = rilq::test::make_temp_dir("sigkill") + "/runs.sqlite";
        std::string uuid;
        { // Nothing of SQLite's may cross fork(): the parent closes its connection first.
            RunStore setup(path);
            uuid = setup.create_run({"crash", "", "r", "{}", "h", {}, {}});
        }
        int fds[2];
        QCOMPARE(pipe(fds), 0);
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            close(fds[0]);
            try {
                RunStore store(path);
                store.start_run(uuid);
                for (int64_t step = 0;; ++step) {
                    std::vector<std::pair<std::string, double>> values;
                    for (int k = 0; k < kCrashKeys; ++k)
                        values.emplace_back("m" + std::to_string(k), crash_value(step, k));
                    store.log_metrics(uuid, step, values); // committed when this returns
                    if (write(fds[1], &step, sizeof step) != sizeof step) _exit(2);
                }
            } catch (...) {
                _exit(3);
            }
        }
        close(fds[1]);
        int64_t last_reported = -1, step = 0;
        while (last_reported < kill_after_steps && read(fds[0], &step, sizeof step) == sizeof step)
            last_reported = step;
        QCOMPARE(kill(child, SIGKILL), 0);
        while (read(fds[0], &step, sizeof step) == sizeof step)
            last_reported = step; // sent before it died
        close(fds[0]);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child did not die by SIGKILL");
        QVERIFY(last_reported >= kill_after_steps);

        RunStore reopened(path);
        QCOMPARE(reopened.database().query_text("PRAGMA integrity_check"), std::string("ok"));
        QVERIFY(reopened.interrupted_on_open() == std::vector<std::string>{uuid});
        const RunSummary run = reopened.get_run(uuid).summary;
        QCOMPARE(run.status, RunStatus::Interrupted);
        QCOMPARE(run.pid, int64_t(child));
        size_t steps_stored = 0;
        for (int k = 0; k < kCrashKeys; ++k) {
            const std::string key = "m" + std::to_string(k);
            const auto curve = reopened.metric_history(uuid, key);
            // Everything reported is there; at most the one step committed but not yet reported.
            QVERIFY(curve.size() >= size_t(last_reported + 1));
            QVERIFY(curve.size() <= size_t(last_reported + 2));
            if (k == 0) steps_stored = curve.size();
            QCOMPARE(curve.size(), steps_stored); // a step's metrics commit together
            for (size_t i = 0; i < curve.size(); ++i) {
                QCOMPARE(curve[i].step, int64_t(i));
                QCOMPARE(curve[i].value, crash_value(int64_t(i), k)); // bit-exact (same expression)
            }
            const MetricSummary summary = reopened.metric_summaries(uuid).at(key);
            QCOMPARE(summary.latest_step, curve.back().step);
            QCOMPARE(summary.min, crash_value(0, k));
            QCOMPARE(summary.max, curve.back().value);
        }
        qInfo("killed after %lld reported steps; %zu steps stored", static_cast<long long>(last_reported + 1),
              steps_stored);
        // The store goes on: the interrupted run can be resumed and logged to.
        reopened.start_run(uuid);
        reopened.log_metrics(uuid, int64_t(steps_stored), {{"m0", 42.0}});
        QCOMPARE(reopened.metric_summaries(uuid).at("m0").latest, 42.0);
    }
};

RILQ_TEST_APPLESS_MAIN(TestStoreConcurrency)
#include "test_store_concurrency.moc"
