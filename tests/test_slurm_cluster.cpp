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
#include "tests/fault/fault_binaries.h"
#include "tests/support/test_support.h"

#include "core/store/run_store.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

const char* const kPrograms[] = {"munged", "mungekey", "slurmctld", "slurmd",
                                 "sbatch", "squeue",   "scancel",   "sinfo"};

QString find_program(const char* name) {
    QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
    if (path.isEmpty())
        path = QStandardPaths::findExecutable(QString::fromLatin1(name), {"/usr/sbin", "/sbin"});
    return path;
}

// Why the cluster cannot start here ("" when it can).
QString missing_requirement() {
    if (::geteuid() != 0) return QStringLiteral("needs root (slurmd and munged run as root here)");
    for (const char* p : kPrograms)
        if (find_program(p).isEmpty())
            return QStringLiteral(
                       "%1 not found: install slurmctld, slurmd, slurm-client and munge (scripts/setup.sh)")
                .arg(QString::fromLatin1(p));
    return {};
}

// A TCP port nobody listens on right now, on the loopback address.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

std::string host_name() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

std::string tail_of(const std::string& path, size_t bytes = 2000) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

class OneNodeCluster {
  public:
    explicit OneNodeCluster(const std::string& dir) : dir_(dir) {
        // munged checks that its socket folder is reachable by everyone and its key private.
        fs::create_directories(dir_);
        fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        for (const char* sub : {"munge", "munge-key", "state", "spool", "log"})
            fs::create_directories(dir_ + "/" + sub);
        fs::permissions(dir_ + "/munge-key", fs::perms::owner_all);
        fs::permissions(dir_ + "/munge", fs::perms::owner_all | fs::perms::group_read |
                                             fs::perms::group_exec | fs::perms::others_read |
                                             fs::perms::others_exec);
        conf_ = dir_ + "/slurm.conf";
        const std::string host = host_name();
        const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
        std::ofstream(conf_)
            << "ClusterName=rilqci\n"
            << "SlurmctldHost=" << host << "(127.0.0.1)\n"
            << "SlurmctldPort=" << free_port() << "\nSlurmdPort=" << free_port() << "\n"
            << "AuthType=auth/munge\nCredType=cred/munge\n"
            << "AuthInfo=socket=" << dir_ << "/munge/socket\n"
            << "SlurmUser=root\nSlurmdUser=root\n"
            << "StateSaveLocation=" << dir_ << "/state\nSlurmdSpoolDir=" << dir_ << "/spool\n"
            << "SlurmctldPidFile=" << dir_ << "/slurmctld.pid\nSlurmdPidFile=" << dir_ << "/slurmd.pid\n"
            << "SlurmctldLogFile=" << dir_ << "/log/slurmctld.log\n"
            << "SlurmdLogFile=" << dir_ << "/log/slurmd.log\n"
            << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
            << "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
            << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
            << "MpiDefault=none\nReturnToService=2\nKillWait=15\n"
            << "NodeName=" << host << " NodeAddr=127.0.0.1 CPUs=" << cpus << " State=UNKNOWN\n"
            << "PartitionName=ci Nodes=" << host << " Default=YES MaxTime=INFINITE State=UP\n";
        env_ = QProcessEnvironment::systemEnvironment();
        env_.insert(QStringLiteral("SLURM_CONF"), QString::fromStdString(conf_));

        QProcess key;
        key.start(find_program("mungekey"),
                  {"--create", "--keyfile", QString::fromStdString(dir_ + "/munge-key/key")});
        key.waitForFinished(30000);
        if (key.exitCode() != 0) {
            error_ = "mungekey: " + key.readAllStandardError().toStdString();
            return;
        }
        start("munged",
              {"--foreground", "--force", "--key-file", QString::fromStdString(dir_ + "/munge-key/key"),
               "--socket", QString::fromStdString(dir_ + "/munge/socket"), "--pid-file",
               QString::fromStdString(dir_ + "/munge/pid"), "--log-file",
               QString::fromStdString(dir_ + "/log/munged.log"), "--seed-file",
               QString::fromStdString(dir_ + "/munge/seed")});
        if (!wait_for([&] { return fs::exists(dir_ + "/munge/socket"); }, 20)) {
            error_ = "munged did not start: " + tail_of(dir_ + "/log/munged.log");
            return;
        }
        start("slurmctld", {"-D", "-c", "-i", "-f", QString::fromStdString(conf_)});
        start("slurmd", {"-D", "-f", QString::fromStdString(conf_)});
        if (!wait_for([&] { return sinfo().contains(QStringLiteral("idle")); }, 60))
            error_ = "the node did not come up: " + tail_of(dir_ + "/log/slurmctld.log") + "\n" +
                     tail_of(dir_ + "/log/slurmd.log");
    }

    ~OneNodeCluster() {
        // Jobs first (a task left running would outlive slurmd), then the daemons, newest first.
        QProcess cancel;
        cancel.setProcessEnvironment(env_);
        cancel.start(find_program("scancel"), {"--user=root"});
        cancel.waitForFinished(30000);
        wait_for([&] { return active_jobs().trimmed().isEmpty(); }, 60);
        for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) {
            (*it)->terminate();
            if (!(*it)->waitForFinished(20000)) {
                (*it)->kill();
                (*it)->waitForFinished(5000);
            }
        }
    }

    const std::string& error() const { return error_; }
    const QProcessEnvironment& environment() const { return env_; }
    // Every job the controller holds (finished ones for MinJobAge), "ID STATE" per line.
    QString queue() { return run("squeue", {"--noheader", "--states=all", "--format=%i %T"}); }
    // Jobs not finished: pending, running, completing.
    QString active_jobs() { return run("squeue", {"--noheader", "--format=%i %T"}); }

    static bool wait_for(const std::function<bool()>& condition, int seconds) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        while (std::chrono::steady_clock::now() < until) {
            if (condition()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return condition();
    }

  private:
    QString sinfo() { return run("sinfo", {"--noheader", "--format=%T"}); }
    QString run(const char* program, const QStringList& args) {
        QProcess p;
        p.setProcessEnvironment(env_);
        p.start(find_program(program), args);
        p.waitForFinished(30000);
        return QString::fromLocal8Bit(p.readAllStandardOutput());
    }
    void start(const char* program, const QStringList& args) {
        auto p = std::make_unique<QProcess>();
        p->setProcessEnvironment(env_);
        p->setStandardOutputFile(QString::fromStdString(dir_ + "/log/" + program + ".out"));
        p->setStandardErrorFile(QString::fromStdString(dir_ + "/log/" + program + ".err"));
        // If this test process dies, the daemon gets SIGTERM instead of living on.
        p->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        p->start(find_program(program), args);
        p->waitForStarted(10000);
        daemons_.push_back(std::move(p));
    }

    std::string dir_, conf_, error_;
    QProcessEnvironment env_;
    std::vector<std::unique_ptr<QProcess>> daemons_;
};

// Two ranks of stories260K, a few micro-steps on a tiny calibration set: seconds per point.
nlohmann::json sweep(int micro_steps) {
    nlohmann::json doc =
        nlohmann::json::parse(test::read_file(test::test_data("slurm/stories260k-tiny-sweep.json")));
    doc["rilq"]["approx_total_steps"] = micro_steps;
    doc["data_root"] = test::shared_data();
    return doc;
}

std::unique_ptr<QProcess> start_rilq(const QStringList& args, const std::string& working_dir,
                                     const QProcessEnvironment& env) {
    auto p = std::make_unique<QProcess>();
    QProcessEnvironment e = env;
    e.insert(QStringLiteral("RILQ_THREADS"), QStringLiteral("1"));
    e.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
    p->setProcessEnvironment(e);
    p->setWorkingDirectory(QString::fromStdString(working_dir));
    p->setProcessChannelMode(QProcess::MergedChannels);
    p->start(fault::rilq_binary(), args);
    return p;
}

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
        const QString missing = missing_requirement();
        if (!missing.isEmpty()) QSKIP(qPrintable("no one-node Slurm cluster: " + missing));
        QVERIFY(dir_.isValid());
        // munged wants every folder on its socket's path open to all (it is root's own temp folder).
        fs::permissions(dir_.path().toStdString(), fs::perms::owner_all | fs::perms::group_read |
                                                       fs::perms::group_exec | fs::perms::others_read |
                                                       fs::perms::others_exec);
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
        std::ofstream(experiment) << sweep(1000000).dump(2); // trains until cancelled
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
        std::ofstream(root + "/sweep.json") << sweep(6).dump(2);
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
        std::ofstream(experiment) << sweep(6).dump(2);
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
            QCOMPARE(b.host, host_name()); // recorded by the task on the node
            const store::RunDetail detail = main.get_run(b.uuid);
            QCOMPARE(detail.tags.at("slurm.state"), std::string("COMPLETED"));
            QCOMPARE(detail.tags.at("slurm.node"), host_name());
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
