#include "widgets/seed_groups.h"

#include <QMap>

#include <cmath>

namespace rilq::widgets {

QVector<QVector<int>> group_runs_by_seed(const QVector<RunCurve>& runs, const QString& seed_key) {
    QVector<QVector<int>> groups;
    QVector<QMap<QString, QString>> keys; // each group's params without the seed
    for (int i = 0; i < runs.size(); ++i) {
        QMap<QString, QString> params = runs[i].params;
        params.remove(seed_key);
        const qsizetype at = keys.indexOf(params);
        if (at >= 0) {
            groups[at].push_back(i);
        } else {
            keys.push_back(params);
            groups.push_back({i});
        }
    }
    return groups;
}

SeedGroup seed_band(const QVector<int>& runs, const QVector<QVector<QPointF>>& curves) {
    SeedGroup group;
    group.runs = runs;
    // step -> the values the group's runs logged there (a run logging a step twice keeps its last)
    QMap<double, QMap<int, double>> by_step;
    for (int i = 0; i < curves.size(); ++i)
        for (const QPointF& p : curves[i])
            by_step[p.x()][i] = p.y();
    const qsizetype n = curves.size();
    for (auto it = by_step.constBegin(); it != by_step.constEnd(); ++it) {
        if (n == 0 || it.value().size() != n) continue;
        double sum = 0.0;
        bool finite = true;
        for (double v : it.value()) {
            finite = finite && std::isfinite(v);
            sum += v;
        }
        if (!finite) continue;
        const double mean = sum / double(n);
        double squares = 0.0;
        for (double v : it.value())
            squares += (v - mean) * (v - mean);
        group.steps.push_back(it.key());
        group.mean.push_back(mean);
        group.std_dev.push_back(n > 1 ? std::sqrt(squares / double(n - 1)) : 0.0);
    }
    return group;
}

bool has_seed_groups(const QVector<QVector<int>>& groups) {
    for (const QVector<int>& g : groups)
        if (g.size() > 1) return true;
    return false;
}

} // namespace rilq::widgets
