// Output folders (issue 13, items 1 and 2): a run replaces only its own earlier output. A user's
// folder given as output_dir (or the working directory) is an error naming it before anything
// runs, and nothing in it changes; a folder of another run is kept and the new run writes beside
// it, so two runs never share a folder and the first run's recorded sha256 stay true.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"

#include "core/run/run_outputs.h"
#include "core/run/runner.h"
#include "core/store/run_store.h"
#include "core/util/sha256.h"

#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <thread>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

size_t runs_in(const std::string& store_path) {
    if (!fs::exists(store_path)) return 0;
    store::StoreOptions read_only;
    read_only.mode = store::Database::Mode::ReadOnly;
    return store::RunStore(store_path, read_only).list_runs().size();
}

} // namespace

class TestFaultOutputDirs : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    // The repro: output_dir=victim with victim/keep.txt; the run used to exit 0 and
    // delete keep.txt.
    void aUsersFolderIsRefusedBeforeAnyWork() {
        const std::string dir = test::make_temp_dir("fault-victim");
        fs::create_directories(dir + "/victim");
        test::write_file(dir + "/victim/keep.txt", "x");
        nlohmann::json doc = fault::tiny_experiment("victim-test");
        doc["rilq"]["output_dir"] = "victim";
        try {
            run::Runner(fault::runner_options_in(dir)).run_experiment(fault::parse(doc));
            QFAIL("a run was allowed to replace a user's folder");
        } catch (const Error& e) {
            QVERIFY2(fault::contains(e.what(), dir + "/victim"), e.what());
            QVERIFY2(fault::contains(e.what(), "not a run's output folder"), e.what());
        }
        QCOMPARE(test::read_file(dir + "/victim/keep.txt"), std::string("x"));
        QCOMPARE(runs_in(dir + "/runs.db"), size_t{0}); // refused before any point was recorded
    }

    // output_dir "." is the folder that holds the experiment file: never a run's output folder.
    void theWorkingDirectoryIsRefused() {
        const std::string dir = test::make_temp_dir("fault-dot");
        test::write_file(dir + "/experiment.json", "{}");
        nlohmann::json doc = fault::tiny_experiment("dot-test");
        doc["rilq"]["output_dir"] = ".";
        QVERIFY_THROWS_EXCEPTION(
            Error, run::Runner(fault::runner_options_in(dir)).run_experiment(fault::parse(doc)));
        // Absolute, so taken as given: still refused, the folder holds the user's files.
        doc["rilq"]["output_dir"] = dir;
        QVERIFY_THROWS_EXCEPTION(
            Error, run::Runner(fault::runner_options_in(dir)).run_experiment(fault::parse(doc)));
        QCOMPARE(test::read_file(dir + "/experiment.json"), std::string("{}"));
        QCOMPARE(runs_in(dir + "/runs.db"), size_t{0});
    }

    // run_point (the GUI's and the tests' entry) checks as well, before it records anything.
    void aSinglePointChecksToo() {
        const std::string dir = test::make_temp_dir("fault-point");
        fs::create_directories(dir + "/mine");
        test::write_file(dir + "/mine/notes.txt", "keep me");
        nlohmann::json doc = fault::tiny_experiment("point-test");
        doc["rilq"]["output_dir"] = "mine";
        const run::ExperimentConfig experiment = fault::parse(doc);
        QVERIFY_THROWS_EXCEPTION(
            Error, run::Runner(fault::runner_options_in(dir)).run_point(experiment.runs.front()));
        QCOMPARE(test::read_file(dir + "/mine/notes.txt"), std::string("keep me"));
        QCOMPARE(runs_in(dir + "/runs.db"), size_t{0});
    }

    // A user's folder where the checkpoint would go is protected the same way.
    void aUsersCheckpointNamedFolderIsRefused() {
        const std::string dir = test::make_temp_dir("fault-ckpt");
        fs::create_directories(dir + "/out/ckpt-test/ckpt-test.checkpoint");
        test::write_file(dir + "/out/ckpt-test/ckpt-test.checkpoint/data.bin", "precious");
        try {
            run::Runner(fault::runner_options_in(dir))
                .run_experiment(fault::parse(fault::tiny_experiment("ckpt-test", 2)));
            QFAIL("a user's folder named like a checkpoint was accepted");
        } catch (const Error& e) {
            QVERIFY2(fault::contains(e.what(), "ckpt-test.checkpoint"), e.what());
        }
        QCOMPARE(test::read_file(dir + "/out/ckpt-test/ckpt-test.checkpoint/data.bin"),
                 std::string("precious"));
    }

    // Item 2: the same experiment run twice (same runs/{experiment}/{run}); the second run used to
    // overwrite the first, whose recorded sha256 then no longer matched.
    void aSecondRunWritesBesideTheFirst() {
        const std::string dir = test::make_temp_dir("fault-twice");
        const auto experiment = fault::parse(fault::tiny_experiment("twice-test"));
        const auto first = run::Runner(fault::runner_options_in(dir)).run_experiment(experiment);
        const auto second = run::Runner(fault::runner_options_in(dir)).run_experiment(experiment);
        QVERIFY2(first[0].status == store::RunStatus::Finished, first[0].message.c_str());
        QVERIFY2(second[0].status == store::RunStatus::Finished, second[0].message.c_str());
        QCOMPARE(first[0].output_dir, dir + "/out/twice-test/twice-test");
        QCOMPARE(second[0].output_dir, first[0].output_dir + "-" + second[0].uuid.substr(0, 8));
        QCOMPARE(run::output_dir_owner(first[0].output_dir), first[0].uuid);
        QCOMPARE(run::output_dir_owner(second[0].output_dir), second[0].uuid);

        store::RunStore db(dir + "/runs.db");
        // The store says where each run really wrote, and every recorded file is still the one written.
        QCOMPARE(db.params(second[0].uuid).at("rilq.output_dir"), second[0].output_dir);
        for (const auto& o : {first[0], second[0]}) {
            const auto artifacts = db.artifacts(o.uuid);
            QVERIFY(!artifacts.empty());
            for (const auto& a : artifacts) {
                QVERIFY2(a.path.rfind(o.output_dir + "/", 0) == 0, a.path.c_str());
                if (!a.sha256.empty()) QCOMPARE(sha256_file(a.path), a.sha256);
            }
        }
        // A sweep whose points share one folder (no {run} in the template) gets one folder each.
        nlohmann::json shared = fault::tiny_experiment("shared-test");
        shared["rilq"]["output_dir"] = "one-folder";
        shared["rilq"]["lora_r"] = nlohmann::json::array({0, 1});
        shared["rilq"]["approx_total_steps"] = 2;
        const auto sweep = run::Runner(fault::runner_options_in(dir)).run_experiment(fault::parse(shared));
        QCOMPARE(sweep.size(), size_t{2});
        QVERIFY(sweep[0].output_dir != sweep[1].output_dir);
        QCOMPARE(run::output_dir_owner(sweep[1].output_dir), sweep[1].uuid);
    }

    // Claims are atomic: runs starting at the same moment on one folder never share it.
    void concurrentClaimsNeverShareAFolder() {
        const std::string dir = test::make_temp_dir("fault-race") + "/contested";
        constexpr int kRuns = 8;
        std::vector<std::string> uuids, claimed(kRuns), errors(kRuns);
        for (int i = 0; i < kRuns; ++i)
            uuids.push_back(std::string(24, 'a' + static_cast<char>(i)) + "00000000");
        std::vector<std::thread> threads;
        for (int i = 0; i < kRuns; ++i)
            threads.emplace_back([&, i] {
                try {
                    claimed[i] = run::claim_output_dir(dir, uuids[i], /*may_move=*/true);
                } catch (const std::exception& e) { // a claim in progress taken for a user's folder
                    errors[i] = e.what();
                }
            });
        for (auto& t : threads)
            t.join();
        for (const auto& e : errors)
            QVERIFY2(e.empty(), e.c_str());
        const std::set<std::string> distinct(claimed.begin(), claimed.end());
        QCOMPARE(distinct.size(), size_t{kRuns});
        for (int i = 0; i < kRuns; ++i)
            QCOMPARE(run::output_dir_owner(claimed[i]), uuids[i]);
    }

    // Releasing removes only a claimed folder that holds nothing else.
    void releaseLeavesAnythingWrittenAlone() {
        const std::string dir = test::make_temp_dir("fault-release");
        const std::string uuid = "0123456789abcdef0123456789abcdef";
        const std::string a = run::claim_output_dir(dir + "/a", uuid, false);
        run::release_output_dir(a, uuid);
        QVERIFY(!fs::exists(a));
        const std::string b = run::claim_output_dir(dir + "/b", uuid, false);
        test::write_file(b + "/result.txt", "1");
        run::release_output_dir(b, uuid);
        QVERIFY(fs::exists(b + "/result.txt"));
        run::release_output_dir(b, "another-run-uuid-0000000000000000"); // not its owner: no effect
        QVERIFY(fs::exists(b + "/" + run::kRunMarkerFile));
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultOutputDirs)
#include "test_fault_output_dirs.moc"
