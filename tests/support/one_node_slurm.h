// A real one-node Slurm cluster for the tests that submit to one (tests/test_slurm_cluster.cpp,
// tests/widgets/test_gui_slurm.cpp): munged, slurmctld and slurmd started in a folder of the
// test's, on the loopback address and free ports, everything (state, spool, logs, munge key and
// socket) under that folder. Needs root and the Debian packages slurmctld, slurmd, slurm-client
// and munge (scripts/setup.sh installs them); slurm_missing_requirement() says why not otherwise,
// for the test's QSKIP. The cluster is an object: its destructor cancels every job and stops the
// daemons, even when a check failed; if the test process dies, the daemons get SIGTERM
// (PR_SET_PDEATHSIG).
// Also the one small experiment every cluster test runs, and the rilq process they start.
#pragma once
#include "tests/fault/fault_binaries.h"
#include "tests/support/test_support.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rilq::test {

// A Slurm or munge program, also where Debian puts the daemons (/usr/sbin); "" when missing.
inline QString slurm_program(const char* name) {
    QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
    if (path.isEmpty())
        path = QStandardPaths::findExecutable(QString::fromLatin1(name), {"/usr/sbin", "/sbin"});
    return path;
}

// Why the cluster cannot start here ("" when it can).
inline QString slurm_missing_requirement() {
    if (::geteuid() != 0) return QStringLiteral("needs root (slurmd and munged run as root here)");
    for (const char* p :
         {"munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"})
        if (slurm_program(p).isEmpty())
            return QStringLiteral(
                       "%1 not found: install slurmctld, slurmd, slurm-client and munge (scripts/setup.sh)")
                .arg(QString::fromLatin1(p));
    return {};
}

// A TCP port nobody listens on right now, on the loopback address.
inline int free_loopback_port() {
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

// This machine's name: the cluster's only node, and the host a task records.
inline std::string host_name() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

inline std::string slurm_log_tail(const std::string& path, size_t bytes = 2000) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// munged wants every folder on its socket's path open to all (a test's own temp folder is not).
inline void open_folder_to_all(const std::string& dir) {
    namespace fs = std::filesystem;
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

class OneNodeCluster {
  public:
    explicit OneNodeCluster(const std::string& dir) : dir_(dir) {
        namespace fs = std::filesystem;
        // munged checks that its socket folder is reachable by everyone and its key private.
        fs::create_directories(dir_);
        open_folder_to_all(dir_);
        for (const char* sub : {"munge", "munge-key", "state", "spool", "log"})
            fs::create_directories(dir_ + "/" + sub);
        fs::permissions(dir_ + "/munge-key", fs::perms::owner_all);
        open_folder_to_all(dir_ + "/munge");
        conf_ = dir_ + "/slurm.conf";
        const std::string host = host_name();
        const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
        std::ofstream(conf_)
            << "ClusterName=rilqci\n"
            << "SlurmctldHost=" << host << "(127.0.0.1)\n"
            << "SlurmctldPort=" << free_loopback_port() << "\nSlurmdPort=" << free_loopback_port() << "\n"
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
        key.start(slurm_program("mungekey"),
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
            error_ = "munged did not start: " + slurm_log_tail(dir_ + "/log/munged.log");
            return;
        }
        start("slurmctld", {"-D", "-c", "-i", "-f", QString::fromStdString(conf_)});
        start("slurmd", {"-D", "-f", QString::fromStdString(conf_)});
        if (!wait_for([&] { return sinfo().contains(QStringLiteral("idle")); }, 60))
            error_ = "the node did not come up: " + slurm_log_tail(dir_ + "/log/slurmctld.log") + "\n" +
                     slurm_log_tail(dir_ + "/log/slurmd.log");
    }

    ~OneNodeCluster() {
        // Jobs first (a task left running would outlive slurmd), then the daemons, newest first.
        QProcess cancel;
        cancel.setProcessEnvironment(env_);
        cancel.start(slurm_program("scancel"), {"--user=root"});
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
    OneNodeCluster(const OneNodeCluster&) = delete;
    OneNodeCluster& operator=(const OneNodeCluster&) = delete;

    const std::string& error() const { return error_; }
    const std::string& conf() const { return conf_; } // what SLURM_CONF must name
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
        p.start(slurm_program(program), args);
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
        p->start(slurm_program(program), args);
        p->waitForStarted(10000);
        daemons_.push_back(std::move(p));
    }

    std::string dir_, conf_, error_;
    QProcessEnvironment env_;
    std::vector<std::unique_ptr<QProcess>> daemons_;
};

// Two ranks of stories260K, `micro_steps` micro-steps each on a tiny calibration set: seconds
// per point (tests/data/slurm/stories260k-tiny-sweep.json, data from ../shared/data).
inline nlohmann::json slurm_tiny_sweep(int micro_steps) {
    nlohmann::json doc = nlohmann::json::parse(read_file(test_data("slurm/stories260k-tiny-sweep.json")));
    doc["rilq"]["approx_total_steps"] = micro_steps;
    doc["data_root"] = shared_data();
    return doc;
}

// The built rilq started in `working_dir` with `args`, on one thread (every run the cluster tests
// compare bit for bit runs with the same thread count), stdout and stderr merged.
inline std::unique_ptr<QProcess> start_rilq(const QStringList& args, const std::string& working_dir,
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

} // namespace rilq::test
