// Path escapes (issue 13, item 3): names placed into rilq.output_dir are single folder names
// whatever they hold, and a relative output_dir must stay inside its root; only an absolute path
// (the user's explicit choice) may point elsewhere.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"
#include "tests/support/test_errors.h"

#include "core/run/run_outputs.h"
#include "core/run/runner.h"
#include "core/run/sweep_plan.h"
#include "core/util/path_names.h"

#include <torch/torch.h>

#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

class TestFaultPaths : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void namesBecomeOneFolderName_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("expected");
        QTest::newRow("parent climb") << "../../../X"
                                      << ".._.._.._X";
        QTest::newRow("absolute") << "/etc/passwd"
                                  << "_etc_passwd";
        QTest::newRow("dot") << "."
                             << "_";
        QTest::newRow("dot dot") << ".."
                                 << "__";
        QTest::newRow("empty") << ""
                               << "_";
        QTest::newRow("placeholder") << "{run}"
                                     << "_run_";
        QTest::newRow("backslash and control") << "a\\b\tc\nd"
                                               << "a_b_c_d";
        QTest::newRow("ordinary") << "lora_r=16,scope=model"
                                  << "lora_r=16,scope=model";
        QTest::newRow("unicode kept") << "Übung-ß"
                                      << "Übung-ß";
    }
    void namesBecomeOneFolderName() {
        QFETCH(QString, name);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(safe_path_component(name.toStdString())), expected);
    }

    void longNamesStayDistinctAndShort() {
        const std::string a(300, 'x'), b = std::string(299, 'x') + "y";
        const std::string sa = safe_path_component(a), sb = safe_path_component(b);
        QVERIFY(sa.size() <= 200);
        QVERIFY(sa != sb);
        // A multi-byte character is never cut in half: 150 ASCII bytes and 60 two-byte "é" keep
        // 20 whole "é" (190 bytes), then "-" and the hash.
        std::string accents;
        for (int i = 0; i < 60; ++i)
            accents += "\xc3\xa9";
        std::string kept;
        for (int i = 0; i < 20; ++i)
            kept += "\xc3\xa9";
        const std::string cut = safe_path_component(std::string(150, 'a') + accents);
        QCOMPARE(cut.size(), size_t{199});
        QCOMPARE(cut.substr(0, 191), std::string(150, 'a') + kept + "-");
    }

    // The repro: an experiment named ../../../X wrote outside the runs folder.
    void anExperimentNameCannotLeaveTheRoot() {
        const std::string dir = test::make_temp_dir("fault-escape");
        const std::string root = dir + "/a/b/c";
        fs::create_directories(root);
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = root;
        nlohmann::json doc = fault::tiny_experiment("../../../X");
        doc["rilq"]["output_dir"] = "{experiment}";
        const auto outcomes = run::Runner(options).run_experiment(fault::parse(doc));
        QVERIFY2(outcomes[0].status == store::RunStatus::Finished, outcomes[0].message.c_str());
        QCOMPARE(outcomes[0].output_dir, root + "/.._.._.._X");
        QVERIFY(fs::exists(root + "/.._.._.._X/run.json"));
        QVERIFY(!fs::exists(dir + "/X"));
        QVERIFY(!fs::exists(dir + "/a/X"));
    }

    void aRelativeOutputDirMustStayInside() {
        const std::string root = test::make_temp_dir("fault-root");
        for (const char* escaping : {"../elsewhere", "runs/../../elsewhere", ".", "runs/..", ""}) {
            try {
                run::resolve_output_dir(escaping, root);
                QFAIL(escaping);
            } catch (const Error& e) {
                QVERIFY2(fault::contains(e.what(), "not inside " + root), e.what());
            }
        }
        QCOMPARE(run::resolve_output_dir("runs/x/../y/", root), root + "/runs/y");
        QCOMPARE(run::resolve_output_dir("/abs/olute/../path", root), std::string("/abs/path"));
        // One folder with or without a trailing '/' (else "<dir>.checkpoint" would land inside it).
        QCOMPARE(run::resolve_output_dir("/abs/path/", root), std::string("/abs/path"));
        QCOMPARE(run::checkpoint_dir_of(run::resolve_output_dir("runs/y/", root)),
                 root + "/runs/y.checkpoint");

        // Through the Runner: refused before anything is recorded or written.
        run::RunnerOptions options;
        options.store_path = root + "/runs.db";
        options.output_base = root + "/base";
        nlohmann::json doc = fault::tiny_experiment("escape-test");
        doc["rilq"]["output_dir"] = "../{run}";
        QVERIFY_THROWS_EXCEPTION(Error, run::Runner(options).run_experiment(fault::parse(doc)));
        QVERIFY(!fs::exists(root + "/escape-test"));
        QVERIFY(!fs::exists(root + "/runs.db"));
    }

    // `rilq run --dry-run` shows the folder the Runner would use: the same escape is an error, a
    // folder the run would refuse is marked, and nothing is claimed.
    void theDryRunResolvesOutputFoldersAsTheRunnerDoes() {
        const std::string root = test::make_temp_dir("fault-plan");
        nlohmann::json doc = fault::tiny_experiment("plan-test");
        doc["rilq"]["output_dir"] = "../{run}";
        const std::string escape = test::error_of([&] { run::describe_plan(fault::parse(doc), root); });
        QVERIFY2(fault::contains(escape, "not inside " + root), escape.c_str());

        fs::create_directories(root + "/mine");
        test::write_file(root + "/mine/notes.txt", "keep me");
        doc["rilq"]["output_dir"] = "mine";
        const std::string plan = run::describe_plan(fault::parse(doc), root);
        QVERIFY2(fault::contains(plan, "output     " + root + "/mine (exists and is no run's output folder"),
                 plan.c_str());
        doc["rilq"]["output_dir"] = "runs/{run}";
        QVERIFY2(fault::contains(run::describe_plan(fault::parse(doc), root),
                                 "output     " + root + "/runs/plan-test\n"),
                 "a new folder is shown as it will be written");
        QVERIFY(!fs::exists(root + "/runs")); // a dry run creates nothing
        QVERIFY(!fs::exists(root + "/mine/" + std::string(run::kRunMarkerFile)));
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultPaths)
#include "test_fault_paths.moc"
