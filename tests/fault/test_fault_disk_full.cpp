// A full disk (issue 13, item 4). Checkpointing used to abort the process (torch::save throws
// from a stream writer's destructor), leaving the run INTERRUPTED and its temp folder filling
// the disk. Now the run ends FAILED with "disk full" naming the folder, every temp file is
// removed, the previous checkpoint stays intact (and resumes), and a full disk while saving the
// outputs fails the same way. Once with an injected write failure (always runs), once on a real
// full file system (a small tmpfs; needs root, skipped otherwise).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"

#include "core/rilq/checkpoint.h"
#include "core/run/run_outputs.h"
#include "core/run/runner.h"
#include "core/store/run_store.h"
#include "core/util/checked_file.h"

#include <torch/torch.h>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/mount.h>
#include <unistd.h>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// Temp siblings (".tmp-", ".old-") anywhere under `root`.
std::vector<std::string> leftovers(const std::string& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos)
            out.push_back(e.path().string());
    }
    return out;
}

// Fills the file system holding `dir` until a write fails with ENOSPC.
void fill_disk(const std::string& dir) {
    const int fd = ::open((dir + "/filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    QVERIFY(fd >= 0);
    const std::string chunk(4096, 'f');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    const int err = errno;
    ::close(fd);
    QCOMPARE(err, ENOSPC);
}

struct Tmpfs {
    std::string dir;
    bool mounted = false;
    explicit Tmpfs(const std::string& where) : dir(where) {
        fs::create_directories(dir);
        mounted = ::geteuid() == 0 && ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=8m") == 0;
    }
    ~Tmpfs() {
        if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
    }
};

// A rank-2 run with validations (and checkpoints) at updates 2, 4, 6, 8; `at_second_checkpoint`
// runs right before the checkpoint of update 4 is written, `at_save` before the outputs are.
run::RunOutcome run_with(const std::string& base, const std::string& store,
                         const std::function<void()>& at_second_checkpoint,
                         const std::function<void()>& at_save) {
    run::RunnerOptions options;
    options.store_path = store;
    options.output_base = base;
    options.on_event = [&](const run::RunnerEvent& e) {
        if (e.kind == run::RunnerEvent::Kind::Train && e.train.kind == TrainEventKind::Validation &&
            e.train.update_step == 4 && at_second_checkpoint)
            at_second_checkpoint();
        if (e.kind == run::RunnerEvent::Kind::Stage && e.stage == run::RunStage::Save && at_save) at_save();
    };
    return run::Runner(options)
        .run_experiment(fault::parse(fault::tiny_experiment("disk-test", 2, 8)))
        .front();
}

void expect_disk_full(const run::RunOutcome& o, const std::string& store, const std::string& folder) {
    QVERIFY2(o.status == store::RunStatus::Failed, o.message.c_str());
    QVERIFY2(fault::contains(o.message, "disk full"), o.message.c_str());
    QVERIFY2(fault::contains(o.message, folder), o.message.c_str());
    store::RunStore db(store);
    const auto summary = db.get_run(o.uuid).summary;
    QVERIFY(summary.status == store::RunStatus::Failed);
    QCOMPARE(summary.status_message, o.message);
}

} // namespace

class TestFaultDiskFull : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }
    void cleanup() { inject_write_failure_after(-1, 0); }

    void injectedFullDiskAtACheckpoint() {
        const std::string dir = test::make_temp_dir("fault-full-ckpt");
        const std::string out = dir + "/out/disk-test/disk-test";
        const auto o = run_with(dir, dir + "/runs.db", [] { inject_write_failure_after(100, ENOSPC); }, {});
        inject_write_failure_after(-1, 0);
        expect_disk_full(o, dir + "/runs.db", out + ".checkpoint");
        const auto left = leftovers(dir);
        QVERIFY2(left.empty(), left.empty() ? "" : left.front().c_str());
        // The checkpoint of update 2 is intact, and the run resumes from it to the end.
        QCOMPARE(read_checkpoint(out + ".checkpoint").update_step, int64_t{2});
        const auto resumed = run::Runner(fault::runner_options_in(dir)).resume(o.uuid);
        QVERIFY2(resumed.status == store::RunStatus::Finished, resumed.message.c_str());
        QCOMPARE(resumed.train.micro_steps, int64_t{8});
    }

    void injectedFullDiskWhileSavingOutputs() {
        const std::string dir = test::make_temp_dir("fault-full-save");
        const std::string out = dir + "/out/disk-test/disk-test";
        const auto o = run_with(dir, dir + "/runs.db", {}, [] { inject_write_failure_after(4096, ENOSPC); });
        inject_write_failure_after(-1, 0);
        expect_disk_full(o, dir + "/runs.db", out);
        const auto left = leftovers(dir);
        QVERIFY2(left.empty(), left.empty() ? "" : left.front().c_str());
        QVERIFY(!fs::exists(out));                       // claimed, nothing written: given back
        QVERIFY(is_checkpoint_dir(out + ".checkpoint")); // FAILED runs keep their checkpoint
    }

    void realFullTmpfsAtACheckpoint() {
        const std::string dir = test::make_temp_dir("fault-full-tmpfs");
        Tmpfs disk(dir + "/small");
        if (!disk.mounted)
            QSKIP("needs root to mount a small tmpfs (the injected failure above always runs)");
        const std::string out = disk.dir + "/out/disk-test/disk-test";
        const auto o = run_with(disk.dir, dir + "/runs.db", [&] { fill_disk(disk.dir); }, {});
        expect_disk_full(o, dir + "/runs.db", out + ".checkpoint");
        fs::remove(disk.dir + "/filler");
        const auto left = leftovers(disk.dir);
        QVERIFY2(left.empty(), left.empty() ? "" : left.front().c_str());
        QCOMPARE(read_checkpoint(out + ".checkpoint").update_step, int64_t{2});
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultDiskFull)
#include "test_fault_disk_full.moc"
