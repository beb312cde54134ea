// Seed groups of the Compare overlay: runs whose settings are equal except for the seed are one
// group, drawn as its mean curve inside a mean +- std band (the W&B / TensorBoard "group by"
// view), so a difference between sweep points can be read against the seeds' own spread.
#pragma once
#include "widgets/compare_types.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace rilq::widgets {

// The param a sweep varies to repeat a run: the experiment's top-level seed (core's
// config_schema.cpp moves the trainer's seed there).
inline const QString kSeedParam = QStringLiteral("seed");

struct SeedGroup {
    QVector<int> runs;       // indices into the runs given, in their order
    QVector<double> steps;   // x of the band: the steps every run of the group logged, ascending
    QVector<double> mean;    // per step, mean over the group's runs
    QVector<double> std_dev; // per step, sample standard deviation (n - 1; 0 when n = 1)
};

// Groups runs whose params are equal once `seed_key` is left out, in the order of each group's
// first run. Every run is in exactly one group (a run without seeds is a group of one).
QVector<QVector<int>> group_runs_by_seed(const QVector<RunCurve>& runs, const QString& seed_key);

// The band of one group: `curves[i]` is run i's (step, value) series (already smoothed when the
// view smooths). Steps that not every run logged are left out, so the band never mixes a mean
// over three seeds with a mean over two; non-finite values drop that step too.
SeedGroup seed_band(const QVector<int>& runs, const QVector<QVector<QPointF>>& curves);

// True when at least one group has two or more runs: only then are there bands to draw.
bool has_seed_groups(const QVector<QVector<int>>& groups);

} // namespace rilq::widgets
