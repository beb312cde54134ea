// Signals (issue 13, item 7). SIGTERM used to kill `rilq run` at once (exit 143) and leave the
// run INTERRUPTED; cluster schedulers send exactly that before SIGKILL. Now SIGTERM, SIGINT and
// SIGHUP all stop the run the way Ctrl-C always did: it ends KILLED (the signal named in its
// message) with its best adapters saved and its checkpoint kept, and the process exits with
// 128 + the signal number. The real `rilq` runs as a child process and gets a real signal.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"

#include "core/store/run_store.h"

#include <csignal>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

class TestFaultSignals : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void aSignalEndsTheRunKilledWithItsAdapters_data() {
        QTest::addColumn<int>("signal");
        QTest::addColumn<QString>("name");
        QTest::newRow("SIGTERM") << int(SIGTERM) << "SIGTERM";
        QTest::newRow("SIGINT") << int(SIGINT) << "SIGINT";
        QTest::newRow("SIGHUP") << int(SIGHUP) << "SIGHUP";
    }
    void aSignalEndsTheRunKilledWithItsAdapters() {
        QFETCH(int, signal);
        QFETCH(QString, name);
        // A signal ignored here is ignored by the child too (a background job of a
        // non-interactive shell ignores SIGINT; nohup, SIGHUP), and rilq keeps it ignored.
        struct sigaction current {};
        if (::sigaction(signal, nullptr, &current) == 0 && current.sa_handler == SIG_IGN)
            QSKIP("the signal is ignored in this environment; rilq leaves ignored signals alone");
        const std::string dir = test::make_temp_dir("fault-signal");
        // Far more micro-steps than the test waits for: the signal always lands in training.
        const std::string experiment =
            fault::write_experiment(dir, fault::tiny_experiment("signal-test", 2, 100000));
        QProcess p;
        p.setWorkingDirectory(QString::fromStdString(dir));
        p.start(fault::rilq_binary(),
                {QStringLiteral("run"), QString::fromStdString(experiment), QStringLiteral("--db"),
                 QString::fromStdString(dir + "/runs.db"), QStringLiteral("--quiet")});
        QVERIFY(p.waitForStarted(10000));
        // Wait for the first validation after training started (update 2 of the run).
        std::string err;
        const QDeadlineTimer deadline(120000);
        while (!fault::contains(err, ": update 2 v_loss") && !deadline.hasExpired() &&
               p.state() == QProcess::Running) {
            p.waitForReadyRead(1000);
            err += p.readAllStandardError().toStdString();
        }
        QVERIFY2(fault::contains(err, ": update 2 v_loss"), err.c_str());
        ::kill(static_cast<pid_t>(p.processId()), signal);
        QVERIFY2(p.waitForFinished(60000), "the run did not stop after the signal");
        err += p.readAllStandardError().toStdString();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit); // it stopped itself: no death by signal
        QCOMPARE(p.exitCode(), 128 + signal);

        store::StoreOptions read_only;
        read_only.mode = store::Database::Mode::ReadOnly;
        store::RunStore db(dir + "/runs.db", read_only);
        const auto runs = db.list_runs();
        QCOMPARE(runs.size(), size_t{1});
        QVERIFY2(runs[0].status == store::RunStatus::Killed, err.c_str());
        QVERIFY2(fault::contains(runs[0].status_message, name.toStdString()), runs[0].status_message.c_str());
        const std::string out = db.params(runs[0].uuid).at("rilq.output_dir");
        QVERIFY(fs::exists(out + "/adapter/adapter_model.safetensors")); // best adapters saved
        QVERIFY(fs::exists(out + ".checkpoint/checkpoint.json"));        // and resumable
        QVERIFY(!db.metric_history(runs[0].uuid, "v_loss").empty());
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultSignals)
#include "test_fault_signals.moc"
