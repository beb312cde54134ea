// LiveCurves driven like the trainer drives it: batches of points for several runs, validation
// every 25 steps, early stopping; checks what ends up in the chart, not just that it runs.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/live_curves.h"
#include "widgets/live_curves_toolbar.h"
#include "widgets/qcustomplot_include.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QThread>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>
#include <random>

using namespace rilq::widgets;

namespace {
using rilq::test::keys_of;
using rilq::test::values_of;
constexpr int kSteps = 500;
constexpr int kEvalEvery = 25;
// Validation falls to its minimum 1.2 at step 350 and rises after: with patience 5, early
// stopping ends the run at step 475 (375 ... 475 are five validations without improvement).
constexpr double kBestStep = 350;
constexpr double kBestValue = 1.2;

double wall_time_s(double step) {
    return 2.0 + 0.37 * step;
}

struct SyntheticRun {
    QVector<CurvePoint> model, gt, total, validation;
};

// Shapes like a RILQ run on a tiny model: MSE part falls fast, CE part slowly, plus noise.
SyntheticRun make_run(double scale, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.04);
    SyntheticRun r;
    for (int s = 1; s <= kSteps; ++s) {
        const double model = scale * (0.05 + 0.75 * std::exp(-s / 60.0)) * (1 + noise(rng));
        const double gt = 2.1 + 1.4 * std::exp(-s / 150.0) + noise(rng);
        r.model.push_back({double(s), wall_time_s(s), model});
        r.gt.push_back({double(s), wall_time_s(s), gt});
        r.total.push_back({double(s), wall_time_s(s), 0.5 * model + 0.5 * gt});
        if (s % kEvalEvery == 0) {
            const double v = kBestValue * scale + std::pow((s - kBestStep) / 250.0, 2);
            r.validation.push_back({double(s), wall_time_s(s), v});
        }
    }
    return r;
}

// Appends a run the way the worker's batcher does: chunks of `chunk` training points.
void feed(LiveCurves& view, const QString& id, const SyntheticRun& r, int chunk) {
    for (int i = 0; i < r.total.size(); i += chunk) {
        view.appendBatch({{id, CurveKind::TrainModel, r.model.mid(i, chunk)},
                          {id, CurveKind::TrainGt, r.gt.mid(i, chunk)},
                          {id, CurveKind::TrainTotal, r.total.mid(i, chunk)}});
        QVector<CurvePoint> val;
        for (const CurvePoint& p : r.validation)
            if (p.step > i && p.step <= i + chunk) val.push_back(p);
        view.appendPoints(id, CurveKind::Validation, val);
    }
}

} // namespace

// Stands in for the app's worker: emits batches from its own thread.
class BatchSource : public QObject {
    Q_OBJECT
  public:
    void emitRun(const SyntheticRun& run) {
        for (int i = 0; i < run.total.size(); i += 50)
            Q_EMIT batch({{"w", CurveKind::TrainTotal, run.total.mid(i, 50)}});
        Q_EMIT batch({{"w", CurveKind::Validation, run.validation}});
    }
  Q_SIGNALS:
    void batch(const QVector<rilq::widgets::CurveBatch>& batches);
};

class TestLiveCurves : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // No runs: the view says how to get curves; the plot comes with the first run.
    void empty_view_says_what_to_do() {
        LiveCurves curves;
        QVERIFY(curves.isEmpty());
        curves.addRun("a", "lora_r=4");
        QVERIFY(!curves.isEmpty());
        curves.removeRun("a");
        QVERIFY(curves.isEmpty());
    }

    void batches_land_in_the_graphs() {
        LiveCurves view;
        view.addRun("r8", "rank 8");
        const SyntheticRun run = make_run(1.0, 1);
        feed(view, "r8", run, 20);
        QCOMPARE(view.pointCount("r8", CurveKind::TrainTotal), kSteps);
        QCOMPARE(view.pointCount("r8", CurveKind::Validation), kSteps / kEvalEvery);
        for (CurveKind k : {CurveKind::TrainModel, CurveKind::TrainGt, CurveKind::TrainTotal}) {
            QCOMPARE(view.rawGraph("r8", k)->dataCount(), kSteps);
            QCOMPARE(view.smoothedGraph("r8", k)->dataCount(), kSteps);
        }
        QVERIFY(view.smoothedGraph("r8", CurveKind::Validation) == nullptr);
        const QCPGraph* total = view.rawGraph("r8", CurveKind::TrainTotal);
        QCOMPARE(total->data()->at(0)->key, 1.0);
        QCOMPARE(total->data()->at(kSteps - 1)->key, double(kSteps));
        for (int i = 0; i < kSteps; ++i)
            QCOMPARE(total->data()->at(i)->value, run.total[i].value);
        // A run id never added is created on first append.
        view.appendPoints("new", CurveKind::TrainTotal, {{1, 1, 3.0}});
        QVERIFY(view.hasRun("new"));
        QCOMPARE(view.runIds(), QStringList({"r8", "new"}));
        QVERIFY(view.runColor("r8") != view.runColor("new"));
    }

    // The app's wiring: a worker thread's signal, queued into the GUI thread's appendBatch.
    void batches_from_a_worker_thread() {
        LiveCurves view;
        BatchSource source;
        QThread worker;
        source.moveToThread(&worker);
        connect(&source, &BatchSource::batch, &view, &LiveCurves::appendBatch, Qt::QueuedConnection);
        worker.start();
        const SyntheticRun run = make_run(1.0, 9);
        QMetaObject::invokeMethod(&source, [&source, run] { source.emitRun(run); });
        QTRY_COMPARE(view.pointCount("w", CurveKind::Validation), kSteps / kEvalEvery);
        worker.quit();
        worker.wait();
        QCOMPARE(view.pointCount("w", CurveKind::TrainTotal), kSteps);
        QCOMPARE(view.bestValidation("w")->step, kBestStep);
    }

    void smoothed_curve_respects_the_raw_range() {
        LiveCurves view;
        const SyntheticRun run = make_run(1.0, 2);
        view.setSmoothing(0.95);
        feed(view, "a", run, 7);
        const QVector<double> raw = values_of(view.rawGraph("a", CurveKind::TrainGt));
        const QVector<double> smooth = values_of(view.smoothedGraph("a", CurveKind::TrainGt));
        double lo = raw[0], hi = raw[0];
        for (int i = 0; i < raw.size(); ++i) {
            lo = std::min(lo, raw[i]);
            hi = std::max(hi, raw[i]);
            QVERIFY(smooth[i] >= lo && smooth[i] <= hi);
        }
        // Incremental smoothing (7-point batches) equals smoothing the whole series at once.
        QCOMPARE(smooth, ema_smooth(raw, 0.95));
        // A flat series stays exactly flat, however it is batched.
        QVector<CurvePoint> flat;
        for (int s = 0; s < 300; ++s)
            flat.push_back({double(s), double(s), 0.1});
        for (int i = 0; i < flat.size(); i += 13)
            view.appendPoints("flat", CurveKind::TrainModel, flat.mid(i, 13));
        for (double v : values_of(view.smoothedGraph("flat", CurveKind::TrainModel)))
            QVERIFY(v == 0.1);
        // Changing the weight re-smooths what is there.
        view.setSmoothing(0.5);
        QCOMPARE(values_of(view.smoothedGraph("a", CurveKind::TrainGt)), ema_smooth(raw, 0.5));
        // Weight 0: only the raw curve is drawn, in full colour.
        view.setSmoothing(0.0);
        QVERIFY(!view.smoothedGraph("a", CurveKind::TrainGt)->visible());
        QCOMPARE(view.rawGraph("a", CurveKind::TrainGt)->pen().color().alpha(), 255);
        view.setSmoothing(0.6);
        QVERIFY(view.smoothedGraph("a", CurveKind::TrainGt)->visible());
        QVERIFY(view.rawGraph("a", CurveKind::TrainGt)->pen().color().alpha() < 100);
    }

    void nan_points_make_gaps_not_spikes() {
        LiveCurves view;
        view.setSmoothing(0.9);
        view.appendPoints("a", CurveKind::TrainTotal, {{1, 1, 2.0}, {2, 2, std::nan("")}, {3, 3, 2.0}});
        const QVector<double> s = values_of(view.smoothedGraph("a", CurveKind::TrainTotal));
        QCOMPARE(s[0], 2.0);
        QVERIFY(std::isnan(s[1]));
        QCOMPARE(s[2], 2.0);
    }

    void replots_are_throttled() {
        LiveCurves view;
        QVERIFY(rilq::test::show_offscreen(&view, QSize(800, 500)));
        const SyntheticRun run = make_run(1.0, 3);
        QCoreApplication::processEvents();
        const int before = view.replotCount();
        // 500 single-point batches, one every ~1 ms: far faster than 25 Hz.
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < kSteps; ++i) {
            view.appendPoints("a", CurveKind::TrainTotal, {run.total[i]});
            QTest::qWait(1);
        }
        QTest::qWait(3 * LiveCurves::kReplotIntervalMs); // the last tick lands
        const double elapsed_ms = double(clock.elapsed());
        const int replots = view.replotCount() - before;
        const int bound = int(elapsed_ms / LiveCurves::kReplotIntervalMs) + 2;
        QVERIFY2(
            replots >= 2 && replots <= bound,
            qPrintable(QString("%1 replots in %2 ms (bound %3)").arg(replots).arg(elapsed_ms).arg(bound)));
        qInfo("%d single-point appends over %.0f ms -> %d replots (bound %d)", kSteps, elapsed_ms, replots,
              bound);
        QCOMPARE(view.pointCount("a", CurveKind::TrainTotal), kSteps);
        // The final view shows all data (auto range follows the points).
        QVERIFY(view.plot()->xAxis->range().upper >= kSteps);
    }

    void log_y_axis() {
        LiveCurves view;
        feed(view, "a", make_run(1.0, 4), 50);
        view.setLogY(true);
        view.replotNow();
        QCOMPARE(view.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(!view.plot()->yAxis->ticker().dynamicCast<QCPAxisTickerLog>().isNull());
        const QCPRange y = view.plot()->yAxis->range();
        bool found = false;
        const QCPRange data = view.rawGraph("a", CurveKind::TrainModel)->getValueRange(found);
        QVERIFY(found);
        QVERIFY(y.lower > 0 && y.lower <= data.lower && y.upper >= data.upper);
        QVERIFY(view.plot()->yAxis->label().contains("log"));
        view.setLogY(false);
        QCOMPARE(view.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    }

    void best_validation_marker_and_early_stop() {
        LiveCurves view;
        QSignalSpy best_spy(&view, &LiveCurves::bestValidationChanged);
        feed(view, "a", make_run(1.0, 5), 25);
        const auto best = view.bestValidation("a");
        QVERIFY(best.has_value());
        QCOMPARE(best->step, kBestStep);
        QCOMPARE(best->value, kBestValue);
        const QCPGraph* marker = view.bestMarker("a");
        QCOMPARE(marker->dataCount(), 1);
        QCOMPARE(marker->data()->at(0)->key, kBestStep);
        QCOMPARE(marker->data()->at(0)->value, kBestValue);
        // One signal per improvement (25, 50, ..., 350) and none after.
        QCOMPARE(best_spy.count(), int(kBestStep / kEvalEvery));
        QCOMPARE(best_spy.last().at(1).toDouble(), kBestStep);
        // A later tie is not an improvement (early stopping counts strict improvements).
        view.appendPoints("a", CurveKind::Validation, {{600, wall_time_s(600), kBestValue}});
        QCOMPARE(view.bestValidation("a")->step, kBestStep);

        view.setEarlyStop("a", 475);
        QCPItemStraightLine* line = view.earlyStopLine("a");
        QVERIFY(line);
        QCOMPARE(line->point1->coords().x(), 475.0);
        QCOMPARE(line->point2->coords().x(), 475.0);
        QCOMPARE(line->pen().style(), Qt::DashLine);

        // Wall-time axis: every curve, the marker and the line move to seconds.
        view.setXAxisMode(XAxisMode::WallTime);
        QCOMPARE(keys_of(view.rawGraph("a", CurveKind::TrainTotal)).front(), wall_time_s(1));
        QCOMPARE(keys_of(view.rawGraph("a", CurveKind::TrainTotal)).back(), wall_time_s(kSteps));
        QCOMPARE(view.bestMarker("a")->data()->at(0)->key, wall_time_s(kBestStep));
        QCOMPARE(line->point1->coords().x(), wall_time_s(475));
        QVERIFY(!view.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerTime>().isNull());
        view.setXAxisMode(XAxisMode::Step);
        QCOMPARE(view.bestMarker("a")->data()->at(0)->key, kBestStep);
    }

    void hover_readout_snaps_to_points() {
        LiveCurves view;
        view.addRun("a", "rank 8 · lr 1e-3");
        feed(view, "a", make_run(1.0, 6), 100);
        QVERIFY(rilq::test::show_offscreen(&view, QSize(900, 500)));
        view.setKindVisible(CurveKind::TrainModel, false);
        view.setKindVisible(CurveKind::TrainGt, false);
        view.setKindVisible(CurveKind::TrainTotal, false);
        view.replotNow();
        QCustomPlot* plot = view.plot();
        const QPointF best_px(plot->xAxis->coordToPixel(kBestStep), plot->yAxis->coordToPixel(kBestValue));
        QVERIFY(view.showReadoutAt(best_px + QPointF(3, -2)));
        const QString text = view.readoutText();
        QVERIFY2(text.contains("rank 8 · lr 1e-3") && text.contains("validation") &&
                     text.contains("step 350") && text.contains("loss 1.2"),
                 qPrintable(text));
        // Far from every point: nothing.
        QVERIFY(!view.showReadoutAt(QPointF(plot->axisRect()->left() + 5, plot->axisRect()->bottom() - 5)));
        QVERIFY(view.readoutText().isEmpty());
        // A real mouse move over the plot does the same.
        rilq::test::send_mouse(plot, QEvent::MouseMove, best_px);
        QVERIFY(view.readoutText().contains("step 350"));
        // Switching the x axis moves every point: the stale read-out goes away.
        view.setXAxisMode(XAxisMode::WallTime);
        QVERIFY(view.readoutText().isEmpty());
    }

    void hidden_kinds_and_removed_runs() {
        LiveCurves view;
        feed(view, "a", make_run(1.0, 7), 100);
        feed(view, "b", make_run(1.3, 8), 100);
        view.setKindVisible(CurveKind::TrainGt, false);
        QVERIFY(!view.rawGraph("a", CurveKind::TrainGt)->visible());
        QVERIFY(!view.smoothedGraph("b", CurveKind::TrainGt)->visible());
        QVERIFY(view.rawGraph("b", CurveKind::TrainTotal)->visible());
        const int graphs = view.plot()->graphCount();
        view.removeRun("a");
        QVERIFY(!view.hasRun("a"));
        QCOMPARE(view.plot()->graphCount(), graphs - 12); // 6 raw + 4 smoothed + legend + marker
        view.clearRuns();
        QCOMPARE(view.plot()->graphCount(), kCurveKindCount); // only the style legend keys remain
    }

    // A chained fine-tuning stage's curves: hidden from the legend and the toolbar until a run has
    // them, then drawn like RILQ's (training smoothed, evaluations as measured dots).
    void finetune_kinds_appear_with_their_points() {
        LiveCurves view;
        QVERIFY(rilq::test::show_offscreen(&view, QSize(1000, 560)));
        feed(view, "a", make_run(1.0, 7), 100);
        auto* sft_box = view.findChild<LiveCurvesToolbar*>()->kindBox(CurveKind::SftTrain);
        const int legend_rows = view.plot()->legend->itemCount();
        QVERIFY(!view.finetuneKindsShown());
        QVERIFY(!sft_box->isVisible());
        view.appendPoints("a", CurveKind::SftTrain, {{1, 200, 2.5}, {2, 201, 2.25}, {3, 202, 2.0}});
        view.appendPoints("a", CurveKind::SftValidation, {{0, 199, 2.6}, {2, 201, 2.3}});
        QVERIFY(view.finetuneKindsShown());
        QVERIFY(sft_box->isVisible());
        QCOMPARE(view.plot()->legend->itemCount(), legend_rows + 2);
        // The style keys stay together, the run's own entry after them.
        const auto legend_name = [&](int row) {
            auto* item = qobject_cast<QCPPlottableLegendItem*>(view.plot()->legend->item(row));
            return item ? item->plottable()->name() : QString();
        };
        QCOMPARE(legend_name(legend_rows - 1), curve_kind_label(CurveKind::SftTrain));
        QCOMPARE(legend_name(legend_rows), curve_kind_label(CurveKind::SftValidation));
        QCOMPARE(legend_name(legend_rows + 1), QString("a"));
        QCOMPARE(values_of(view.rawGraph("a", CurveKind::SftTrain)), QVector<double>({2.5, 2.25, 2.0}));
        QVERIFY(view.smoothedGraph("a", CurveKind::SftTrain) != nullptr);
        QVERIFY(view.smoothedGraph("a", CurveKind::SftValidation) == nullptr);
        // Early stopping and the best marker stay RILQ's: fine-tuning evals do not move them.
        QCOMPARE(view.bestValidation("a")->step, kBestStep);
        sft_box->setChecked(false);
        QVERIFY(!view.kindVisible(CurveKind::SftTrain));
        QVERIFY(!view.rawGraph("a", CurveKind::SftTrain)->visible());
    }

    // 3 runs x 3 training curves x 20,000 steps: appends and a full redraw stay cheap thanks to
    // batched addData and adaptive sampling. Timings are printed, not asserted (shared CPU).
    void many_points_stay_fast() {
        LiveCurves view;
        QVERIFY(rilq::test::show_offscreen(&view, QSize(1000, 560)));
        constexpr int kLongSteps = 20000;
        QElapsedTimer clock;
        clock.start();
        for (int r = 0; r < 3; ++r) {
            const QString id = QString("long%1").arg(r);
            for (int start = 1; start <= kLongSteps; start += 200) { // 100 batches of 200 per curve
                QVector<CurvePoint> chunk;
                for (int s = start; s < start + 200; ++s)
                    chunk.push_back(
                        {double(s), 0.05 * s, 2.0 + std::exp(-s / 3000.0) + 0.05 * std::sin(s * 0.7)});
                view.appendBatch({{id, CurveKind::TrainModel, chunk},
                                  {id, CurveKind::TrainGt, chunk},
                                  {id, CurveKind::TrainTotal, chunk}});
            }
        }
        const qint64 append_ms = clock.restart();
        view.replotNow();
        const qint64 replot_ms = clock.elapsed();
        QCOMPARE(view.rawGraph("long2", CurveKind::TrainTotal)->dataCount(), kLongSteps);
        QCOMPARE(view.smoothedGraph("long0", CurveKind::TrainGt)->dataCount(), kLongSteps);
        qInfo("180,000 points appended in %lld ms; one full replot of 360,000 drawn points in %lld ms",
              append_ms, replot_ms);
    }

    void screenshots() {
        LiveCurves view;
        const double scales[] = {1.0, 0.8, 0.65};
        const char* labels[] = {"rank 4", "rank 8", "rank 16"};
        for (int r = 0; r < 3; ++r) {
            view.addRun(QString("r%1").arg(r), labels[r]);
            feed(view, QString("r%1").arg(r), make_run(scales[r], 10 + r), 50);
        }
        view.setEarlyStop("r0", 475);
        view.setSmoothing(0.8);
        QVERIFY(rilq::test::show_offscreen(&view, QSize(1000, 560)));
        view.replotNow();
        view.showReadoutAt(QPointF(view.plot()->xAxis->coordToPixel(kBestStep),
                                   view.plot()->yAxis->coordToPixel(kBestValue * 0.8)));
        view.replotNow();
        QVERIFY(rilq::test::save_screenshot(&view, "live_curves"));
        view.setLogY(true);
        view.setXAxisMode(XAxisMode::WallTime);
        view.replotNow();
        view.showReadoutAt(
            QPointF(view.plot()->xAxis->coordToPixel(wall_time_s(200)),
                    view.plot()->yAxis->coordToPixel(
                        view.smoothedGraph("r2", CurveKind::TrainModel)->data()->at(199)->value)));
        view.replotNow();
        QVERIFY(rilq::test::save_screenshot(&view, "live_curves_log_walltime"));
    }
};

RILQ_TEST_MAIN(TestLiveCurves)
#include "test_live_curves.moc"
