// A tiny real run started from the window (stories260K from ../shared/data): points reach the
// live chart, a cancel ends the run KILLED in the store, the browser reopens it; the GUI thread
// never stalls while the worker trains.
#include "app/gui/main_window.h"
#include "app/gui/run_worker.h"
#include "core/store/run_store.h"
#include "core/util/runtime.h"
#include "tests/support/test_support.h"
#include "widget_test_support.h"
#include "widgets/experiment_form.h"
#include "widgets/live_curves.h"
#include "widgets/run_browser.h"

#include <nlohmann/json.hpp>

#include <set>

#include <QElapsedTimer>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq;
using nlohmann::json;

namespace {

json tiny_experiment(int steps) {
    QFile file(
        QString::fromStdString(rilq::test::test_data("../../experiments/stories260k-rank-sweep.json")));
    if (!file.open(QIODevice::ReadOnly)) return {};
    json doc = json::parse(file.readAll().toStdString());
    doc["name"] = "gui-tiny";
    doc["data_root"] = rilq::test::shared_data();
    doc["rilq"]["lora_r"] = json::parse("[0, 2]");
    doc["rilq"]["approx_total_steps"] = steps;
    doc["rilq"]["calib_num_samples"] = 20;
    doc["rilq"]["calib_max_length"] = 64;
    doc["rilq"]["approx_eval_steps"] = 1;
    doc["rilq"]["gradient_accumulation_steps"] = 1;
    doc["eval"]["seqlen"] = 64;
    doc["datasets"]["tinystories_eval"]["max_windows"] = 4;
    return doc;
}

} // namespace

class TestGuiRun : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        configure_threads(0);                     // RILQ_THREADS=1 under CTest
        if (!QFile::exists(QString::fromStdString(rilq::test::shared_data("stories260K/stories260K.bin"))))
            QSKIP("no ../shared/data");
    }

    void runCancelReopen() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"));
        window.setInteractive(false);
        window.form()->setDocument(tiny_experiment(400));
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

    // Responsiveness is asserted structurally, not by a time limit (timings belong in benchmarks):
    // GUI-thread ticks during training must see the live curve grow step by step. If training
    // blocked the GUI thread, no tick would run until the end and they would see one value only.
    void guiStaysResponsive() {
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"));
        window.setInteractive(false);
        rilq::test::show_offscreen(&window, QSize(1200, 800));
        window.form()->setDocument(tiny_experiment(16));
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
