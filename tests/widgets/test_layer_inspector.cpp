// LayerStatsTable + LayerHeatmap + LayerInspector: the heat map shows exactly the table's values
// for the chosen metric and stage, a click on a cell names the right linear in core's naming, and
// the side panel / histograms / per-layer bars show that linear's and those layers' numbers.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/layer_heatmap.h"
#include "widgets/layer_inspector.h"
#include "widgets/qcustomplot_include.h"

#include <QSignalSpy>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>

using namespace rilq::widgets;

namespace {
constexpr int kLayers = 8;

// Error of a 2-bit RTN linear, made up but shaped like real ones: grows with depth, v/down worst.
double quant_error(int layer, int column) {
    const double by_column[7] = {0.30, 0.31, 0.36, 0.33, 0.32, 0.32, 0.38};
    return by_column[column] + 0.006 * layer;
}

LayerStatsTable make_table() {
    LayerStatsTable t;
    for (int layer = 0; layer < kLayers; ++layer)
        for (int c = 0; c < 7; ++c) {
            const QString module = projection_modules()[c];
            const double q = quant_error(layer, c);
            const double comp = 0.55 * q; // compensation removes part of the error
            t.setValue(kStageQuantized, layer, module, kMetricRelError, q);
            t.setValue(kStageCompensated, layer, module, kMetricRelError, comp);
            t.setValue(kStageFp, layer, module, kMetricRelError, 0.0);
            t.setValue(kStageQuantized, layer, module, kMetricSqnrDb, 20 * std::log10(1 / q));
            t.setValue(kStageCompensated, layer, module, kMetricSqnrDb, 20 * std::log10(1 / comp));
            t.setValue(kStageQuantized, layer, module, kMetricEntropy, 1.80 + 0.01 * c);
            t.setValue(kStageQuantized, layer, module, energy_metric_key(16), 0.12 + 0.01 * layer);
        }
    return t;
}
} // namespace

class TestLayerInspector : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // Without statistics the view says where they come from instead of drawing a fake heat map.
    void empty_view_says_what_to_do() {
        LayerInspector inspector;
        QVERIFY(inspector.isEmpty());
        QVERIFY(inspector.emptyMessage().contains("Runs tab"));
        inspector.setStats(make_table());
        QVERIFY(!inspector.isEmpty());
        inspector.setStats(LayerStatsTable{});
        QVERIFY(inspector.isEmpty());
    }

    void names_and_columns() {
        QCOMPARE(projection_column("q"), 0);
        QCOMPARE(projection_column("k_proj"), 1);
        QCOMPARE(projection_column("self_attn.o_proj"), 3);
        QCOMPARE(projection_column("layers.11.mlp.gate_proj"), 4);
        QCOMPARE(projection_column("mlp.down_proj"), 6);
        QCOMPARE(projection_column("lm_head"), -1);
        QCOMPARE(linear_name(3, "up"), QString("layers.3.mlp.up_proj"));
        QCOMPARE(linear_name(0, "self_attn.v_proj"), QString("layers.0.self_attn.v_proj"));
        QCOMPARE(metric_display_name(energy_metric_key(64)), QString("error energy @ r=64"));
        QCOMPARE(metric_display_name("my_metric"), QString("my_metric"));
    }

    void table_orders_stages_and_keeps_values() {
        LayerStatsTable t;
        t.setValue(kStageCompensated, 1, "q", kMetricRelError, 0.2);
        t.setValue(kStageFp, 0, "self_attn.q_proj", kMetricRelError, 0.0);
        t.setValue("custom", 0, "q", kMetricRelError, 0.5);
        t.setValue(kStageQuantized, 0, "layers.0.self_attn.q_proj", kMetricRelError, 0.4);
        QCOMPARE(t.stages(), QStringList({kStageFp, kStageQuantized, kStageCompensated, "custom"}));
        QCOMPARE(t.layerCount(), 2);
        // All spellings of a module land on one key.
        QCOMPARE(t.value(kStageQuantized, 0, "q_proj", kMetricRelError), 0.4);
        QVERIFY(std::isnan(t.value(kStageQuantized, 1, "q", kMetricRelError)));
        double lo = 0, hi = 0;
        QVERIFY(t.range(kMetricRelError, &lo, &hi));
        QCOMPARE(lo, 0.0);
        QCOMPARE(hi, 0.5);
        QVERIFY(!t.range(kMetricSqnrDb, &lo, &hi));
    }

    void heatmap_cells_equal_the_table() {
        const LayerStatsTable table = make_table();
        LayerHeatmap map;
        map.setData(table, kStageQuantized, kMetricRelError, false);
        QCOMPARE(map.layerCount(), kLayers);
        for (int layer = 0; layer < kLayers; ++layer)
            for (int c = 0; c < 7; ++c)
                QCOMPARE(map.cellValue(layer, c), quant_error(layer, c));
        QCOMPARE(map.rangeLower(), quant_error(0, 0));
        QCOMPARE(map.rangeUpper(), quant_error(kLayers - 1, 6));
        // Shared range: the colour scale spans all stages (fp 0 ... quantized max).
        map.setData(table, kStageCompensated, kMetricRelError, true);
        QCOMPARE(map.cellValue(2, 6), 0.55 * quant_error(2, 6));
        QCOMPARE(map.rangeLower(), 0.0);
        QCOMPARE(map.rangeUpper(), quant_error(kLayers - 1, 6));
        // Stage without that metric: NaN cells (drawn transparent).
        map.setData(table, kStageFp, kMetricSqnrDb);
        QVERIFY(std::isnan(map.cellValue(0, 0)));
        QVERIFY(std::isnan(map.cellValue(kLayers, 0))); // out of range
    }

    void click_selects_the_linear() {
        LayerInspector inspector;
        LayerStatsTable table = make_table();
        table.setCodeHistogram(3, "gate", {{0, 1, 2, 3}, {1200, 4100, 3900, 1100}, 1.0});
        table.setOffsetHistogram(3, "", {{-0.04, -0.02, 0.0, 0.02, 0.04}, {3, 10, 40, 12, 2}, 0.02});
        inspector.setStats(table);
        QCOMPARE(inspector.stage(), kStageQuantized); // the informative default
        QCOMPARE(inspector.metric(), kMetricRelError);
        QVERIFY(rilq::test::show_offscreen(&inspector, QSize(1100, 760)));
        QCustomPlot* plot = inspector.heatmap()->plot();
        plot->replot();
        QSignalSpy spy(&inspector, &LayerInspector::linearSelected);
        const QPointF at = inspector.heatmap()->cellCenter(3, 4);
        // Click slightly off-centre: still inside the cell of layer 3, column "gate".
        rilq::test::send_mouse(plot, QEvent::MouseButtonPress, at + QPointF(4, 3), Qt::LeftButton);
        rilq::test::send_mouse(plot, QEvent::MouseButtonRelease, at + QPointF(4, 3), Qt::LeftButton);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QString("layers.3.mlp.gate_proj"));
        QCOMPARE(inspector.selectedLinear(), QString("layers.3.mlp.gate_proj"));
        // Details: every metric at every stage for that linear; "–" where a stage lacks it.
        const QString details = inspector.detailsText();
        const double q = quant_error(3, 4);
        QVERIFY2(details.startsWith("layers.3.mlp.gate_proj\n"), qPrintable(details));
        QVERIFY2(details.contains(QString("relative weight error: 0 / %1 / %2")
                                      .arg(QString::number(q, 'g', 4), QString::number(0.55 * q, 'g', 4))),
                 qPrintable(details));
        QVERIFY2(details.contains("code entropy (bits): – / 1.84 / –"), qPrintable(details));
        // Code histogram: the four code counts; offsets: the layer's histogram (fallback).
        QCOMPARE(inspector.codeHistogramPlot()->plottableCount(), 1);
        auto* codes = qobject_cast<QCPBars*>(inspector.codeHistogramPlot()->plottable(0));
        QVERIFY(codes);
        QCOMPARE(codes->dataCount(), 4);
        QCOMPARE(codes->data()->at(1)->value, 4100.0);
        auto* offsets = qobject_cast<QCPBars*>(inspector.offsetHistogramPlot()->plottable(0));
        QVERIFY(offsets);
        QCOMPARE(offsets->dataCount(), 5);
        QCOMPARE(offsets->data()->at(2)->value, 40.0);
        QVERIFY(rilq::test::save_screenshot(&inspector, "layer_inspector"));

        // A click outside the grid selects nothing new.
        rilq::test::send_mouse(plot, QEvent::MouseButtonPress, QPointF(2, 2), Qt::LeftButton);
        QCOMPARE(spy.count(), 1);
        // A linear of a layer with no histograms at all: both plots empty.
        inspector.selectLinear(5, "q");
        QCOMPARE(spy.last().at(0).toString(), QString("layers.5.self_attn.q_proj"));
        QCOMPARE(inspector.codeHistogramPlot()->plottableCount(), 0);
        QCOMPARE(inspector.offsetHistogramPlot()->plottableCount(), 0);
    }

    void per_layer_bars_are_stage_means() {
        LayerInspector inspector;
        const LayerStatsTable table = make_table();
        inspector.setStats(table);
        QCustomPlot* bars = inspector.layerBars();
        QCOMPARE(bars->plottableCount(), 3); // fp, quantized, compensated
        for (int s = 0; s < 3; ++s) {
            auto* b = qobject_cast<QCPBars*>(bars->plottable(s));
            QCOMPARE(b->name(), table.stages()[s]);
            QCOMPARE(b->dataCount(), kLayers);
            for (int layer = 0; layer < kLayers; ++layer) {
                double sum = 0;
                for (int c = 0; c < 7; ++c)
                    sum += quant_error(layer, c);
                const double factor = s == 0 ? 0.0 : s == 1 ? 1.0 : 0.55;
                QVERIFY(std::abs(b->data()->at(layer)->value - factor * sum / 7) < 1e-12);
            }
        }
        // Switching metric: only stages that have it get bars with data.
        inspector.setMetric(energy_metric_key(16));
        QCOMPARE(inspector.heatmap()->cellValue(7, 0), 0.12 + 0.07);
        int with_data = 0;
        for (int s = 0; s < bars->plottableCount(); ++s)
            with_data += qobject_cast<QCPBars*>(bars->plottable(s))->dataCount() > 0 ? 1 : 0;
        QCOMPARE(with_data, 1);
        inspector.setStage(kStageCompensated);
        inspector.setMetric(kMetricSqnrDb);
        QCOMPARE(inspector.heatmap()->cellValue(0, 0), 20 * std::log10(1 / (0.55 * quant_error(0, 0))));
    }

    void screenshot_deep_model() {
        // 32 layers: cell labels give way to colour only; still readable.
        LayerStatsTable t;
        for (int layer = 0; layer < 32; ++layer)
            for (int c = 0; c < 7; ++c) {
                const double q = quant_error(layer, c) * (1 + 0.4 * std::sin(layer * 0.7 + c));
                t.setValue(kStageQuantized, layer, projection_modules()[c], kMetricRelError, q);
                t.setValue(kStageCompensated, layer, projection_modules()[c], kMetricRelError, 0.6 * q);
            }
        LayerInspector inspector;
        inspector.setStats(t);
        inspector.selectLinear(10, "v");
        QVERIFY(rilq::test::show_offscreen(&inspector, QSize(1100, 760)));
        QCOMPARE(inspector.heatmap()->layerCount(), 32);
        QVERIFY(rilq::test::save_screenshot(&inspector, "layer_inspector_32_layers"));
    }
};

RILQ_TEST_MAIN(TestLayerInspector)
#include "test_layer_inspector.moc"
