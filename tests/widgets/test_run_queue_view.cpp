// RunQueueView: a 4-run rank sweep goes through its states; per-run and overall progress, ETA
// (by hand from the injected clock), the buttons' signals and their enabled states.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/run_queue_view.h"

#include <QCheckBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {
QPushButton* button(QWidget& w, const QString& text) {
    for (QPushButton* b : w.findChildren<QPushButton*>())
        if (b->text() == text) return b;
    return nullptr;
}
} // namespace

class TestRunQueueView : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void durations() {
        QCOMPARE(format_duration(42.4), QString("42 s"));
        QCOMPARE(format_duration(185), QString("3 min 05 s"));
        QCOMPARE(format_duration(3720), QString("1 h 02 min"));
        QCOMPARE(format_duration(-1), QString("–"));
        QCOMPARE(run_status_name(RunStatus::Interrupted), QString("INTERRUPTED"));
    }

    void a_sweep_goes_through_the_queue() {
        RunQueueView view;
        qint64 now_ms = 0;
        view.setClock([&] { return now_ms; });
        for (int r : {2, 4, 8, 16})
            view.addRun(QString("r%1").arg(r), QString("lora_r=%1").arg(r), 400);
        QCOMPARE(view.runIds(), QStringList({"r2", "r4", "r8", "r16"}));
        QCOMPARE(view.overallPercent(), 0);
        QVERIFY(!button(view, "Cancel run")->isEnabled());
        QVERIFY(button(view, "Cancel all")->isEnabled());

        // r2 runs 100 of 400 steps; the trainer's ETA says 30 s left for it.
        view.setStatus("r2", RunStatus::Running);
        view.setProgress("r2", 100, 400, 30.0, "loss 2.31");
        QCOMPARE(view.currentRunId(), QString("r2"));
        QCOMPARE(view.progressPercent("r2"), 25);
        QCOMPARE(view.overallPercent(), 6); // 0.25 / 4 runs = 6.25%
        view.setDetail("r2", "evaluating"); // a new stage keeps the run's step and bar
        QCOMPARE(view.progressPercent("r2"), 25);
        // By hand: 30 s left for r2; r2's projected length 30 / 0.75 = 40 s; 3 scheduled -> 150 s.
        QCOMPARE(view.overallEtaSeconds(), 150.0);
        QVERIFY2(view.overallText().contains("0 of 4 runs finished") &&
                     view.overallText().contains("2 min 30 s"),
                 qPrintable(view.overallText()));
        QVERIFY(button(view, "Cancel run")->isEnabled());

        // r2 finishes after 50 s of wall clock (early stop at step 300); r4 starts.
        now_ms = 50'000;
        view.setProgress("r2", 300, 400, 0.0);
        view.setStatus("r2", RunStatus::Finished, "early stop at 300");
        QCOMPARE(view.progressPercent("r2"), 100);
        view.setProgress("r4", 200, 400, 20.0); // starting by progress alone marks it RUNNING
        QCOMPARE(view.status("r4"), RunStatus::Running);
        // (1 + 0.5) / 4 = 37.5%; ETA 20 s + 2 scheduled x mean finished duration 50 s = 120 s.
        QCOMPARE(view.overallPercent(), 37);
        QCOMPARE(view.overallEtaSeconds(), 120.0);

        // Cancel asks for the running run only; the view does not change state by itself.
        QSignalSpy cancel(&view, &RunQueueView::cancelRunRequested);
        QSignalSpy cancel_all(&view, &RunQueueView::cancelAllRequested);
        button(view, "Cancel run")->click();
        QCOMPARE(cancel.count(), 1);
        QCOMPARE(cancel.at(0).at(0).toString(), QString("r4"));
        QCOMPARE(view.status("r4"), RunStatus::Running);
        now_ms = 60'000;
        view.setStatus("r4", RunStatus::Killed, "cancelled by user");
        QCOMPARE(view.progressPercent("r4"), 50); // its bar stops where it was cancelled
        view.setStatus("r8", RunStatus::Failed, "loss is NaN at step 40");
        button(view, "Cancel all")->click();
        QCOMPARE(cancel_all.count(), 1);
        QCOMPARE(view.overallPercent(), 37); // (1 + 0.5 + 0 + 0) / 4: work done, not runs ended
        QVERIFY(!button(view, "Cancel run")->isEnabled());

        // Pause between runs: a toggle with its own signal.
        QSignalSpy pause(&view, &RunQueueView::pauseBetweenRunsChanged);
        view.findChild<QCheckBox*>()->click();
        QCOMPARE(pause.count(), 1);
        QCOMPARE(pause.at(0).at(0).toBool(), true);
        QVERIFY(view.pauseBetweenRuns());
        view.setPauseBetweenRuns(false); // from code: no signal back
        QCOMPARE(pause.count(), 1);

        view.setStatus("r16", RunStatus::Running);
        view.setProgress("r16", 120, 400, 84.0, "loss 1.97 · 1.2k tok/s");
        QCOMPARE(view.overallEtaSeconds(), 84.0); // nothing scheduled after it
        QVERIFY(rilq::test::show_offscreen(&view, QSize(820, 260)));
        QVERIFY(rilq::test::save_screenshot(&view, "run_queue"));
        view.setStatus("r16", RunStatus::Finished);
        QCOMPARE(view.overallPercent(), 62); // (1 + 0.5 + 0 + 1) / 4
        QCOMPARE(view.overallText(), QString("2 of 4 runs finished · 1 failed · 1 killed · 62%"));
        QVERIFY(!button(view, "Cancel all")->isEnabled());
    }
};

RILQ_TEST_MAIN(TestRunQueueView)
#include "test_run_queue_view.moc"
