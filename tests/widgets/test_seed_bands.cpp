// Compare overlay, seed groups: runs that differ only in their seed are drawn as one mean curve
// inside a mean +- std band. The band is checked against closed forms: seed offsets 1, 2 and 4
// over a shared curve give mean 7/3 and sample std sqrt(7/3) (of 1, 2, 4) times the curve's
// shape, whatever the implementation does.
#include "tests/widgets/widget_test_support.h"
#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_overlay.h"
#include "widgets/seed_groups.h"

#include <QtTest/QtTest>

#include <cmath>

#include "tests/support/test_main.h"

using namespace rilq::widgets;
using rilq::test::keys_of;
using rilq::test::values_of;

namespace {

constexpr int kSeedSteps = 12;
const double kSeedOffsets[] = {1.0, 2.0, 4.0}; // seeds 1, 2, 3

// v_loss of rank r, seed s at step k: 3 + r/8 + offset_s / k. Rank 8 has one seed only; seed 3 of
// rank 16 skipped its step 5 (a band never averages over fewer seeds).
QVector<RunCurve> seed_fixture_runs() {
    QVector<RunCurve> runs;
    for (int rank : {4, 16, 8})
        for (int seed = 1; seed <= (rank == 8 ? 1 : 3); ++seed) {
            RunCurve run;
            run.run_id = QStringLiteral("r%1-s%2").arg(rank).arg(seed);
            run.label = QStringLiteral("lora_r=%1,seed=%2").arg(rank).arg(seed);
            run.params = {{QStringLiteral("lora_r"), QString::number(rank)},
                          {QStringLiteral("seed"), QString::number(seed)},
                          {QStringLiteral("a_type"), QStringLiteral("hid")}};
            for (int k = 1; k <= kSeedSteps; ++k) {
                if (rank == 16 && seed == 3 && k == 5) continue;
                run.curves[QStringLiteral("v_loss")].push_back(
                    QPointF(k, 3.0 + rank / 8.0 + kSeedOffsets[seed - 1] / k));
            }
            runs.push_back(run);
        }
    return runs;
}

bool near_all(const QVector<double>& got, const QVector<double>& want, double tolerance) {
    if (got.size() != want.size()) return false;
    for (int i = 0; i < got.size(); ++i)
        if (!(std::abs(got[i] - want[i]) <= tolerance)) return false;
    return true;
}

} // namespace

class TestSeedBands : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void groupsLeaveOnlyTheSeedOut() {
        const QVector<RunCurve> runs = seed_fixture_runs();
        const QVector<QVector<int>> groups = group_runs_by_seed(runs, kSeedParam);
        QCOMPARE(groups, (QVector<QVector<int>>{{0, 1, 2}, {3, 4, 5}, {6}}));
        QVERIFY(has_seed_groups(groups));
        // Leaving out a param every run shares groups nothing: rank and seed still tell runs apart.
        QVERIFY(!has_seed_groups(group_runs_by_seed(runs, QStringLiteral("a_type"))));
    }

    void bandIsMeanPlusMinusSampleStd() {
        RunOverlay overlay;
        const QVector<RunCurve> runs = seed_fixture_runs();
        overlay.setRuns(runs);
        QVERIFY(overlay.drawsSeedBands());
        QCOMPARE(overlay.seedGroups().size(), 2); // rank 8's single run is a plain curve
        QVERIFY(!overlay.channelKeys().contains(QStringLiteral("seed")));
        QCOMPARE(overlay.colorParameter(), QStringLiteral("lora_r"));

        for (int rank : {4, 16}) {
            QCPGraph* mean = overlay.graph(QStringLiteral("r%1-s1").arg(rank));
            QVERIFY(mean);
            for (int seed = 2; seed <= 3; ++seed) // every seed's run is that one curve
                QCOMPARE(overlay.graph(QStringLiteral("r%1-s%2").arg(rank).arg(seed)), mean);
            QVERIFY2(mean->name().contains(QStringLiteral("lora_r=%1").arg(rank)) &&
                         mean->name().contains(QStringLiteral("n=3")) && !mean->name().contains("seed="),
                     qPrintable(mean->name()));
            QCPGraph* lower = overlay.bandLower(QStringLiteral("r%1-s2").arg(rank));
            QCPGraph* upper = overlay.bandUpper(QStringLiteral("r%1-s2").arg(rank));
            QVERIFY(lower && upper);
            QCOMPARE(upper->channelFillGraph(), lower);
            QVERIFY(upper->brush().style() != Qt::NoBrush && upper->brush().color().alpha() > 0);
            QVERIFY(!overlay.plot()->legend->itemWithPlottable(lower)); // one legend entry per group
            QVERIFY(!overlay.plot()->legend->itemWithPlottable(upper));

            QVector<double> steps, want_mean, want_lower, want_upper;
            for (int k = 1; k <= kSeedSteps; ++k) {
                if (rank == 16 && k == 5) continue; // seed 3 did not log it
                steps.push_back(k);
                const double base = 3.0 + rank / 8.0;
                want_mean.push_back(base + (7.0 / 3.0) / k);
                want_lower.push_back(base + (7.0 / 3.0 - std::sqrt(7.0 / 3.0)) / k);
                want_upper.push_back(base + (7.0 / 3.0 + std::sqrt(7.0 / 3.0)) / k);
            }
            QCOMPARE(keys_of(mean), steps);
            QCOMPARE(keys_of(lower), steps);
            QVERIFY(near_all(values_of(mean), want_mean, 1e-12));
            QVERIFY(near_all(values_of(lower), want_lower, 1e-12));
            QVERIFY(near_all(values_of(upper), want_upper, 1e-12));
        }
        // The single-seed run: its own curve, no band.
        QCPGraph* single = overlay.graph(QStringLiteral("r8-s1"));
        QVERIFY(single && !overlay.bandLower(QStringLiteral("r8-s1")));
        QCOMPARE(single->dataCount(), kSeedSteps);
        QCOMPARE(values_of(single).front(), 3.0 + 1.0 + 1.0);
    }

    // Smoothing acts on each seed's curve; the band is over the smoothed curves.
    void bandOfSmoothedSeeds() {
        RunOverlay overlay;
        const QVector<RunCurve> runs = seed_fixture_runs();
        overlay.setRuns(runs);
        overlay.setSmoothing(0.6);
        QVector<QVector<double>> smoothed;
        for (int i = 0; i < 3; ++i) { // rank 4's seeds
            QVector<double> y;
            for (const QPointF& p : runs[i].curves.value(QStringLiteral("v_loss")))
                y.push_back(p.y());
            smoothed.push_back(ema_smooth(y, 0.6));
        }
        QVector<double> want_mean, want_upper;
        for (int k = 0; k < kSeedSteps; ++k) {
            const double a = smoothed[0][k], b = smoothed[1][k], c = smoothed[2][k];
            const double m = (a + b + c) / 3.0;
            want_mean.push_back(m);
            want_upper.push_back(
                m + std::sqrt(((a - m) * (a - m) + (b - m) * (b - m) + (c - m) * (c - m)) / 2.0));
        }
        QVERIFY(near_all(values_of(overlay.graph(QStringLiteral("r4-s1"))), want_mean, 1e-12));
        QVERIFY(near_all(values_of(overlay.bandUpper(QStringLiteral("r4-s1"))), want_upper, 1e-12));
    }

    void toggleDrawsEverySeed() {
        RunOverlay overlay;
        overlay.setRuns(seed_fixture_runs());
        overlay.setSeedBands(false);
        QVERIFY(!overlay.drawsSeedBands());
        QVERIFY(overlay.seedGroups().isEmpty());
        QCOMPARE(overlay.plot()->graphCount(), 7);
        QVERIFY(overlay.graph(QStringLiteral("r4-s1")) != overlay.graph(QStringLiteral("r4-s2")));
        QVERIFY(!overlay.bandLower(QStringLiteral("r4-s1")));
        QVERIFY(overlay.channelKeys().contains(QStringLiteral("seed"))); // colour by seed is possible again
        overlay.setSeedBands(true);
        QCOMPARE(overlay.plot()->graphCount(), 2 * 3 + 1); // two bands (mean, lower, upper) + one run
    }

    // A legend click hides the whole group: mean and band.
    void hidingAGroupHidesItsBand() {
        RunOverlay overlay;
        overlay.setRuns(seed_fixture_runs());
        overlay.setRunHidden(QStringLiteral("r16-s1"), true);
        QVERIFY(!overlay.graph(QStringLiteral("r16-s2"))->visible());
        QVERIFY(!overlay.bandUpper(QStringLiteral("r16-s2"))->visible());
        QVERIFY(overlay.graph(QStringLiteral("r4-s2"))->visible());
        QVERIFY(rilq::test::show_offscreen(&overlay, QSize(900, 520)));
        overlay.setRunHidden(QStringLiteral("r16-s1"), false);
        QVERIFY(rilq::test::save_screenshot(&overlay, QStringLiteral("compare-seed-bands")));
    }
};

RILQ_TEST_MAIN(TestSeedBands)
#include "test_seed_bands.moc"
