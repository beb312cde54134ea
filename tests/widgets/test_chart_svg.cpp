// Saving a chart as SVG: the file is well-formed XML whose strokes (<polyline>, <path>) trace
// the plotted curves - each data point of a graph lies on the stroke of that graph's colour at the pixel the
// plot maps it to - and holds none of the view's controls (only the chart is painted).
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_overlay.h"

#include <QRegularExpression>
#include <QXmlStreamReader>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {

struct SvgPath {
    QString stroke;          // "#rrggbb" of the enclosing group or the path itself
    QVector<QPointF> points; // every coordinate pair of its "d", after the group's translation
};

// The strokes of an SVG written by QSvgGenerator: <g> groups carry fill/stroke and a matrix
// transform; a curve is a <polyline points="x,y x,y ..."> (or a <path d="M x,y L x,y ...">).
// Fails on malformed XML.
bool svg_paths_of(const QByteArray& svg, QVector<SvgPath>* paths, QString* error) {
    QXmlStreamReader xml(svg);
    QVector<QString> strokes{QString()};
    QVector<QPointF> offsets{QPointF()};
    const QRegularExpression number(QStringLiteral("-?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?"));
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            const auto attributes = xml.attributes();
            QString stroke =
                attributes.hasAttribute("stroke") ? attributes.value("stroke").toString() : strokes.back();
            QPointF offset = offsets.back();
            const QString transform = attributes.value("transform").toString();
            if (transform.startsWith(QStringLiteral("matrix("))) { // matrix(a,b,c,d,e,f): translation e,f
                QStringList m;
                for (auto it = number.globalMatch(transform); it.hasNext();)
                    m.push_back(it.next().captured());
                if (m.size() == 6) offset = QPointF(m[4].toDouble(), m[5].toDouble());
            }
            const bool polyline = xml.name() == QLatin1String("polyline");
            if (polyline || xml.name() == QLatin1String("path")) {
                SvgPath path;
                path.stroke = stroke.toLower();
                QVector<double> values;
                const QString coordinates = attributes.value(polyline ? "points" : "d").toString();
                for (auto it = number.globalMatch(coordinates); it.hasNext();)
                    values.push_back(it.next().captured().toDouble());
                for (int i = 0; i + 1 < values.size(); i += 2)
                    path.points.push_back(QPointF(values[i], values[i + 1]) + offset);
                paths->push_back(path);
            }
            strokes.push_back(stroke);
            offsets.push_back(offset);
        } else if (xml.isEndElement()) {
            strokes.pop_back();
            offsets.pop_back();
        }
    }
    if (xml.hasError()) *error = xml.errorString();
    return !xml.hasError();
}

} // namespace

class TestChartSvg : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void svgHoldsThePlottedPaths() {
        RunOverlay overlay;
        QVector<RunCurve> runs;
        for (int rank : {4, 16}) {
            RunCurve run;
            run.run_id = QStringLiteral("r%1").arg(rank);
            run.params = {{QStringLiteral("lora_r"), QString::number(rank)}};
            for (int step = 1; step <= 8; ++step)
                run.curves[QStringLiteral("v_loss")].push_back(
                    QPointF(step * 25, 2.0 + rank / 4.0 + 3.0 / step));
            runs.push_back(run);
        }
        overlay.setRuns(runs);
        QVERIFY(rilq::test::show_offscreen(&overlay, QSize(800, 500)));
        QCustomPlot* plot = overlay.plot();
        plot->replot();
        const QString dir = QString::fromStdString(rilq::test::make_temp_dir("chart-svg"));
        const QString path = dir + "/overlay.SVG";
        QString error;
        QVERIFY2(save_plot(plot, path, &error), qPrintable(error));
        const QByteArray svg = QByteArray::fromStdString(rilq::test::read_file(path.toStdString()));
        QVERIFY(svg.contains("<svg"));
        QVERIFY(svg.contains(QByteArray("width=\"") + QByteArray::number(plot->width())));
        QVector<SvgPath> paths;
        QVERIFY2(svg_paths_of(svg, &paths, &error), qPrintable(error));

        for (const QString& id : {QStringLiteral("r4"), QStringLiteral("r16")}) {
            QCPGraph* g = overlay.graph(id);
            const QString color = g->pen().color().name();
            // The path of the curve's colour whose vertices are the data points' pixels.
            bool found = false;
            for (const SvgPath& p : paths) {
                if (p.stroke != color || p.points.size() < g->dataCount()) continue;
                int matched = 0;
                for (const QCPGraphData& d : *g->data()) {
                    const QPointF want(g->keyAxis()->coordToPixel(d.key),
                                       g->valueAxis()->coordToPixel(d.value));
                    for (const QPointF& v : p.points)
                        if (std::abs(v.x() - want.x()) < 0.6 && std::abs(v.y() - want.y()) < 0.6) {
                            ++matched;
                            break;
                        }
                }
                found = found || matched == g->dataCount();
            }
            QVERIFY2(found, qPrintable(QString("no %1 path through the points of %2").arg(color, id)));
        }
        QVERIFY(svg.contains("<text")); // the axis titles and legend are text, not pixels
        QVERIFY(svg.contains("v_loss"));
        // Only the chart: the overlay's combo boxes and check boxes paint no text into it.
        QVERIFY(!svg.contains("colour by"));
        QVERIFY(!svg.contains("smoothing"));

        QVERIFY(!save_plot(plot, "/nonexistent-folder/x.svg", &error));
        QVERIFY2(error.contains("/nonexistent-folder/x.svg"), qPrintable(error));
    }
};

RILQ_TEST_MAIN(TestChartSvg)
#include "test_chart_svg.moc"
