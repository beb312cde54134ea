// Compare overlay axes: "split scales" puts curves more than tenfold apart on separate charts
// (model-scope losses ~5 above linear-scope ones ~0.25), each with its own log/linear toggle;
// x is the optimizer step, the training tokens (step x the run's tokens per update, from core)
// or the wall time since the run's first point.
#include "core/report/train_tokens.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_overlay.h"

#include <QCheckBox>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;
using rilq::test::keys_of;
using rilq::test::values_of;

namespace {

// Ranks 4 and 16 x scopes model (~5) and linear (~0.25); 10 validations 25 steps apart, 30 s
// apart in wall time; 1 x 8 windows of 256 tokens per update for the model scope, 2 x 8 x 256
// for the linear one.
QVector<RunCurve> axes_fixture_runs() {
    QVector<RunCurve> runs;
    for (const QString& scope : {kScopeModel, kScopeLinear})
        for (int rank : {4, 16}) {
            RunCurve run;
            run.run_id = QStringLiteral("%1-r%2").arg(scope).arg(rank);
            run.params = {{QStringLiteral("lora_r"), QString::number(rank)},
                          {QStringLiteral("scope"), scope}};
            const double level = scope == kScopeModel ? 5.0 : 0.25;
            for (int k = 1; k <= 10; ++k) {
                run.curves[QStringLiteral("v_loss")].push_back(QPointF(25 * k, level * (1.0 + 1.0 / k)));
                run.seconds[QStringLiteral("v_loss")].push_back(30.0 * k + rank);
            }
            run.tokens_per_step = rilq::report::train_tokens_per_update(
                {{"rilq.approx_batch_size", scope == kScopeModel ? "1" : "2"},
                 {"rilq.gradient_accumulation_steps", "8"},
                 {"rilq.calib_max_length", "256"}});
            runs.push_back(run);
        }
    return runs;
}

} // namespace

class TestOverlayAxes : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void scaleGroupsWithinTenfold() {
        QCOMPARE(scale_groups({{5.0, 6.0}, {0.25, 0.3}, {4.0}}, 10.0), (QVector<int>{0, 1, 0}));
        // 1 and 9 share a chart (9 <= 10 x 1); 11 starts the next; 120 > 10 x 11 a third.
        QCOMPARE(scale_groups({{1.0}, {9.0}, {11.0}, {120.0}}, 10.0), (QVector<int>{2, 2, 1, 0}));
        QCOMPARE(scale_groups({{0.0}, {3.0}}, 10.0), (QVector<int>{0, 0}));
        // Zeros (a rank-0 linear-scope loss) go with the smallest scale, the bottom chart.
        QCOMPARE(scale_groups({{0.0}, {5.0}, {0.25}, {}}, 10.0), (QVector<int>{1, 0, 1, 1}));
    }

    void splitChartsPutScopesApart() {
        RunOverlay overlay;
        overlay.setRuns(axes_fixture_runs());
        QCOMPARE(overlay.chartCount(), 1);
        QVERIFY(overlay.logY()); // one chart: the automatic log axis
        overlay.setSplitCharts(true);
        QCOMPARE(overlay.chartCount(), 2);
        for (int rank : {4, 16}) {
            const QString model = QStringLiteral("model-r%1").arg(rank);
            const QString linear = QStringLiteral("linear-r%1").arg(rank);
            QCOMPARE(overlay.chartOf(model), 0);
            QCOMPARE(overlay.chartOf(linear), 1);
            QCOMPARE(overlay.graph(model)->keyAxis()->axisRect(), overlay.chart(0));
            QCOMPARE(overlay.graph(linear)->valueAxis()->axisRect(), overlay.chart(1));
        }
        QVERIFY(overlay.chart(0) != overlay.chart(1));
        // Each chart's y range holds only its own curves: 5..10 above, 0.25..0.5 below.
        QVERIFY(overlay.chart(0)->axis(QCPAxis::atLeft)->range().lower > 4.0);
        QVERIFY(overlay.chart(1)->axis(QCPAxis::atLeft)->range().upper < 0.6);
        // Linear by default; each chart toggles alone, from its own check box.
        QVERIFY(!overlay.chartLogY(0) && !overlay.chartLogY(1));
        const QList<QCheckBox*> boxes = overlay.findChildren<QCheckBox*>();
        QCheckBox* lower_box = nullptr;
        for (QCheckBox* box : boxes)
            if (box->text() == QStringLiteral("log y 2")) lower_box = box;
        QVERIFY(lower_box);
        lower_box->setChecked(true);
        QVERIFY(overlay.chartLogY(1) && !overlay.chartLogY(0));
        QCOMPARE(overlay.chart(1)->axis(QCPAxis::atLeft)->scaleType(), QCPAxis::stLogarithmic);
        QCOMPARE(overlay.chart(0)->axis(QCPAxis::atLeft)->scaleType(), QCPAxis::stLinear);
        // Both charts show the same steps.
        QCOMPARE(overlay.chart(0)->axis(QCPAxis::atBottom)->range().lower,
                 overlay.chart(1)->axis(QCPAxis::atBottom)->range().lower);
        QCOMPARE(overlay.chart(0)->axis(QCPAxis::atBottom)->range().upper,
                 overlay.chart(1)->axis(QCPAxis::atBottom)->range().upper);
        QVERIFY(rilq::test::show_offscreen(&overlay, QSize(900, 620)));
        QVERIFY(rilq::test::save_screenshot(&overlay, QStringLiteral("compare-split")));

        overlay.setSplitCharts(false); // back to one chart, and its own log choice
        QCOMPARE(overlay.chartCount(), 1);
        QCOMPARE(overlay.graph(QStringLiteral("linear-r4"))->keyAxis()->axisRect(),
                 overlay.plot()->axisRect());
    }

    void tokensPerUpdateFromTheParams() {
        using rilq::report::train_tokens_per_update;
        QCOMPARE(train_tokens_per_update({{"rilq.approx_batch_size", "2"},
                                          {"rilq.gradient_accumulation_steps", "8"},
                                          {"rilq.calib_max_length", "2048"}}),
                 32768.0);
        QCOMPARE(
            train_tokens_per_update({{"rilq.approx_batch_size", "2"}, {"rilq.calib_max_length", "2048"}}),
            0.0); // accumulation missing
        QCOMPARE(train_tokens_per_update({{"rilq.approx_batch_size", "x"},
                                          {"rilq.gradient_accumulation_steps", "8"},
                                          {"rilq.calib_max_length", "2048"}}),
                 0.0);
    }

    void xByStepTokensOrTime() {
        RunOverlay overlay;
        QVector<RunCurve> runs = axes_fixture_runs();
        overlay.setRuns(runs);
        QCOMPARE(overlay.xAxis(), CompareXAxis::Step);
        QCOMPARE(keys_of(overlay.graph(QStringLiteral("model-r4"))).front(), 25.0);

        QVERIFY(overlay.xAxisAvailable(CompareXAxis::Tokens));
        overlay.setXAxis(CompareXAxis::Tokens);
        QCOMPARE(overlay.xAxis(), CompareXAxis::Tokens);
        QVector<double> model_tokens, linear_tokens;
        for (int k = 1; k <= 10; ++k) {
            model_tokens.push_back(25.0 * k * 1 * 8 * 256);
            linear_tokens.push_back(25.0 * k * 2 * 8 * 256);
        }
        QCOMPARE(keys_of(overlay.graph(QStringLiteral("model-r16"))), model_tokens);
        QCOMPARE(keys_of(overlay.graph(QStringLiteral("linear-r16"))), linear_tokens);
        QCOMPARE(values_of(overlay.graph(QStringLiteral("linear-r16"))).front(), 0.5); // y unchanged
        QCOMPARE(overlay.plot()->xAxis->label(), QStringLiteral("training tokens"));

        overlay.setXAxis(CompareXAxis::WallTime);
        QCOMPARE(keys_of(overlay.graph(QStringLiteral("model-r16"))),
                 runs[1].seconds.value(QStringLiteral("v_loss")));

        // The fine-tuning stage's curves: its batches are not RILQ's, so no token count.
        QVector<RunCurve> chained = runs;
        for (RunCurve& run : chained)
            run.curves[QStringLiteral("sft.v_loss")] = run.curves.value(QStringLiteral("v_loss"));
        overlay.setRuns(chained);
        overlay.setMetric(QStringLiteral("sft.v_loss"));
        QVERIFY(!overlay.xAxisAvailable(CompareXAxis::Tokens));
        overlay.setMetric(QStringLiteral("v_loss"));
        QVERIFY(overlay.xAxisAvailable(CompareXAxis::Tokens));

        // A run without batch params has no token count: tokens is not offered, x falls back to steps.
        runs[2].tokens_per_step = 0.0;
        runs[3].seconds.clear();
        overlay.setXAxis(CompareXAxis::Tokens);
        overlay.setRuns(runs);
        QVERIFY(!overlay.xAxisAvailable(CompareXAxis::Tokens));
        QVERIFY(!overlay.xAxisAvailable(CompareXAxis::WallTime));
        QCOMPARE(overlay.xAxis(), CompareXAxis::Step);
        overlay.setXAxis(CompareXAxis::Tokens); // refused
        QCOMPARE(overlay.xAxis(), CompareXAxis::Step);
        QCOMPARE(keys_of(overlay.graph(QStringLiteral("linear-r4"))).back(), 250.0);
    }
};

RILQ_TEST_MAIN(TestOverlayAxes)
#include "test_overlay_axes.moc"
