// CompareView: the PPL-versus-rank picture built from the RILQ README's published numbers
// (LLaMA-2-7B, RTN W2A16G64; METHODS.md section 6), the scope comparison from the RILQ figure, and
// the run overlay coloured by a swept parameter.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/compare_view.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/rank_plot.h"
#include "widgets/run_overlay.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>

using namespace rilq::widgets;

namespace {
using rilq::test::keys_of;
using rilq::test::values_of;
// RILQ README, rank sweep: rank -> (WikiText-2, C4) perplexity.
const int kRanks[] = {0, 16, 32, 64, 128};
const double kWiki[] = {433.65, 10.23, 10.01, 10.05, 10.12};
const double kC4[] = {474.32, 12.00, 11.84, 11.79, 11.87};

RankSweep readme_sweep() {
    RankSweep sweep;
    for (int i = 0; i < 5; ++i) {
        sweep.points.push_back({"wikitext2", kScopeModel, kRanks[i], kWiki[i]});
        sweep.points.push_back({"c4", kScopeModel, kRanks[i], kC4[i]});
    }
    sweep.protocol = "LLaMA-2-7B · RTN W2A16G64 · calibration C4 320x512 · lr 1e-4 · (RILQ README)";
    return sweep;
}

// RILQ figure (overview.png), average common-sense QA accuracy (%) per scope and rank.
RankSweep figure_scopes() {
    RankSweep sweep;
    sweep.value_label = "avg. accuracy (%)";
    const int ranks[] = {16, 32, 64, 128};
    const std::pair<QString, std::array<double, 4>> rows[] = {
        {kScopeWeightSvd, {51.65, 51.85, 52.0, 52.75}},
        {kScopeLinear, {50.55, 50.65, 53.2, 53.35}},
        {kScopeLayer, {51.75, 52.4, 52.95, 53.3}},
        {kScopeModel, {53.3, 53.8, 53.7, 53.85}},
    };
    for (const auto& [scope, acc] : rows)
        for (int i = 0; i < 4; ++i)
            sweep.points.push_back({"CSQA avg", scope, ranks[i], acc[i]});
    sweep.protocol = "LLaMA-2-7B 2-bit · RILQ figure, read off the plot (±0.1)";
    return sweep;
}

QVector<RunCurve> sweep_runs() {
    QVector<RunCurve> runs;
    for (int r : {64, 0, 16, 128, 32}) { // arrival order is not rank order
        RunCurve run;
        run.run_id = QString("run-r%1").arg(r);
        run.label = QString("r=%1").arg(r);
        run.params = {{"lora_r", QString::number(r)}, {"a_type", r == 32 ? "logit" : "hid"}, {"bits", "2"}};
        QVector<QPointF> v_loss, t_loss;
        for (int s = 25; s <= 500; s += 25)
            v_loss.push_back(
                {double(s), 1.0 + 2.0 / std::sqrt(1.0 + r) * std::exp(-s / 200.0) + 0.3 / (1 + r)});
        for (int s = 1; s <= 500; ++s)
            t_loss.push_back({double(s), 1.2 + 2.0 * std::exp(-s / 150.0) + 0.1 * std::sin(s)});
        run.curves = {{"v_loss", v_loss}, {"t_loss", t_loss}};
        runs.push_back(run);
    }
    return runs;
}

} // namespace

class TestCompareView : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void ppl_versus_rank_from_the_readme() {
        RankPlot plot;
        plot.setSweep(readme_sweep());
        QCOMPARE(plot.datasets(), QStringList({"wikitext2", "c4"}));
        QCOMPARE(plot.scopes(), QStringList({kScopeModel}));
        const QCPGraph* wiki = plot.series("wikitext2", kScopeModel);
        QVERIFY(wiki);
        QCOMPARE(keys_of(wiki), QVector<double>({16, 32, 64, 128})); // rank 0 is not a point
        QCOMPARE(values_of(wiki), QVector<double>({10.23, 10.01, 10.05, 10.12}));
        QCOMPARE(values_of(plot.series("c4", kScopeModel)), QVector<double>({12.00, 11.84, 11.79, 11.87}));
        QCOMPARE(wiki->name(), QString("wikitext2")); // one scope: no scope suffix
        // Rank 0 is the dashed baseline of each dataset, in the dataset's colour.
        QCOMPARE(plot.baseline("wikitext2"), 433.65);
        QCOMPARE(plot.baseline("c4"), 474.32);
        QCPItemStraightLine* line = plot.baselineLine("c4");
        QVERIFY(line);
        QCOMPARE(line->pen().style(), Qt::DashLine);
        QCOMPARE(line->pen().color(), plot.datasetColor("c4"));
        QCOMPARE(line->point1->coords().y(), 474.32);
        QCOMPARE(line->point2->coords().y(), 474.32);
        QVERIFY(plot.datasetColor("wikitext2") != plot.datasetColor("c4"));
        // log2 rank axis with a tick at each rank; log y by default, the range holds every number.
        QCustomPlot* p = plot.plot();
        QCOMPARE(p->xAxis->scaleType(), QCPAxis::stLogarithmic);
        auto ticker = p->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
        QVERIFY(ticker);
        QCOMPARE(ticker->ticks().keys(), QList<double>({16, 32, 64, 128}));
        QVERIFY(plot.logY());
        QCOMPARE(p->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(p->yAxis->range().contains(474.32) && p->yAxis->range().contains(10.01));
        QVERIFY(p->xAxis->range().contains(16) && p->xAxis->range().contains(128));
        plot.setLogY(false);
        QCOMPARE(p->yAxis->scaleType(), QCPAxis::stLinear);
        QVERIFY(p->yAxis->range().contains(474.32) && p->yAxis->range().contains(10.01));
        QVERIFY(p->yAxis->label().startsWith("perplexity"));
    }

    void values_are_drawn_as_given_and_hover_reads_them() {
        RankSweep sweep = readme_sweep();
        sweep.fp_value = {{"wikitext2", 5.47}};
        RankPlot plot;
        plot.setSweep(sweep);
        QCOMPARE(values_of(plot.series("wikitext2", kScopeModel))[1],
                 10.01);                                     // rank 32: seeds averaged in core
        QVERIFY(plot.plot()->yAxis->range().contains(5.47)); // the FP line is in view
        QVERIFY(rilq::test::show_offscreen(&plot, QSize(700, 480)));
        plot.plot()->replot();
        QCustomPlot* p = plot.plot();
        const QPointF at(p->xAxis->coordToPixel(64), p->yAxis->coordToPixel(11.79));
        QVERIFY(plot.showReadoutAt(at + QPointF(2, 2)));
        QVERIFY2(plot.readoutText().contains("c4") && plot.readoutText().contains("rank 64: 11.79") &&
                     plot.readoutText().contains("rank 0: 474.32"),
                 qPrintable(plot.readoutText()));
    }

    void scopes_are_separate_series() {
        RankPlot plot;
        plot.setSweep(figure_scopes());
        QCOMPARE(plot.scopes(), QStringList({kScopeModel, kScopeLinear, kScopeLayer, kScopeWeightSvd}));
        for (const QString& scope : plot.scopes())
            QVERIFY(plot.series("CSQA avg", scope));
        QCOMPARE(values_of(plot.series("CSQA avg", kScopeLinear)),
                 QVector<double>({50.55, 50.65, 53.2, 53.35}));
        QCOMPARE(values_of(plot.series("CSQA avg", kScopeModel)), QVector<double>({53.3, 53.8, 53.7, 53.85}));
        QCOMPARE(plot.series("CSQA avg", kScopeModel)->pen().style(), Qt::SolidLine);
        QCOMPARE(plot.series("CSQA avg", kScopeLinear)->pen().style(), Qt::DashLine);
        QCOMPARE(plot.series("CSQA avg", kScopeLayer)->name(), QString("CSQA avg · layer"));
        QVERIFY(std::isnan(plot.baseline("CSQA avg"))); // no rank 0 in this sweep
        QVERIFY(plot.plot()->yAxis->label().startsWith("avg. accuracy (%)"));
        plot.setLogY(false);
        QVERIFY(rilq::test::show_offscreen(&plot, QSize(700, 480)));
        QVERIFY(rilq::test::save_screenshot(&plot, "rank_plot_scopes"));
    }

    void overlay_colours_by_parameter() {
        RunOverlay overlay;
        const QVector<RunCurve> runs = sweep_runs();
        overlay.setRuns(runs);
        // Only parameters that vary are offered; lora_r first alphabetically after a_type.
        QCOMPARE(overlay.parameterKeys(), QStringList({"a_type", "lora_r"}));
        QCOMPARE(overlay.metricKeys(), QStringList({"t_loss", "v_loss"}));
        overlay.setMetric("v_loss");
        overlay.setColorParameter("lora_r");
        // Numeric parameter: viridis by rank order, r=0 darkest, r=128 brightest.
        const ParameterColorMap expected({0, 16, 32, 64, 128}, ColorScale::Ordinal);
        for (int r : {0, 16, 32, 64, 128})
            QCOMPARE(overlay.runColor(QString("run-r%1").arg(r)), expected.color_for(r));
        // Graph data are the runs' curves; legend in parameter order.
        const QCPGraph* g16 = overlay.graph("run-r16");
        QVERIFY(g16);
        QCOMPARE(g16->dataCount(), 20);
        QCOMPARE(g16->data()->at(0)->value, runs[2].curves["v_loss"][0].y());
        QCOMPARE(overlay.plot()->graph(0)->name(), QString("r=0"));
        QCOMPARE(overlay.plot()->graph(4)->name(), QString("r=128"));
        // Text parameter: equal values share a colour, different values differ.
        overlay.setColorParameter("a_type");
        QCOMPARE(overlay.runColor("run-r0"), overlay.runColor("run-r64"));
        QVERIFY(overlay.runColor("run-r32") != overlay.runColor("run-r0"));
        QVERIFY(overlay.graph("run-r0")->name().contains("a_type=hid"));
        // Smoothing and log y apply to the overlay too.
        overlay.setMetric("t_loss");
        overlay.setSmoothing(0.9);
        QVector<double> raw;
        for (const QPointF& p : runs[0].curves["t_loss"])
            raw.push_back(p.y());
        QCOMPARE(values_of(overlay.graph("run-r64")), ema_smooth(raw, 0.9));
        overlay.setLogY(true);
        QCOMPARE(overlay.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    }

    void compare_view_screenshot() {
        CompareView view;
        RankSweep sweep = readme_sweep();
        view.setSweep(sweep);
        view.setRuns(sweep_runs());
        view.overlay()->setMetric("v_loss");
        view.overlay()->setColorParameter("lora_r");
        QVERIFY(rilq::test::show_offscreen(&view, QSize(1300, 520)));
        QCOMPARE(view.rankPlot()->baseline("wikitext2"), 433.65);
        QVERIFY(view.overlay()->graph("run-r128"));
        QVERIFY(rilq::test::save_screenshot(&view, "compare_view"));
    }
};

RILQ_TEST_MAIN(TestCompareView)
#include "test_compare_view.moc"
