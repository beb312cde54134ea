// The GUI under bad input (issue 13, items 5 and 8): `rilq-workbench --screenshot` with a corrupt
// run store used to hang forever on a modal error dialog, and a deeply nested experiment file
// crashed it. Both now end the screenshot run (exit 1), the errors going to stderr and the log panel.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"

#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// The workbench in screenshot mode, with its settings and data folder inside `dir`.
fault::ProcessResult screenshot(const std::string& dir, const std::string& experiment,
                                const std::string& store) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), QString::fromStdString(dir + "/config"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), QString::fromStdString(dir + "/data"));
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.remove(QStringLiteral("RILQ_DB"));
    return fault::run_process(fault::workbench_binary(),
                              {QString::fromStdString(experiment), QStringLiteral("--db"),
                               QString::fromStdString(store), QStringLiteral("--screenshot"),
                               QString::fromStdString(dir + "/shots")},
                              90000, QString(), env);
}

} // namespace

class TestFaultGui : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void init() {
        if (fault::workbench_binary().isEmpty()) QSKIP("the GUI is not built (RILQ_BUILD_GUI=OFF)");
    }

    void screenshotsOfACorruptStoreDoNotHang() {
        const std::string dir = test::make_temp_dir("fault-gui-store");
        test::write_file(dir + "/runs.sqlite", std::string(8192, '\x5a')); // not a database
        const std::string experiment = fault::write_experiment(dir, fault::tiny_experiment("gui-test"));
        const auto r = screenshot(dir, experiment, dir + "/runs.sqlite");
        QVERIFY2(r.finished, "rilq-workbench --screenshot hung (a modal dialog?)");
        // The error goes to stderr (and the log panel) and makes the exit code 1.
        QVERIFY2(!r.crashed && r.exit_code == 1, r.err.c_str());
        QVERIFY2(fault::contains(r.err, dir + "/runs.sqlite"), r.err.c_str());
        QVERIFY(fs::exists(dir + "/shots/runs.png"));
        QCOMPARE(test::read_file(dir + "/runs.sqlite"), std::string(8192, '\x5a')); // left as it was
    }

    void aDeeplyNestedExperimentDoesNotCrash() {
        const std::string dir = test::make_temp_dir("fault-gui-json");
        test::write_file(dir + "/deep.json",
                         "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
        const auto r = screenshot(dir, dir + "/deep.json", dir + "/runs.sqlite");
        QVERIFY2(r.finished, "rilq-workbench --screenshot hung");
        QVERIFY2(!r.crashed && r.exit_code == 1, r.err.c_str());
        QVERIFY2(fault::contains(r.err, "nested deeper than 64 levels"), r.err.c_str());
        QVERIFY(fs::exists(dir + "/shots/setup.png"));
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultGui)
#include "test_fault_gui.moc"
