// A tiny real run started from the window (stories260K from ../shared/data): points reach the
// live chart, a cancel ends the run KILLED in the store, the browser reopens it; the GUI thread
// never stalls while the worker trains.
#include "app/gui/app_paths.h"
#include "app/gui/main_window.h"
#include "app/gui/run_worker.h"
#include "core/store/run_store.h"
#include "core/util/runtime.h"
#include "tests/support/test_support.h"
#include "tiny_gui_experiment.h"
#include "widget_test_support.h"
#include "widgets/experiment_form.h"
#include "widgets/live_curves.h"
#include "widgets/run_browser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QLineEdit>
#include <QMessageBox>
#include <QElapsedTimer>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq;
class TestGuiRun : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        configure_threads(0);                     // RILQ_THREADS=1 under CTest
        if (!QFile::exists(QString::fromStdString(rilq::test::shared_data("stories260K/stories260K.bin"))))
            QSKIP("no ../shared/data");
    }

    // A corrupt store given to a window without dialogs (--screenshot) is reported and counted,
    // never a modal box that waits forever.
    void corruptStoreWithoutDialogsIsReportedNotModal() {
        QTemporaryDir dir;
        const QString path = dir.filePath("corrupt.sqlite");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(4096, '\x5a')); // not a SQLite header
        file.close();
        gui::MainWindow window(path, gui::MainWindow::Interaction::WithoutDialogs);
        QVERIFY(window.errorCount() >= 1); // each view that reads the store says so
        const auto entries = window.log()->entries();
        QVERIFY(std::any_of(entries.begin(), entries.end(), [&](const widgets::LogEntry& e) {
            return e.level == widgets::LogLevel::Error && e.message.contains(path);
        }));
        QCOMPARE(file.size(), qint64{4096}); // the user's file is left as it was
    }

    // The log dock can be closed and reopened from View -> Log, and starts a few lines tall.
    void logDockFromTheViewMenu() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        window.resize(1400, 900);
        rilq::test::show_offscreen(&window, QSize(1400, 900));
        QVERIFY(window.logDock()->isVisible());
        QVERIFY2(window.logDock()->height() < window.height() / 5,
                 qPrintable(QString::number(window.logDock()->height())));
        QAction* toggle = nullptr;
        for (QAction* menu : window.menuBar()->actions())
            if (menu->text().remove('&') == "View")
                for (QAction* a : menu->menu()->actions())
                    if (a->text().remove('&') == "Log") toggle = a;
        QVERIFY(toggle);
        toggle->trigger();
        QVERIFY(!window.logDock()->isVisible());
        toggle->trigger();
        QVERIFY(window.logDock()->isVisible());
    }

    // Edits mark the title; closing asks Save / Discard / Cancel, and Cancel keeps the window.
    void unsavedEditsAreMarkedAndAskedAbout() {
        QTemporaryDir dir;
        const QString path = dir.filePath("edited.json");
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray::fromStdString(rilq::test::tiny_gui_experiment(4).dump(2)));
        }
        gui::MainWindow window(dir.filePath("runs.sqlite"));
        QVERIFY(window.openExperiment(path));
        rilq::test::show_offscreen(&window, QSize(1400, 900));
        QCOMPARE(window.windowTitle(), QString("edited.json[*] - RILQ Workbench"));
        QVERIFY(!window.isWindowModified());
        auto* name = qobject_cast<QLineEdit*>(window.form()->fieldWidget("name"));
        QVERIFY(name);
        QTest::keyClicks(name, "-2");
        QVERIFY(window.isWindowModified());
        const auto answer_next_box = [](QMessageBox::StandardButton button) {
            QTimer::singleShot(0, [button] {
                auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
                if (box) box->button(button)->click();
            });
        };
        answer_next_box(QMessageBox::Cancel);
        QVERIFY(!window.close());
        QVERIFY(window.isVisible());
        QVERIFY(window.saveExperiment(path));
        QVERIFY(!window.isWindowModified());
        QVERIFY(window.close()); // nothing unsaved: no question
    }

    // At start the window reopens the experiment open at the last close, if it still exists.
    void startupReopensTheLastExperiment() {
        QTemporaryDir dir;
        const QString last = dir.filePath("last.json");
        QFile file(last);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        QCOMPARE(gui::startup_experiment_path("given.json", last), QString("given.json"));
        QCOMPARE(gui::startup_experiment_path("", last), last);
        QCOMPARE(gui::startup_experiment_path("", dir.filePath("gone.json")), gui::default_experiment_path());
        QCOMPARE(gui::startup_experiment_path("", ""), gui::default_experiment_path());
    }

    // File -> Save chart saves the view's chart alone; views without one have none to save.
    void saveChartTakesTheViewsChart() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        rilq::test::show_offscreen(&window, QSize(1400, 900));
        QVERIFY(window.showView("setup"));
        QVERIFY(!window.currentChart());
        QVERIFY(window.showView("live"));
        QVERIFY(!window.currentChart()); // no runs: the view shows what to do, not a chart
        window.liveCurves()->addRun("a", "lora_r=4");
        QCoreApplication::processEvents();
        QCOMPARE(window.currentChart(), window.liveCurves()->plot());
    }

    // File -> Recent experiments: the opened one first, no duplicates, vanished files dropped.
    void recentExperimentsList() {
        QTemporaryDir dir;
        const auto touch = [&](const QString& name) {
            QFile f(dir.filePath(name));
            f.open(QIODevice::WriteOnly);
            return QFileInfo(f).absoluteFilePath();
        };
        const QString a = touch("a.json"), b = touch("b.json"), c = touch("c.json");
        QCOMPARE(gui::updated_recent_experiments({a, b}, c), (QStringList{c, a, b}));
        QCOMPARE(gui::updated_recent_experiments({a, b, c}, b), (QStringList{b, a, c}));
        QCOMPARE(gui::updated_recent_experiments({a, dir.filePath("gone.json"), b}, c, 2),
                 (QStringList{c, a}));
    }

    void runCancelReopen() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        window.form()->setDocument(rilq::test::tiny_gui_experiment(400));
        QVERIFY2(window.form()->isValid(), qPrintable(window.form()->issues().value(0).message));
        QSignalSpy finished(&window, &gui::MainWindow::runsFinished);
        QSignalSpy points(window.worker(), &gui::RunWorker::curvePoints);
        QVERIFY(window.startRuns());
        // Cancel once rank 2 trains (rank 0 trains nothing) and points have reached the chart.
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || points.count() >= 3, 600000);
        window.cancelRuns();
        QVERIFY(finished.wait(600000) || !finished.isEmpty());
        int drawn = 0;
        for (const QString& id : window.liveCurves()->runIds())
            drawn += window.liveCurves()->pointCount(id, widgets::CurveKind::TrainTotal);
        QVERIFY(drawn > 0);
        store::StoreOptions ro;
        ro.mode = store::Database::Mode::ReadOnly;
        store::RunStore s(dir.filePath("runs.sqlite").toStdString(), ro);
        store::RunFilter killed;
        killed.status = store::RunStatus::Killed;
        const auto runs = s.list_runs(killed);
        QVERIFY(!runs.empty());
        window.browser()->refresh();
        const QString uuid = QString::fromStdString(runs.front().uuid);
        QVERIFY(window.browser()->visibleRunIds().contains(uuid));
        window.liveCurves()->clearRuns();
        window.openRun(uuid);
        QVERIFY(window.liveCurves()->hasRun(uuid));
    }

    // A chained fine-tuning stage draws its own curves while it trains (its toggles and legend keys
    // appear with them), and a reopened run shows the same points from the store.
    void finetuneStageCurvesAreLive() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        widgets::LiveCurves* curves = window.liveCurves();
        QVERIFY(!curves->finetuneKindsShown()); // a RILQ-only chart has no fine-tuning clutter
        window.form()->setDocument(rilq::test::tiny_chain_experiment());
        QVERIFY2(window.form()->isValid(), qPrintable(window.form()->issues().value(0).message));
        QSignalSpy finished(&window, &gui::MainWindow::runsFinished);
        int sft_points_while_running = 0;
        connect(window.worker(), &gui::RunWorker::curvePoints, this,
                [&](const QVector<widgets::CurveBatch>& batches) {
                    for (const auto& b : batches)
                        if (b.kind == widgets::CurveKind::SftTrain)
                            sft_points_while_running += b.points.size();
                });
        QVERIFY(window.startRuns());
        QVERIFY(finished.wait(600000) || !finished.isEmpty());
        QCOMPARE(sft_points_while_running, 6); // one per fine-tuning update, live
        QCOMPARE(curves->runIds().size(), 1);
        const QString uuid = curves->runIds().front();
        QCOMPARE(curves->pointCount(uuid, widgets::CurveKind::SftTrain), 6);
        // Evaluated before the first update and after updates 2, 4 and 6.
        QCOMPARE(curves->pointCount(uuid, widgets::CurveKind::SftValidation), 4);
        QVERIFY(curves->pointCount(uuid, widgets::CurveKind::TrainTotal) > 0); // RILQ's stay RILQ's
        QVERIFY(curves->finetuneKindsShown());
        QVERIFY(!curves->smoothedGraph(uuid, widgets::CurveKind::SftValidation)); // measured, not smoothed
        // What the store recorded is what was drawn: reopening gives the same curves.
        const auto live = rilq::test::values_of(curves->rawGraph(uuid, widgets::CurveKind::SftTrain));
        curves->clearRuns();
        window.openRun(uuid);
        QCOMPARE(rilq::test::values_of(curves->rawGraph(uuid, widgets::CurveKind::SftTrain)), live);
        QCOMPARE(curves->pointCount(uuid, widgets::CurveKind::SftValidation), 4);
    }

    // Responsiveness is asserted structurally, not by a time limit (timings belong in benchmarks):
    // GUI-thread ticks during training must see the live curve grow step by step. If training
    // blocked the GUI thread, no tick would run until the end and they would see one value only.
    void guiStaysResponsive() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        rilq::test::show_offscreen(&window, QSize(1200, 800));
        window.form()->setDocument(rilq::test::tiny_gui_experiment(16));
        QSignalSpy finished(&window, &gui::MainWindow::runsFinished);
        QElapsedTimer clock;
        qint64 last = 0, worst = 0;
        std::set<int> seen_point_counts;
        QTimer tick;
        tick.setInterval(10);
        connect(&tick, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            worst = std::max(worst, now - last);
            last = now;
            if (!finished.isEmpty()) return;
            int drawn = 0;
            for (const QString& id : window.liveCurves()->runIds())
                drawn += window.liveCurves()->pointCount(id, widgets::CurveKind::TrainTotal);
            seen_point_counts.insert(drawn);
        });
        QVERIFY(window.startRuns());
        clock.start();
        tick.start();
        QVERIFY(finished.wait(600000));
        tick.stop();
        qInfo("largest gap between 10 ms GUI-thread ticks while training: %lld ms; %zu distinct curve "
              "lengths seen",
              static_cast<long long>(worst), seen_point_counts.size());
        QVERIFY2(seen_point_counts.size() >= 4,
                 qPrintable(QString("the GUI thread saw only %1 curve lengths while training")
                                .arg(seen_point_counts.size())));
    }
};

RILQ_TEST_MAIN(TestGuiRun)
#include "test_gui_run.moc"
