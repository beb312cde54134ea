// The run store under hostile use (issue 13, item 8): read commands write nothing (no folders,
// no empty store), a store on read-only media can be listed, and `runs delete` refuses a run
// that a live process is still writing unless --force.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"
#include "tests/support/cli_capture.h"

#include "app/cli/commands.h"
#include "core/store/run_store.h"

#include <filesystem>
#include <sys/mount.h>
#include <unistd.h>

using namespace rilq;
using rilq::fault::q;
namespace fs = std::filesystem;

namespace {

std::string record_run(store::RunStore& db, const std::string& name) {
    store::NewRun run;
    run.experiment = "store-test";
    run.name = name;
    const std::string uuid = db.create_run(run);
    db.start_run(uuid);
    db.log_metrics(uuid, 1, {{"v_loss", 0.5}});
    return uuid;
}

} // namespace

class TestFaultStore : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void readCommandsCreateNothing() {
        const std::string dir = test::make_temp_dir("fault-store-none");
        const std::string store = dir + "/no/such/dir/x.db";
        const auto r = test::run_cli(cli::cmd_runs, "rilq runs", {"list", "--db", q(store)});
        QCOMPARE(r.code, 0);
        QVERIFY2(fault::contains(r.out, "no runs"), r.out.c_str());
        QVERIFY(!fs::exists(dir + "/no")); // used to create the folders and an empty store
    }

    // A store copied to read-only media (a tmpfs remounted read-only: refused even to root),
    // once closed cleanly and once with commits still in its WAL file.
    void aStoreOnReadOnlyMediaCanBeListed() {
        const std::string dir = test::make_temp_dir("fault-store-ro");
        const std::string media = dir + "/media";
        fs::create_directories(media);
        if (::geteuid() != 0 || ::mount("tmpfs", media.c_str(), "tmpfs", 0, "size=8m") != 0)
            QSKIP("needs root to mount a read-only file system");
        struct Unmount {
            std::string path;
            ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
        } unmount{media};
        std::string closed_uuid, wal_uuid;
        {
            store::RunStore db(media + "/closed.db");
            closed_uuid = record_run(db, "closed");
            db.end_run(closed_uuid, store::RunStatus::Finished);
        }
        {
            // Written elsewhere and copied while the writer is open: db, -wal and -shm together.
            store::RunStore db(dir + "/wal.db");
            wal_uuid = record_run(db, "in-wal");
            db.end_run(wal_uuid, store::RunStatus::Finished);
            QVERIFY(fs::file_size(dir + "/wal.db-wal") > 0);
            for (const char* suffix : {"", "-wal", "-shm"})
                fs::copy_file(dir + "/wal.db" + suffix, media + "/wal.db" + suffix);
        }
        QCOMPARE(::mount(nullptr, media.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
        const std::vector<std::pair<std::string, std::string>> stores = {{"closed.db", closed_uuid},
                                                                         {"wal.db", wal_uuid}};
        for (const auto& [file, uuid] : stores) {
            const auto r = test::run_cli(cli::cmd_runs, "rilq runs", {"list", "--db", q(media + "/" + file)});
            QVERIFY2(r.code == 0, (file + ": " + r.err).c_str());
            QVERIFY2(fault::contains(r.out, uuid.substr(0, 12)) && fault::contains(r.out, "FINISHED"),
                     r.out.c_str());
            const auto show =
                test::run_cli(cli::cmd_runs, "rilq runs", {"show", q(uuid), "--db", q(media + "/" + file)});
            QVERIFY2(show.code == 0, show.err.c_str());
        }
    }

    void deleteRefusesARunOfALiveProcess() {
        const std::string dir = test::make_temp_dir("fault-store-delete");
        const std::string store = dir + "/runs.db";
        std::string uuid;
        {
            store::RunStore db(store);
            uuid = record_run(db, "live"); // RUNNING, pid = this test: alive
        }
        auto r = test::run_cli(cli::cmd_runs, "rilq runs", {"delete", q(uuid), "--yes", "--db", q(store)});
        QCOMPARE(r.code, 1);
        QVERIFY2(fault::contains(r.err, "RUNNING") && fault::contains(r.err, "--force"), r.err.c_str());
        {
            store::RunStore db(store);
            QVERIFY(db.get_run(uuid).summary.status == store::RunStatus::Running);
            QVERIFY_THROWS_EXCEPTION(Error, db.delete_run(uuid)); // the core refuses as well
        }
        r = test::run_cli(cli::cmd_runs, "rilq runs",
                          {"delete", q(uuid), "--yes", "--force", "--db", q(store)});
        QCOMPARE(r.code, 0);
        store::RunStore db(store);
        QVERIFY(db.list_runs().empty());
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultStore)
#include "test_fault_store.moc"
