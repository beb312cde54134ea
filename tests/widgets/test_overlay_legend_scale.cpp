// Compare overlay: a click on a legend entry hides that run's curve (again: shows it), and the y
// axis turns log by itself when the runs' scales differ more than tenfold (model-scope losses ~5
// beside linear-scope ones ~0.25), never against the user's own choice.
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_overlay.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {

// Loss curves of a rank x scope sweep: model scope near `model_level`, linear near `linear_level`.
QVector<RunCurve> overlay_scope_runs(double model_level, double linear_level) {
    QVector<RunCurve> runs;
    for (const QString& scope : {kScopeModel, kScopeLinear})
        for (int rank : {4, 16}) {
            RunCurve run;
            run.run_id = QStringLiteral("%1-r%2").arg(scope).arg(rank);
            run.params = {{QStringLiteral("lora_r"), QString::number(rank)},
                          {QStringLiteral("scope"), scope}};
            const double level = scope == kScopeModel ? model_level : linear_level;
            for (int step = 1; step <= 10; ++step)
                run.curves[QStringLiteral("v_loss")].push_back(QPointF(step, level * (1.0 + 1.0 / step)));
            runs.push_back(run);
        }
    return runs;
}

} // namespace

class TestOverlayLegendScale : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void scaleRatioIsTheMediansRatio() {
        // Medians 5 (of 4, 5, 6), 0.25 (of |-0.25|, 0.25, 0.3; zeros and NaN skipped).
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QCOMPARE(series_scale_ratio({{4.0, 5.0, 6.0}, {-0.25, 0.0, 0.25, 0.3, nan}}), 20.0);
        QCOMPARE(series_scale_ratio({{2.0}, {}, {0.0}}), 1.0);  // one series with a value
        QCOMPARE(series_scale_ratio({{1.0, 3.0}, {2.0}}), 1.5); // upper median of an even count
    }

    // A log axis starting just above a power of ten starts at it, so the lowest data has a label
    // below it; further above, the space would cost more than the label is worth.
    void logAxisShowsADecade() {
        QCustomPlot plot;
        set_log_axis(plot.yAxis, true);
        plot.yAxis->setRange(0.15, 5.5);
        include_decade_below(plot.yAxis);
        QCOMPARE(plot.yAxis->range().lower, 0.1);
        QCOMPARE(plot.yAxis->range().upper, 5.5);
        plot.yAxis->setRange(12.0, 450.0);
        include_decade_below(plot.yAxis);
        QCOMPARE(plot.yAxis->range().lower, 10.0);
        plot.yAxis->setRange(0.5, 20.0);
        include_decade_below(plot.yAxis);
        QCOMPARE(plot.yAxis->range().lower, 0.5); // 0.1 would waste a factor 5
        set_log_axis(plot.yAxis, false);
        plot.yAxis->setRange(0.15, 5.5);
        include_decade_below(plot.yAxis);
        QCOMPARE(plot.yAxis->range().lower, 0.15); // linear axes are left alone
    }

    void logAxisWhenScalesDifferTenfold() {
        RunOverlay overlay;
        overlay.setRuns(overlay_scope_runs(5.0, 0.25));
        QVERIFY(overlay.logY());
        QCOMPARE(overlay.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        overlay.setRuns(overlay_scope_runs(5.0, 1.0)); // 5x apart: one linear axis reads fine
        QVERIFY(!overlay.logY());
        QCOMPARE(overlay.plot()->yAxis->scaleType(), QCPAxis::stLinear);
        // The user's choice wins from then on.
        overlay.setLogY(true);
        overlay.setRuns(overlay_scope_runs(5.0, 1.0));
        QVERIFY(overlay.logY());
        QVERIFY(overlay.logYChosenByUser());
    }

    void legendClickHidesAndShowsARun() {
        RunOverlay overlay;
        QVERIFY(rilq::test::show_offscreen(&overlay, QSize(900, 500)));
        overlay.setRuns(overlay_scope_runs(5.0, 1.0));
        overlay.plot()->replot();
        const QString run = QStringLiteral("linear-r16");
        QCPGraph* graph = overlay.graph(run);
        QVERIFY(graph && graph->visible());
        const double top_before = overlay.plot()->yAxis->range().upper;
        const auto click_entry = [&] {
            QCPAbstractLegendItem* entry = overlay.plot()->legend->itemWithPlottable(overlay.graph(run));
            QVERIFY(entry);
            const QPointF at = entry->rect().center();
            rilq::test::send_mouse(overlay.plot(), QEvent::MouseButtonPress, at, Qt::LeftButton);
            rilq::test::send_mouse(overlay.plot(), QEvent::MouseButtonRelease, at, Qt::LeftButton);
            overlay.plot()->replot();
        };
        click_entry();
        QVERIFY(overlay.isRunHidden(run));
        QVERIFY(!overlay.graph(run)->visible());
        QVERIFY(overlay.graph(QStringLiteral("model-r4"))->visible());
        // Still in the legend (greyed), so a second click brings it back; the axis fits what is shown.
        QVERIFY(overlay.plot()->legend->itemWithPlottable(overlay.graph(run)));
        QVERIFY(overlay.plot()->yAxis->range().upper <= top_before);
        QVERIFY(rilq::test::save_screenshot(&overlay, "overlay_legend_hidden"));
        // A hidden curve gives no hover read-out.
        const QCPGraphData& p = *overlay.graph(run)->data()->constBegin();
        QVERIFY(!overlay.showReadoutAt(QPointF(overlay.plot()->xAxis->coordToPixel(p.key),
                                               overlay.plot()->yAxis->coordToPixel(p.value))) ||
                !overlay.readoutText().startsWith(run));
        click_entry();
        QVERIFY(!overlay.isRunHidden(run));
        QVERIFY(overlay.graph(run)->visible());
    }
};

RILQ_TEST_MAIN(TestOverlayLegendScale)
#include "test_overlay_legend_scale.moc"
