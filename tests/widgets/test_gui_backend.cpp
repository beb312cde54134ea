// The run toolbar's backend choice (issue 18): local or Slurm, with the Slurm fields, remembered
// in the settings across windows (a restart); the Slurm settings dialog shows every field of
// core/cluster/slurm_resources.h and refuses a bad number naming the field.
#include "app/gui/main_window.h"
#include "app/gui/run_backend_choice.h"
#include "app/gui/slurm_settings_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolBar>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq;

class TestGuiBackend : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        QSettings().clear();
    }

    void choiceIsRememberedAcrossWindows() {
        QTemporaryDir dir;
        {
            gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
            auto* box = window.findChild<QComboBox*>(QStringLiteral("runBackend"));
            QVERIFY(box);
            QCOMPARE(box->count(), int(cluster::run_backend_names().size()));
            QCOMPARE(box->currentText(), QStringLiteral("local"));
            QVERIFY(window.findChild<QToolBar*>(QStringLiteral("runToolbar"))->actions().size() > 4);
            box->setCurrentIndex(box->findText(QStringLiteral("slurm")));
        }
        QCOMPARE(gui::load_backend_choice().backend, cluster::RunBackend::Slurm);

        // The dialog's fields become the saved choice.
        gui::RunBackendChoice choice = gui::load_backend_choice();
        {
            gui::SlurmSettingsDialog dialog(choice);
            dialog.field(QStringLiteral("partition"))->setText(QStringLiteral("gpu"));
            dialog.field(QStringLiteral("gres"))->setText(QStringLiteral("gpu:1"));
            dialog.field(QStringLiteral("cpus"))->setText(QStringLiteral("8"));
            dialog.field(QStringLiteral("mem"))->setText(QStringLiteral("64G"));
            dialog.field(QStringLiteral("time"))->setText(QStringLiteral("24:00:00"));
            dialog.field(QStringLiteral("max-parallel"))->setText(QStringLiteral("4"));
            dialog.sbatchArgs()->setPlainText(QStringLiteral("--qos=high\n\n--account=lab\n"));
            dialog.sharedPreparation()->setChecked(true);
            QVERIFY(dialog.read(choice, nullptr));
        }
        gui::save_backend_choice(choice);

        gui::MainWindow again(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        QCOMPARE(again.findChild<QComboBox*>(QStringLiteral("runBackend"))->currentText(),
                 QStringLiteral("slurm"));
        const gui::RunBackendChoice saved = gui::load_backend_choice();
        QCOMPARE(saved.slurm.partition, std::string("gpu"));
        QCOMPARE(saved.slurm.gres, std::string("gpu:1"));
        QCOMPARE(saved.slurm.cpus, 8);
        QCOMPARE(saved.slurm.mem, std::string("64G"));
        QCOMPARE(saved.slurm.time, std::string("24:00:00"));
        QCOMPARE(saved.slurm.max_parallel, 4);
        QCOMPARE(saved.slurm.sbatch_args, (std::vector<std::string>{"--qos=high", "--account=lab"}));
        QVERIFY(saved.shared_preparation);
        QVERIFY(gui::describe(saved).contains(QStringLiteral("partition gpu")));

        // A reopened dialog shows what was saved.
        gui::SlurmSettingsDialog reopened(saved);
        QCOMPARE(reopened.field(QStringLiteral("max-parallel"))->text(), QStringLiteral("4"));
        QCOMPARE(reopened.sbatchArgs()->toPlainText(), QStringLiteral("--qos=high\n--account=lab"));

        // Back to local: the Slurm fields stay for next time.
        again.findChild<QComboBox*>(QStringLiteral("runBackend"))->setCurrentIndex(0);
        QCOMPARE(gui::load_backend_choice().backend, cluster::RunBackend::Local);
        QCOMPARE(gui::load_backend_choice().slurm.partition, std::string("gpu"));
    }

    void badNumberIsRefusedNamingTheField() {
        gui::SlurmSettingsDialog dialog(gui::RunBackendChoice{});
        dialog.field(QStringLiteral("cpus"))->setText(QStringLiteral("eight"));
        gui::RunBackendChoice choice;
        QString error;
        QVERIFY(!dialog.read(choice, &error));
        QVERIFY2(error.contains(QStringLiteral("--cpus")) && error.contains(QStringLiteral("eight")),
                 qPrintable(error));
    }
};

RILQ_TEST_MAIN(TestGuiBackend)
#include "test_gui_backend.moc"
