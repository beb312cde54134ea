// Params vs metric: one dot per run at (param, result), coloured by a second param; the axes are
// the Runs table's columns, so a run reads the same in both; runs without the result are left out.
#include "tests/widgets/widget_test_support.h"
#include "widgets/compare_view.h"
#include "widgets/param_scatter.h"
#include "widgets/qcustomplot_include.h"

#include <QTabWidget>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {

// ranks 0, 4, 16 x scopes model / linear; compensated PPL 20 - r/2 (model), 22 - r/4 (linear);
// rank 0 has no compensated PPL (it trains nothing); accuracy 0.5 + r/64.
QVector<BrowserRun> scatter_fixture_runs() {
    QVector<BrowserRun> runs;
    for (const QString& scope : {QStringLiteral("model"), QStringLiteral("linear")})
        for (int rank : {0, 4, 16}) {
            BrowserRun run;
            run.uuid = QStringLiteral("%1-%2").arg(scope).arg(rank);
            run.name = run.uuid;
            run.status = RunStatus::Finished;
            run.params = {{QStringLiteral("rilq.lora_r"), QString::number(rank)},
                          {QStringLiteral("rilq.scope"), scope}};
            run.perplexity = {{QStringLiteral("PPL TinyStories · fp"), 10.0},
                              {QStringLiteral("PPL TinyStories · quantized"), 90.0}};
            if (rank > 0)
                run.perplexity.push_back({QStringLiteral("PPL TinyStories · compensated"),
                                          scope == "model" ? 20.0 - rank / 2.0 : 22.0 - rank / 4.0});
            run.accuracy = {{QStringLiteral("ARC-e"), 0.5 + rank / 64.0}};
            runs.push_back(run);
        }
    return runs;
}

} // namespace

class TestParamScatter : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void rankAgainstCompensatedPplByScope() {
        ParamScatter scatter;
        scatter.setRuns(scatter_fixture_runs());
        QCOMPARE(scatter.xColumn(), QStringLiteral("rilq.lora_r")); // the numeric varied param
        QCOMPARE(scatter.yColumn(), QStringLiteral("PPL TinyStories · compensated"));
        QCOMPARE(scatter.colorColumn(), QStringLiteral("rilq.scope"));
        QVERIFY(!scatter.xChoices().contains("rilq.scope")); // text: not an axis
        QVERIFY(scatter.yChoices().contains("ARC-e (%)"));
        QCOMPARE(scatter.groups(), (QStringList{"linear", "model"}));
        QCOMPARE(rilq::test::keys_of(scatter.group("model")), (QVector<double>{4, 16}));
        QCOMPARE(rilq::test::values_of(scatter.group("model")), (QVector<double>{18, 12}));
        QCOMPARE(rilq::test::values_of(scatter.group("linear")), (QVector<double>{21, 18}));
        QVERIFY(!scatter.logY()); // 12..21: one linear axis
        QVERIFY(rilq::test::show_offscreen(&scatter, QSize(700, 450)));
        QVERIFY(rilq::test::save_screenshot(&scatter, "param_scatter"));
    }

    void otherAxesAndColours() {
        ParamScatter scatter;
        scatter.setRuns(scatter_fixture_runs());
        scatter.setYColumn("ARC-e (%)"); // every run has it: rank 0 too, in percent
        QCOMPARE(rilq::test::keys_of(scatter.group("model")), (QVector<double>{0, 4, 16}));
        QCOMPARE(rilq::test::values_of(scatter.group("model")), (QVector<double>{50, 56.25, 75}));
        scatter.setColorColumn(QString());
        QCOMPARE(scatter.groups(), QStringList{QString()});
        QCOMPARE(rilq::test::keys_of(scatter.group(QString())).size(), 6);
        // Quantized PPL (90) beside FP (10) on x / y: a metric on x works too; 90 / 10 < 10x.
        scatter.setXColumn("PPL TinyStories · fp");
        scatter.setYColumn("PPL TinyStories · quantized");
        QCOMPARE(rilq::test::values_of(scatter.group(QString())), QVector<double>(6, 90.0));
        // The choice survives new runs that still have those columns.
        scatter.setRuns(scatter_fixture_runs().mid(0, 3));
        QCOMPARE(scatter.yColumn(), QStringLiteral("PPL TinyStories · quantized"));
        scatter.setRuns({});
        QVERIFY(scatter.groups().isEmpty());
    }

    void compareViewCarriesTheScatter() {
        CompareView view;
        view.setResults(scatter_fixture_runs());
        QCOMPARE(view.figureTabs()->count(), 3); // rank figure, params vs metric, parallel coordinates
        QCOMPARE(view.scatter()->groups().size(), 2);
    }
};

RILQ_TEST_MAIN(TestParamScatter)
#include "test_param_scatter.moc"
