// Value types of the Runs table: one recorded run as the browser lists it, and the source the app
// connects to the run store (so no widget has store code).
#pragma once
#include "widgets/run_queue_view.h" // RunStatus

#include <QDateTime>
#include <QMap>
#include <QPair>
#include <QString>
#include <QVector>

#include <functional>

namespace rilq::widgets {

struct BrowserRun {
    QString uuid;
    QString experiment;
    QString name;
    RunStatus status = RunStatus::Scheduled;
    QDateTime started;        // invalid when it never started
    double duration_s = -1.0; // negative when unknown
    QString message;          // status message (why it failed / was killed)
    QMap<QString, QString> params;
    QMap<QString, double> best; // metric key -> best (lowest) value logged
    // Perplexity per eval dataset and stage, headed "PPL <dataset label> · <stage>", in the
    // source's order (datasets, then core's stage order).
    QVector<QPair<QString, double>> perplexity;
    // Downstream task accuracy (0-1) per column, headed by core's task labels (a task's acc, and
    // "<label> acc_norm" where it has one), from the run's last stage that scored the task; shown
    // in percent after the perplexities, in the order given.
    QVector<QPair<QString, double>> accuracy;
};

// Both may throw std::exception; the browser reports the message and keeps going.
struct RunBrowserSource {
    std::function<QVector<BrowserRun>()> list;
    std::function<void(const QString& uuid)> remove;
};

} // namespace rilq::widgets
