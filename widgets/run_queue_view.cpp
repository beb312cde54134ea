#include "widgets/run_queue_view.h"

#include <QCheckBox>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <memory>

namespace rilq::widgets {

namespace {
enum Column { kRun = 0, kStatus, kProgress, kStep, kEta, kDetail, kColumnCount };

QColor status_color(RunStatus s) {
    switch (s) {
    case RunStatus::Scheduled:
        return QColor(110, 110, 110);
    case RunStatus::Running:
        return QColor(0, 90, 160);
    case RunStatus::Finished:
        return QColor(46, 125, 50);
    case RunStatus::Failed:
        return QColor(176, 0, 32);
    case RunStatus::Killed:
        return QColor(176, 96, 0);
    case RunStatus::Interrupted:
        return QColor(176, 96, 0);
    }
    return QColor(30, 30, 30);
}
} // namespace

QString run_status_name(RunStatus s) {
    switch (s) {
    case RunStatus::Scheduled:
        return QStringLiteral("SCHEDULED");
    case RunStatus::Running:
        return QStringLiteral("RUNNING");
    case RunStatus::Finished:
        return QStringLiteral("FINISHED");
    case RunStatus::Failed:
        return QStringLiteral("FAILED");
    case RunStatus::Killed:
        return QStringLiteral("KILLED");
    case RunStatus::Interrupted:
        return QStringLiteral("INTERRUPTED");
    }
    return {};
}

bool run_status_is_final(RunStatus s) {
    return s != RunStatus::Scheduled && s != RunStatus::Running;
}

QString format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
    const qint64 s = qint64(std::llround(seconds));
    if (s < 60) return QStringLiteral("%1 s").arg(s);
    if (s < 3600) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0'));
}

RunQueueView::RunQueueView(QWidget* parent) : QWidget(parent) {
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    now_ms_ = [clock] { return clock->elapsed(); };

    tree_ = new QTreeWidget(this);
    tree_->setColumnCount(kColumnCount);
    tree_->setHeaderLabels(
        {tr("Run"), tr("Status"), tr("Progress"), tr("Step"), tr("ETA"), tr("Last message")});
    tree_->setRootIsDecorated(false);
    tree_->setUniformRowHeights(true);
    tree_->setAlternatingRowColors(true);
    tree_->header()->setSectionResizeMode(kRun, QHeaderView::ResizeToContents);
    tree_->header()->setSectionResizeMode(kStatus, QHeaderView::ResizeToContents);
    tree_->header()->setSectionResizeMode(kProgress, QHeaderView::Fixed);
    tree_->header()->resizeSection(kProgress, 180);
    tree_->header()->setSectionResizeMode(kStep, QHeaderView::ResizeToContents);
    tree_->header()->setSectionResizeMode(kEta, QHeaderView::ResizeToContents);
    tree_->header()->setStretchLastSection(true);

    overall_bar_ = new QProgressBar(this);
    overall_bar_->setRange(0, 100);
    overall_label_ = new QLabel(this);
    cancel_button_ = new QPushButton(tr("Cancel run"), this);
    cancel_button_->setToolTip(tr("Stop the running run; it ends KILLED with its best adapters saved"));
    cancel_all_button_ = new QPushButton(tr("Cancel all"), this);
    cancel_all_button_->setToolTip(tr("Stop the running run and drop the scheduled ones"));
    pause_box_ = new QCheckBox(tr("Pause between runs"), this);
    pause_box_->setToolTip(tr("Finish the running run, then wait before starting the next"));
    connect(cancel_button_, &QPushButton::clicked, this, [this] {
        const QString id = currentRunId();
        if (!id.isEmpty()) Q_EMIT cancelRunRequested(id);
    });
    connect(cancel_all_button_, &QPushButton::clicked, this, &RunQueueView::cancelAllRequested);
    connect(pause_box_, &QCheckBox::toggled, this, &RunQueueView::pauseBetweenRunsChanged);

    auto* overall = new QHBoxLayout;
    overall->addWidget(new QLabel(tr("Overall"), this));
    overall->addWidget(overall_bar_, 1);
    overall->addWidget(overall_label_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(pause_box_);
    buttons->addStretch(1);
    buttons->addWidget(cancel_button_);
    buttons->addWidget(cancel_all_button_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(tree_, 1);
    layout->addLayout(overall);
    layout->addLayout(buttons);
    refresh_overall();
}

void RunQueueView::setClock(std::function<qint64()> now_ms) {
    now_ms_ = std::move(now_ms);
}

void RunQueueView::addRun(const QString& run_id, const QString& label, int total_steps) {
    if (runs_.contains(run_id)) return;
    Run& run = runs_[run_id];
    order_.push_back(run_id);
    run.label = label.isEmpty() ? run_id : label;
    run.total_steps = total_steps;
    run.item = new QTreeWidgetItem(tree_);
    run.item->setText(kRun, run.label);
    run.item->setToolTip(kRun, run_id);
    run.bar = new QProgressBar(tree_);
    run.bar->setRange(0, 100);
    run.bar->setMaximumHeight(18);
    tree_->setItemWidget(run.item, kProgress, run.bar);
    refresh_row(run);
    refresh_overall();
}

void RunQueueView::clear() {
    tree_->clear();
    runs_.clear();
    order_.clear();
    refresh_overall();
}

RunStatus RunQueueView::status(const QString& run_id) const {
    return runs_.value(run_id).status;
}

// How far the run's own steps went: 0 while scheduled, and a killed run's bar stops where it was
// cancelled; the overall percent sums these, so it counts the work done.
double RunQueueView::step_fraction(const Run& run) const {
    if (run.status == RunStatus::Finished) return 1.0; // early stopping ends before total_steps
    if (run.total_steps <= 0) return 0.0;
    return std::clamp(double(run.step) / run.total_steps, 0.0, 1.0);
}

int RunQueueView::progressPercent(const QString& run_id) const {
    return runs_.contains(run_id) ? int(std::floor(100.0 * step_fraction(runs_[run_id]))) : 0;
}

int RunQueueView::overallPercent() const {
    if (order_.isEmpty()) return 0;
    double sum = 0.0;
    for (const Run& run : runs_)
        sum += step_fraction(run); // a killed or failed run did the part its steps reached
    return int(std::floor(100.0 * sum / order_.size()));
}

QString RunQueueView::currentRunId() const {
    for (const QString& id : order_)
        if (runs_[id].status == RunStatus::Running) return id;
    return {};
}

double RunQueueView::overallEtaSeconds() const {
    int scheduled = 0, finished = 0;
    double finished_total_s = 0.0;
    for (const Run& run : runs_) {
        if (run.status == RunStatus::Scheduled) ++scheduled;
        if (run.status == RunStatus::Finished && run.duration_s >= 0) {
            ++finished;
            finished_total_s += run.duration_s;
        }
    }
    const QString current = currentRunId();
    double current_eta = 0.0, per_run = -1.0;
    if (!current.isEmpty()) {
        const Run& run = runs_[current];
        if (run.eta_s < 0) return -1.0;
        current_eta = run.eta_s;
        // Projected length of the running run: elapsed part plus what is left.
        const double left = 1.0 - step_fraction(run);
        if (left > 0 && left < 1) per_run = run.eta_s / left;
    }
    if (finished > 0) per_run = finished_total_s / finished;
    if (scheduled > 0 && per_run < 0) return -1.0;
    return current_eta + scheduled * std::max(0.0, per_run);
}

QString RunQueueView::overallText() const {
    int finished = 0, pending = 0;
    QMap<RunStatus, int> ended; // final but not FINISHED
    for (const Run& run : runs_) {
        if (run.status == RunStatus::Finished)
            ++finished;
        else if (run_status_is_final(run.status))
            ++ended[run.status];
        else
            ++pending;
    }
    QString text = tr("%1 of %2 runs finished").arg(finished).arg(order_.size());
    for (auto it = ended.cbegin(); it != ended.cend(); ++it)
        text += tr(" · %1 %2").arg(it.value()).arg(run_status_name(it.key()).toLower());
    text += tr(" · %1%").arg(overallPercent());
    if (pending > 0) {
        const double eta = overallEtaSeconds();
        if (eta >= 0) text += tr(" · about %1 left").arg(format_duration(eta));
    }
    return text;
}

bool RunQueueView::pauseBetweenRuns() const {
    return pause_box_->isChecked();
}

void RunQueueView::setPauseBetweenRuns(bool paused) {
    const QSignalBlocker block(pause_box_);
    pause_box_->setChecked(paused);
}

void RunQueueView::setProgress(const QString& run_id, int step, int total_steps, double eta_s,
                               const QString& detail) {
    if (!runs_.contains(run_id)) addRun(run_id, run_id, total_steps);
    Run& run = runs_[run_id];
    if (run.status == RunStatus::Scheduled) setStatus(run_id, RunStatus::Running);
    run.step = step;
    if (total_steps > 0) run.total_steps = total_steps;
    run.eta_s = std::isfinite(eta_s) ? eta_s : -1.0;
    if (!detail.isEmpty()) run.item->setText(kDetail, detail);
    refresh_row(run);
    refresh_overall();
}

void RunQueueView::setDetail(const QString& run_id, const QString& detail) {
    if (!runs_.contains(run_id)) addRun(run_id, run_id);
    Run& run = runs_[run_id];
    if (run.status == RunStatus::Scheduled) setStatus(run_id, RunStatus::Running);
    run.item->setText(kDetail, detail);
}

void RunQueueView::setStatus(const QString& run_id, RunStatus status, const QString& message) {
    if (!runs_.contains(run_id)) addRun(run_id, run_id);
    Run& run = runs_[run_id];
    if (status == RunStatus::Running && run.status != RunStatus::Running) run.started_ms = now_ms_();
    if (run_status_is_final(status) && run.status == RunStatus::Running && run.started_ms >= 0)
        run.duration_s = double(now_ms_() - run.started_ms) / 1000.0;
    run.status = status;
    if (run_status_is_final(status)) run.eta_s = 0.0;
    if (!message.isEmpty()) run.item->setText(kDetail, message);
    refresh_row(run);
    refresh_overall();
}

void RunQueueView::refresh_row(Run& run) {
    run.item->setText(kStatus, run_status_name(run.status));
    run.item->setForeground(kStatus, status_color(run.status));
    run.bar->setValue(int(std::floor(100.0 * step_fraction(run))));
    run.item->setText(kStep, run.total_steps > 0 ? QString("%1 / %2").arg(run.step).arg(run.total_steps)
                                                 : QString::number(run.step));
    run.item->setText(kEta, run.status == RunStatus::Running ? format_duration(run.eta_s)
                            : run.duration_s >= 0 ? tr("took %1").arg(format_duration(run.duration_s))
                                                  : QString());
}

void RunQueueView::refresh_overall() {
    overall_bar_->setValue(overallPercent());
    overall_label_->setText(overallText());
    const bool running = !currentRunId().isEmpty();
    cancel_button_->setEnabled(running);
    bool any_pending = running;
    for (const Run& run : runs_)
        any_pending = any_pending || run.status == RunStatus::Scheduled;
    cancel_all_button_->setEnabled(any_pending);
}

} // namespace rilq::widgets
