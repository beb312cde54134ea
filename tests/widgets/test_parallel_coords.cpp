// Parallel coordinates: one axis per swept param and per varied result, brushing keeps exactly
// the runs whose values lie in every brushed range (both ends included; a run without a value on
// a brushed axis is out), the others are drawn dimmed, a click on an axis clears its brush, and
// Compare passes the brushed runs on (the main window selects them in Runs).
#include "tests/widgets/widget_test_support.h"
#include "widgets/compare_view.h"
#include "widgets/parallel_coords.h"

#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest/QtTest>

#include <cstdlib>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {

const QString kCompensated = QStringLiteral("PPL TinyStories \u00b7 compensated");

// Ranks 0, 2, 4, 16 x scopes model / linear. Compensated PPL 24 - r/2 (model), 25 - r/4
// (linear), none for rank 0; quantized 90 for all (not varied: no axis); ARC-e 0.4 + r/100.
double parallel_fixture_ppl(const QString& scope, int rank) {
    return scope == QLatin1String("model") ? 24.0 - rank / 2.0 : 25.0 - rank / 4.0;
}

QVector<BrowserRun> parallel_fixture_runs() {
    QVector<BrowserRun> runs;
    for (const QString& scope : {QStringLiteral("model"), QStringLiteral("linear")})
        for (int rank : {0, 2, 4, 16}) {
            BrowserRun run;
            run.uuid = QStringLiteral("%1-%2").arg(scope).arg(rank);
            run.name = run.uuid;
            run.status = RunStatus::Finished;
            run.params = {{QStringLiteral("rilq.lora_r"), QString::number(rank)},
                          {QStringLiteral("rilq.scope"), scope},
                          {QStringLiteral("quant.method"), QStringLiteral("rtn")}};
            run.perplexity = {{QStringLiteral("PPL TinyStories \u00b7 quantized"), 90.0}};
            if (rank > 0) run.perplexity.push_back({kCompensated, parallel_fixture_ppl(scope, rank)});
            run.accuracy = {{QStringLiteral("ARC-e"), 0.4 + rank / 100.0}};
            runs.push_back(run);
        }
    return runs;
}

// The fixture's runs for which `keep(scope, rank)` holds, in fixture order.
template <typename Keep> QStringList parallel_expected(Keep keep) {
    QStringList out;
    for (const QString& scope : {QStringLiteral("model"), QStringLiteral("linear")})
        for (int rank : {0, 2, 4, 16})
            if (keep(scope, rank)) out << QStringLiteral("%1-%2").arg(scope).arg(rank);
    return out;
}

} // namespace

class TestParallelCoords : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void axesAreSweptParamsThenVariedResults() {
        ParallelCoords view;
        view.setRuns(parallel_fixture_runs());
        QStringList titles;
        for (const ParallelAxis& axis : view.canvas()->axes())
            titles << axis.column.title;
        // quant.method and the quantized PPL are the same for every run: no axes.
        QCOMPARE(titles, (QStringList{QStringLiteral("rilq.lora_r"), QStringLiteral("rilq.scope"),
                                      kCompensated, QStringLiteral("ARC-e (%)")}));
        const ParallelAxis& scope = view.canvas()->axes()[1];
        QVERIFY(scope.categorical);
        QCOMPARE(scope.categories, (QStringList{QStringLiteral("linear"), QStringLiteral("model")}));
        const ParallelAxis& rank = view.canvas()->axes()[0];
        QVERIFY(!rank.categorical);
        QCOMPARE(rank.lo, 0.0);
        QCOMPARE(rank.hi, 16.0);
        // A param's values sit evenly spaced (ranks 0, 2, 4, 16), values between them in proportion.
        QCOMPARE(rank.steps, (QVector<double>{0.0, 2.0, 4.0, 16.0}));
        QCOMPARE(parallel_position(rank, 2.0), 1.0 / 3.0);
        QCOMPARE(parallel_position(rank, 3.0), 0.5);
        QCOMPARE(parallel_position(rank, 10.0), 2.5 / 3.0);
        QCOMPARE(parallel_value_at(rank, 2.5 / 3.0), 10.0);
        const ParallelAxis& ppl = view.canvas()->axes()[2];
        QVERIFY(ppl.steps.isEmpty()); // a result is linear between its extremes: 16 (model r16), 24.5
        QCOMPARE(ppl.lo, 16.0);
        QCOMPARE(ppl.hi, 24.5);
        QCOMPARE(parallel_position(ppl, 20.25), 0.5);
        QCOMPARE(view.colorColumn(), kCompensated);
        QVERIFY(!view.canvas()->hasBrush());
        QCOMPARE(view.canvas()->brushedRuns().size(), 8); // nothing brushed: every run
    }

    void brushKeepsExactlyTheRunsInRange() {
        ParallelCoords view;
        view.setRuns(parallel_fixture_runs());
        ParallelCanvas* canvas = view.canvas();
        const int ppl = canvas->axisIndex(kCompensated);
        QSignalSpy spy(&view, &ParallelCoords::brushChanged);
        canvas->setBrush(ppl, 21.0, 23.0); // ends included: model r=2 (23), r=4 (22); linear r=16 (21)
        const QStringList want = parallel_expected([](const QString& s, int r) {
            return r > 0 && parallel_fixture_ppl(s, r) >= 21.0 && parallel_fixture_ppl(s, r) <= 23.0;
        });
        QCOMPARE(want, (QStringList{"model-2", "model-4", "linear-16"}));
        QCOMPARE(canvas->brushedRuns(), want);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.last().at(0).toStringList(), want);
        QVERIFY(spy.last().at(1).toBool());
        // A second brush intersects: scope "model" is category 1 of (linear, model).
        canvas->setBrush(canvas->axisIndex(QStringLiteral("rilq.scope")), 0.5, 1.5);
        QCOMPARE(canvas->brushedRuns(), (QStringList{"model-2", "model-4"}));
        QVERIFY(canvas->isDimmed(QStringLiteral("linear-16")));
        QCOMPARE(canvas->runColor(QStringLiteral("linear-16")).alpha() < 255, true); // dimmed grey
        QVERIFY(!canvas->isDimmed(QStringLiteral("model-4")));
        canvas->clearBrushes();
        QCOMPARE(canvas->brushedRuns().size(), 8);
        QVERIFY(!spy.last().at(1).toBool());
    }

    // What a user does: drag along the rank axis from 3 to past its top (16), then click the axis.
    void dragOnAnAxisBrushesAndAClickClears() {
        ParallelCoords view;
        view.setRuns(parallel_fixture_runs());
        QVERIFY(rilq::test::show_offscreen(&view, QSize(900, 460)));
        ParallelCanvas* canvas = view.canvas();
        const int rank = canvas->axisIndex(QStringLiteral("rilq.lora_r"));
        const double x = canvas->axisX(rank);
        const QPointF from(x + 3, canvas->pixelY(rank, 3.0)), to(x - 2, canvas->pixelY(rank, 17.0));
        rilq::test::send_mouse(canvas, QEvent::MouseButtonPress, from, Qt::LeftButton);
        rilq::test::send_mouse(canvas, QEvent::MouseMove, (from + to) / 2);
        rilq::test::send_mouse(canvas, QEvent::MouseMove, to);
        rilq::test::send_mouse(canvas, QEvent::MouseButtonRelease, to, Qt::LeftButton);
        QVERIFY(canvas->axes()[rank].brush.has_value());
        const auto [lo, hi] = *canvas->axes()[rank].brush;
        QVERIFY2(std::abs(lo - 3.0) < 0.2, qPrintable(QString::number(lo)));
        QCOMPARE(hi, 16.0); // a drag past the axis' end stops at it
        QCOMPARE(canvas->brushedRuns(), parallel_expected([](const QString&, int r) { return r >= 4; }));
        QVERIFY(rilq::test::save_screenshot(&view, QStringLiteral("compare-parallel")));
        // A click (no drag) on the axis clears that brush.
        rilq::test::send_mouse(canvas, QEvent::MouseButtonPress, QPointF(x, canvas->pixelY(rank, 8.0)),
                               Qt::LeftButton);
        rilq::test::send_mouse(canvas, QEvent::MouseButtonRelease, QPointF(x, canvas->pixelY(rank, 8.0)),
                               Qt::LeftButton);
        QVERIFY(!canvas->hasBrush());
        // A drag away from every axis brushes nothing.
        const double between = (canvas->axisX(0) + canvas->axisX(1)) / 2;
        rilq::test::send_mouse(canvas, QEvent::MouseButtonPress, QPointF(between, 100), Qt::LeftButton);
        rilq::test::send_mouse(canvas, QEvent::MouseMove, QPointF(between, 200));
        rilq::test::send_mouse(canvas, QEvent::MouseButtonRelease, QPointF(between, 200), Qt::LeftButton);
        QVERIFY(!canvas->hasBrush());
    }

    void brushSurvivesNewRunsAndReachesCompare() {
        CompareView compare;
        QSignalSpy spy(&compare, &CompareView::runsBrushed);
        QVector<BrowserRun> runs = parallel_fixture_runs();
        compare.setResults(runs);
        ParallelCanvas* canvas = compare.parallel()->canvas();
        canvas->setBrush(canvas->axisIndex(QStringLiteral("ARC-e (%)")), 0.43,
                         0.6); // ranks 4 (0.44), 16 (0.56)
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.last().at(0).toStringList(),
                 parallel_expected([](const QString&, int r) { return r >= 4; }));
        runs.removeLast(); // linear-16 gone; the brush stays on its axis
        compare.setResults(runs);
        QCOMPARE(canvas->brushedRuns(), (QStringList{"model-4", "model-16", "linear-4"}));
        QCOMPARE(compare.figureTabs()->count(), 3);
        QCOMPARE(compare.figureTabs()->tabText(2), QStringLiteral("Parallel coordinates"));
    }

    // Save figure writes the canvas alone: a PNG of twice its pixels whose line colours are the
    // runs' colours, an SVG with one stroked path per run at least and the axis titles as text,
    // a PDF; a wrong suffix or a missing folder is an error naming the file.
    void saveFigureWritesTheChartAlone() {
        ParallelCoords view;
        view.resize(900, 500);
        view.setRuns(parallel_fixture_runs());
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        ParallelCanvas* canvas = view.canvas();
        QTemporaryDir dir;
        QString error;

        QVERIFY2(view.saveFigure(dir.filePath("p.png"), &error), qPrintable(error));
        const QImage png(dir.filePath("p.png"));
        QCOMPARE(png.size(), canvas->size() * 2);
        // A run's line crosses the middle between the first two axes in its own colour (within
        // antialiasing's blending).
        const QColor line = canvas->runColor(QStringLiteral("model-16"));
        const auto near = [&line](const QColor& c) {
            return std::abs(c.red() - line.red()) + std::abs(c.green() - line.green()) +
                       std::abs(c.blue() - line.blue()) <
                   40;
        };
        bool found = false;
        for (int y = 0; y < png.height() && !found; ++y)
            found = near(png.pixelColor(int(canvas->axisX(0) + canvas->axisX(1)), y));
        QVERIFY2(found, "no pixel of model-16's colour between the first two axes");

        QVERIFY2(view.saveFigure(dir.filePath("p.svg"), &error), qPrintable(error));
        QFile svg_file(dir.filePath("p.svg"));
        QVERIFY(svg_file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svg_file);
        int paths = 0;
        QStringList texts;
        while (!xml.atEnd()) {
            xml.readNext();
            if (xml.isStartElement() &&
                (xml.name() == QLatin1String("path") || xml.name() == QLatin1String("polyline")))
                ++paths; // QSvgGenerator writes drawPolyline as <polyline>, drawPath as <path>
            if (xml.isStartElement() && xml.name() == QLatin1String("text")) texts << xml.readElementText();
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY2(paths >= parallel_fixture_runs().size(), qPrintable(QString::number(paths)));
        QVERIFY2(texts.join(' ').contains(QStringLiteral("rilq.lora_r")), qPrintable(texts.join('|')));
        QVERIFY(!texts.join(' ').contains(QStringLiteral("Clear brushes"))); // no controls

        QVERIFY2(view.saveFigure(dir.filePath("p.pdf"), &error), qPrintable(error));
        QFile pdf(dir.filePath("p.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QCOMPARE(pdf.read(5), QByteArray("%PDF-"));

        QVERIFY(!view.saveFigure(dir.filePath("p.gif"), &error));
        QVERIFY2(error.contains(dir.filePath("p.gif")), qPrintable(error));
        QVERIFY(!view.saveFigure(QStringLiteral("/nonexistent-folder/p.svg"), &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent-folder/p.svg")), qPrintable(error));
    }
};

RILQ_TEST_MAIN(TestParallelCoords)
#include "test_parallel_coords.moc"
