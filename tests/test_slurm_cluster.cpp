// A real Slurm: a one-node cluster started in a temp folder (munged, slurmctld, slurmd on loopback
// addresses and free ports, everything under the folder), then `rilq run --backend slurm` as a
// user runs it:
//  - a 2-point stories260K sweep through the cluster lands in the main store with the same curves
//    and PPL, bit for bit, as the same sweep run locally (same seed, one thread each); the tasks'
//    logs are plain lines, no carriage-return redraws;
//  - the same with --shared-prep: a preparation job, then the array (--dependency=afterok) loading
//    what it prepared: again the local run's numbers, bit for bit;
//  - Ctrl-C on the submitting side while both tasks train: scancel, and both runs end KILLED.
// Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge (scripts/setup.sh
// installs them); skipped otherwise. Every daemon is stopped and the folder removed even when a
// check fails (the cluster is an object whose destructor does it; the daemons also get SIGTERM
// if this process dies, through PR_SET_PDEATHSIG).
#include "tests/support/one_node_slurm.h"
#include "tests/support/test_support.h"

#include "core/store/run_store.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace rilq;
using test::OneNodeCluster;
using test::start_rilq;
namespace fs = std::filesystem;

namespace {

store::RunSummary run_named(store::RunStore& store, const std::string& name) {
    store::RunFilter filter;
    filter.experiment = "slurm-ci";
    for (const auto& r : store.list_runs(filter))
        if (r.name == name) return r;
    throw std::runtime_error("no run " + name + " in " + store.path());
}

store::StoreOptions read_only() {
    store::StoreOptions o;
    o.mode = store::Database::Mode::ReadOnly;
    return o;
}

} // namespace

class TestSlurmCluster : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() {
        const QString missing = test::slurm_missing_requirement();
        if (!missing.isEmpty()) QSKIP(qPrintable("no one-node Slurm cluster: " + missing));
        QVERIFY(dir_.isValid());
        test::open_folder_to_all(dir_.path().toStdString()); // munged's socket lives below it
        cluster_ = std::make_unique<OneNodeCluster>(dir_.path().toStdString() + "/cluster");
        QVERIFY2(cluster_->error().empty(), cluster_->error().c_str());
    }

    void cleanupTestCase() { cluster_.reset(); }

    void sweepOnSlurmMatchesTheLocalRunBitForBit() { check_sweep("per-task", {}); }

    void sharedPreparationMatchesTooBitForBit() {
        check_sweep("shared", {"--shared-prep"});
        if (QTest::currentTestFailed()) return;
        const std::string job = dir_.path().toStdString() + "/shared/job";
        QVERIFY(fs::exists(job + "/prepare.sh"));
        QVERIFY(fs::exists(job + "/prepared/0/preparation.json"));
    }

    void ctrlCCancelsTheArrayAndTheRunsEndKilled() {
        const std::string root = dir_.path().toStdString() + "/cancel";
        fs::create_directories(root);
        const std::string experiment = root + "/sweep.json";
        std::ofstream(experiment) << test::slurm_tiny_sweep(1000000).dump(2); // trains until cancelled
        const std::string db = root + "/main.sqlite";
        auto remote = start_rilq({"run", QString::fromStdString(experiment), "--db",
                                  QString::fromStdString(db), "--backend", "slurm", "--poll-seconds", "0.5"},
                                 root, cluster_->environment());
        QVERIFY(remote->waitForStarted(10000));
        // Both tasks training, as the main store shows them (imported from their shards).
        const bool training = OneNodeCluster::wait_for(
            [&] {
                if (!fs::exists(db)) return false;
                try {
                    store::RunStore main(db, read_only());
                    int running = 0;
                    for (const auto& r : main.list_runs())
                        running += r.status == store::RunStatus::Running && r.metrics.count("t_loss");
                    return running == 2;
                } catch (const std::exception&) {
                    return false;
                }
            },
            240);
        QVERIFY2(training, remote->readAll().constData());
        ::kill(static_cast<pid_t>(remote->processId()), SIGINT); // Ctrl-C
        QVERIFY(remote->waitForFinished(180000));
        const QByteArray said = remote->readAll();
        QVERIFY2(said.contains("scancel"), said.constData());
        store::RunStore main(db, read_only());
        const auto runs = main.list_runs();
        QCOMPARE(runs.size(), size_t{2});
        for (const auto& r : runs) {
            QVERIFY2(r.status == store::RunStatus::Killed,
                     (r.name + ": " + store::to_string(r.status) + " " + r.status_message).c_str());
            QVERIFY(!r.status_message.empty());
        }
        QVERIFY(OneNodeCluster::wait_for([&] { return cluster_->queue().contains("CANCELLED"); }, 30));
    }

  private:
    // The sweep run here, once: what every Slurm run is compared with.
    std::string local_store() {
        const std::string root = dir_.path().toStdString() + "/local";
        if (fs::exists(root + "/local.sqlite")) return root + "/local.sqlite";
        fs::create_directories(root);
        std::ofstream(root + "/sweep.json") << test::slurm_tiny_sweep(6).dump(2);
        auto local = start_rilq({"run", QString::fromStdString(root + "/sweep.json"), "--db",
                                 QString::fromStdString(root + "/local.sqlite")},
                                root, QProcessEnvironment::systemEnvironment());
        QElapsedTimer clock;
        clock.start();
        if (!local->waitForFinished(300000) || local->exitCode() != 0)
            qWarning("the local sweep failed: %s", local->readAll().constData());
        qInfo("local sweep: %.1f s", static_cast<double>(clock.elapsed()) / 1000.0);
        return root + "/local.sqlite";
    }

    void check_sweep(const std::string& tag, const QStringList& options) {
        const std::string root = dir_.path().toStdString() + "/" + tag;
        fs::create_directories(root);
        const std::string experiment = root + "/sweep.json";
        std::ofstream(experiment) << test::slurm_tiny_sweep(6).dump(2);
        const std::string reference = local_store();
        QVERIFY(fs::exists(reference));

        auto remote = start_rilq(QStringList{"run", QString::fromStdString(experiment), "--db",
                                             QString::fromStdString(root + "/main.sqlite"), "--backend",
                                             "slurm", "--poll-seconds", "0.5", "--job-dir",
                                             QString::fromStdString(root + "/job")} +
                                     options,
                                 root, cluster_->environment());
        QElapsedTimer clock;
        clock.start();
        QVERIFY(remote->waitForFinished(300000));
        const QByteArray said = remote->readAll();
        QVERIFY2(remote->exitCode() == 0, said.constData());
        // Submission to the last import, for the README's shared-preparation comparison.
        qInfo("%s sweep through Slurm: %.1f s", tag.c_str(), static_cast<double>(clock.elapsed()) / 1000.0);

        store::RunStore mine(reference, read_only());
        store::RunStore main(root + "/main.sqlite", read_only());
        int64_t task_seconds = 0; // what the array's tasks ran, as Slurm counts it
        for (const auto& r : main.list_runs())
            task_seconds += std::stoll(main.get_run(r.uuid).tags.at("slurm.elapsed_s"));
        qInfo("%s: the array's tasks ran %lld s in all", tag.c_str(), static_cast<long long>(task_seconds));
        for (const std::string name : {"lora_r=1", "lora_r=2"}) {
            const store::RunSummary a = run_named(mine, name);
            const store::RunSummary b = run_named(main, name);
            QCOMPARE(b.status, store::RunStatus::Finished);
            QCOMPARE(b.config_hash, a.config_hash);
            QCOMPARE(b.host, test::host_name()); // recorded by the task on the node
            const store::RunDetail detail = main.get_run(b.uuid);
            QCOMPARE(detail.tags.at("slurm.state"), std::string("COMPLETED"));
            QCOMPARE(detail.tags.at("slurm.node"), test::host_name());
            // PPL of every stage and the curves, bit for bit (tokens/s is a timing, not a result).
            const auto pa = mine.eval_results(a.uuid);
            const auto pb = main.eval_results(b.uuid);
            QCOMPARE(pb.size(), size_t{3});
            QCOMPARE(pb.size(), pa.size());
            for (size_t i = 0; i < pa.size(); ++i) {
                QCOMPARE(pb[i].stage, pa[i].stage);
                QCOMPARE(pb[i].ppl, pa[i].ppl);
                QCOMPARE(pb[i].n_tokens, pa[i].n_tokens);
            }
            for (const char* key :
                 {"t_loss", "t_a_loss", "t_gt_loss", "lr", "v_loss", "v_a_loss", "es_counter"}) {
                const auto ca = mine.metric_history(a.uuid, key);
                const auto cb = main.metric_history(b.uuid, key);
                QVERIFY2(!ca.empty(), key);
                QCOMPARE(cb.size(), ca.size());
                for (size_t i = 0; i < ca.size(); ++i) {
                    QCOMPARE(cb[i].step, ca[i].step);
                    QCOMPARE(cb[i].value, ca[i].value);
                }
            }
            QVERIFY(fs::exists(root + "/out/" + name + "/run.json"));
            const std::string shard = root + "/out/" + name + "." + b.uuid.substr(0, 12) + ".shard.sqlite";
            QVERIFY(fs::exists(shard));
            QCOMPARE(detail.tags.at("slurm.shard"), shard);
        }
        // Job logs: lines, not carriage-return redraws.
        int logs = 0;
        for (const auto& entry : fs::directory_iterator(root + "/job/logs")) {
            const std::string text = test::read_file(entry.path().string());
            QVERIFY2(text.find('\r') == std::string::npos, entry.path().c_str());
            ++logs;
        }
        QCOMPARE(logs, options.isEmpty() ? 2 : 3);
    }

    QTemporaryDir dir_;
    std::unique_ptr<OneNodeCluster> cluster_;
};

RILQ_TEST_GUILESS_MAIN(TestSlurmCluster)
#include "test_slurm_cluster.moc"
