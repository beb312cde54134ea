// chart_style: palette, colour by parameter, EMA smoothing invariants (checked against the
// TensorBoard formula written out independently), and PNG / PDF saving of charts and widgets.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/rank_plot.h"

#include <QImage>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cmath>
#include <random>

using namespace rilq::widgets;

namespace {
// TensorBoard's smoothing as its frontend writes it (last = last*w + (1-w)*x; last / (1 - w^n)),
// an independent reference for EmaSmoother, which uses a normalised weighted sum instead.
QVector<double> tensorboard_ema(const QVector<double>& xs, double w) {
    QVector<double> out;
    double last = 0.0;
    int n = 0;
    for (double x : xs) {
        if (!std::isfinite(x)) {
            out.push_back(std::nan(""));
            continue;
        }
        last = last * w + (1 - w) * x;
        ++n;
        out.push_back(last / (1 - std::pow(w, n)));
    }
    return out;
}

QVector<double> noisy_loss(int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.15);
    QVector<double> v;
    for (int i = 0; i < n; ++i)
        v.push_back(2.0 + 3.0 * std::exp(-i / 80.0) + noise(rng));
    return v;
}

QCustomPlot* sample_plot(QWidget* parent) {
    auto* plot = new QCustomPlot(parent);
    apply_plot_style(plot);
    plot->xAxis->setLabel("optimizer step");
    plot->yAxis->setLabel("loss");
    QCPGraph* g = plot->addGraph();
    const QVector<double> raw = noisy_loss(400, 7);
    QVector<double> keys(raw.size());
    for (int i = 0; i < keys.size(); ++i)
        keys[i] = i;
    g->setData(keys, ema_smooth(raw, 0.9));
    g->setPen(QPen(categorical_color(0), 2));
    g->setName("smoothed");
    plot->legend->setVisible(true);
    plot->rescaleAxes();
    return plot;
}
} // namespace

class TestCharts : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // The rank figure's protocol line wraps: a long one must not make the window wider than a screen.
    void long_protocol_line_wraps() {
        rilq::widgets::RankPlot plot;
        rilq::widgets::RankSweep sweep;
        sweep.points = {{"Wiki2", "model", 0, 40.0}, {"Wiki2", "model", 16, 20.0}};
        sweep.protocol =
            QString("Protocol: ") + QString("calibration tinystories_calib 160 x 256; ").repeated(20);
        plot.setSweep(sweep);
        QVERIFY2(plot.minimumSizeHint().width() < 800,
                 qPrintable(QString::number(plot.minimumSizeHint().width())));
    }

    void palette_is_distinct_and_wraps() {
        QSet<QRgb> seen;
        for (int i = 0; i < categorical_palette_size(); ++i)
            seen.insert(categorical_color(i).rgb());
        QCOMPARE(int(seen.size()), categorical_palette_size());
        QCOMPARE(categorical_color(categorical_palette_size() + 2), categorical_color(2));
        QCOMPARE(categorical_color(-1), categorical_color(categorical_palette_size() - 1));
    }

    void viridis_end_points() {
        QCOMPARE(sequential_color(0.0), QColor(68, 1, 84));
        QCOMPARE(sequential_color(1.0), QColor(253, 231, 37));
        QCOMPARE(sequential_color(-3.0), QColor(68, 1, 84)); // clamped
        // Halfway between stops 4 (33,145,140) and 5 (39,173,129) at t = 4.5/8.
        QCOMPARE(sequential_color(4.5 / 8.0), QColor(36, 159, 135));
    }

    void parameter_colors_by_scale() {
        const ParameterColorMap log2({16, 32, 64, 128}, ColorScale::Log2);
        QCOMPARE(log2.position(16), 0.0);
        QVERIFY(std::abs(log2.position(32) - 1.0 / 3.0) < 1e-12);
        QVERIFY(std::abs(log2.position(64) - 2.0 / 3.0) < 1e-12);
        QCOMPARE(log2.position(128), 1.0);
        const ParameterColorMap linear({0, 50, 100}, ColorScale::Linear);
        QCOMPARE(linear.position(25), 0.25);
        // Ordinal: rank 0 gets its own colour, ranks evenly spaced whatever their values.
        const ParameterColorMap ordinal({128, 0, 16, 64, 32, 16}, ColorScale::Ordinal);
        QCOMPARE(ordinal.position(0), 0.0);
        QCOMPARE(ordinal.position(16), 0.25);
        QCOMPARE(ordinal.position(64), 0.75);
        QCOMPARE(ordinal.position(128), 1.0);
        QVERIFY(ordinal.color_for(0) != ordinal.color_for(16));
        QCOMPARE(ordinal.color_for(128), sequential_color(0.9)); // brightest yellow is skipped
        const ParameterColorMap single({5}, ColorScale::Linear);
        QCOMPARE(single.position(5), 0.5);
    }

    void ema_matches_tensorboard_formula() {
        const QVector<double> raw = noisy_loss(500, 1);
        for (double w : {0.0, 0.3, 0.6, 0.9, 0.99}) {
            const QVector<double> ours = ema_smooth(raw, w);
            const QVector<double> ref = tensorboard_ema(raw, w);
            double max_diff = 0.0;
            for (int i = 0; i < raw.size(); ++i)
                max_diff = std::max(max_diff, std::abs(ours[i] - ref[i]));
            QVERIFY2(max_diff < 1e-12, qPrintable(QString("w=%1 max diff %2").arg(w).arg(max_diff)));
        }
        // weight 0 is the identity.
        QCOMPARE(ema_smooth(raw, 0.0), raw);
    }

    void ema_constant_series_stays_exactly_constant() {
        // 0.1 and 2/3 are not representable: rounding in a naive EMA drifts by an ulp or two.
        for (double c : {0.1, 2.0 / 3.0, 1e-7, 123456.789}) {
            const QVector<double> flat(3000, c);
            for (double w : {0.5, 0.9, 0.99, 0.999}) {
                const QVector<double> s = ema_smooth(flat, w);
                for (int i = 0; i < s.size(); ++i)
                    if (s[i] != c)
                        QFAIL(qPrintable(
                            QString("c=%1 w=%2 i=%3 got %4").arg(c).arg(w).arg(i).arg(s[i], 0, 'g', 17)));
            }
        }
        // A naive EMA does drift here (so the test above can fail):
        double last = 0.0;
        bool drifted = false;
        for (int n = 1; n <= 3000; ++n) {
            last = last * 0.9 + 0.1 * 0.1;
            drifted = drifted || last / (1 - std::pow(0.9, n)) != 0.1;
        }
        QVERIFY(drifted);
    }

    void ema_step_function_stays_in_range() {
        QVector<double> step(60, 1.0);
        step += QVector<double>(60, 5.0);
        const QVector<double> s = ema_smooth(step, 0.8);
        for (int i = 0; i < 60; ++i)
            QVERIFY(s[i] == 1.0);
        for (int i = 60; i < s.size(); ++i) {
            QVERIFY(s[i] >= 1.0 && s[i] <= 5.0);
            QVERIFY(s[i] >= s[i - 1]); // no overshoot, no ringing
        }
        QVERIFY(std::abs(s.back() - 5.0) < 1e-4); // 0.8^60 ~ 1.5e-6 of the gap is left
    }

    void ema_never_leaves_the_running_raw_range() {
        const QVector<double> raw = noisy_loss(2000, 3);
        for (double w : {0.5, 0.95, 0.999}) {
            const QVector<double> s = ema_smooth(raw, w);
            double lo = raw[0], hi = raw[0];
            for (int i = 0; i < raw.size(); ++i) {
                lo = std::min(lo, raw[i]);
                hi = std::max(hi, raw[i]);
                QVERIFY(s[i] >= lo && s[i] <= hi);
            }
        }
    }

    void ema_skips_nan_and_inf() {
        const double nan = std::nan("");
        const QVector<double> s = ema_smooth({1.0, nan, 3.0, INFINITY, 3.0}, 0.5);
        QCOMPARE(s[0], 1.0);
        QVERIFY(std::isnan(s[1]));
        // By hand: (0.5 * 1 + 3) / (0.5 + 1) = 7/3; then (0.5 * 3.5 + 3) / (0.75 + 1) = 19/7.
        QVERIFY(std::abs(s[2] - 7.0 / 3.0) < 1e-15);
        QVERIFY(std::isnan(s[3]));
        QVERIFY(std::abs(s[4] - 19.0 / 7.0) < 1e-15);
    }

    void save_plot_png_and_pdf() {
        QWidget host;
        QCustomPlot* plot = sample_plot(&host);
        plot->resize(600, 400);
        const QString dir = QString::fromStdString(rilq::test::make_temp_dir("charts"));
        QString error;
        QVERIFY2(save_plot(plot, dir + "/loss.png", &error, 600, 400), qPrintable(error));
        QImage png(dir + "/loss.png");
        QVERIFY(!png.isNull());
        QCOMPARE(png.size(), QSize(1200, 800)); // saved at 2x
        int coloured = 0;                       // the curve is there: pixels of the palette's blue
        for (int y = 0; y < png.height(); y += 2)
            for (int x = 0; x < png.width(); x += 2) {
                const QColor c = png.pixelColor(x, y);
                if (c.blue() > 150 && c.red() < 60) ++coloured;
            }
        QVERIFY2(coloured > 200, qPrintable(QString("only %1 curve pixels").arg(coloured)));

        QVERIFY2(save_plot(plot, dir + "/loss.PDF", &error), qPrintable(error));
        const QByteArray pdf =
            QByteArray::fromStdString(rilq::test::read_file((dir + "/loss.PDF").toStdString()));
        QVERIFY(pdf.startsWith("%PDF-"));
        QVERIFY(pdf.trimmed().endsWith("%%EOF"));
        QVERIFY(pdf.size() > 2000);

        QVERIFY(!save_plot(plot, dir + "/loss.gif", &error));
        QVERIFY2(error.contains("loss.gif") && error.contains("gif"), qPrintable(error));
        QVERIFY(!save_plot(plot, "/nonexistent-folder/x.png", &error));
        QVERIFY2(error.contains("/nonexistent-folder/x.png"), qPrintable(error));
    }
};

RILQ_TEST_MAIN(TestCharts)
#include "test_charts.moc"
