#include "widgets/param_scatter.h"

#include "widgets/chart_style.h"
#include "widgets/empty_state.h"
#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace rilq::widgets {

namespace {

bool scatter_numeric_param(const QVector<BrowserRun>& runs, const RunColumn& column) {
    return column.kind == RunColumnKind::Param &&
           std::all_of(runs.begin(), runs.end(), [&](const BrowserRun& run) {
               return !run.params.contains(column.key) || run_column_number(run, column).has_value();
           });
}

} // namespace

ParamScatter::ParamScatter(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot;
    apply_plot_style(plot_);
    place_legend_outside(plot_);
    auto* bar = new QHBoxLayout;
    x_box_ = new QComboBox;
    y_box_ = new QComboBox;
    color_box_ = new QComboBox;
    for (QComboBox* box : {x_box_, y_box_, color_box_})
        box->setMinimumContentsLength(12);
    bar->addWidget(new QLabel(tr("x")));
    bar->addWidget(x_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("y")));
    bar->addWidget(y_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("colour by")));
    bar->addWidget(color_box_);
    bar->addStretch(1);
    auto* empty = new EmptyState(
        plot_, tr("No results to plot yet: finish a sweep, or select runs in Runs (each dot is one run)."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(empty, 1);
    connect(x_box_, &QComboBox::textActivated, this, &ParamScatter::setXColumn);
    connect(y_box_, &QComboBox::textActivated, this, &ParamScatter::setYColumn);
    connect(color_box_, qOverload<int>(&QComboBox::activated), this,
            [this](int i) { setColorColumn(color_box_->itemData(i).toString()); });
    empty_ = empty;
    rebuild();
}

const RunColumn* ParamScatter::column(const QString& title) const {
    for (const RunColumn& c : columns_)
        if (c.title == title) return &c;
    return nullptr;
}

QStringList ParamScatter::xChoices() const {
    QStringList out;
    for (const RunColumn& c : columns_)
        if (scatter_numeric_param(runs_, c)) out << c.title;
    return out + yChoices();
}

QStringList ParamScatter::yChoices() const {
    QStringList out;
    for (const RunColumn& c : columns_)
        if (run_column_has_delta(c.kind)) out << c.title; // results and metric minima
    return out;
}

QStringList ParamScatter::colorChoices() const {
    QStringList out;
    for (const RunColumn& c : columns_)
        if (c.kind == RunColumnKind::Param) out << c.title;
    return out;
}

void ParamScatter::setRuns(const QVector<BrowserRun>& runs) {
    runs_ = runs;
    columns_ = run_columns(runs_);
    const QStringList xs = xChoices(), ys = yChoices(), colors = colorChoices();
    if (!xs.contains(x_)) x_ = xs.value(0);
    if (!ys.contains(y_)) {
        // The first dataset's perplexity at its last stage (compensated): what the sweep was for.
        // Columns come per dataset in stage order ("PPL <dataset> · <stage>").
        y_.clear();
        QString dataset;
        for (const RunColumn& c : columns_) {
            if (c.kind != RunColumnKind::Perplexity) continue;
            const QString this_dataset = c.title.section(QStringLiteral(" · "), 0, 0);
            if (dataset.isEmpty()) dataset = this_dataset;
            if (this_dataset == dataset) y_ = c.title;
        }
        if (y_.isEmpty()) y_ = ys.value(0);
    }
    if (!colors.contains(color_)) {
        color_.clear();
        for (const QString& c : colors) // a second varied param (scope), not x itself
            if (c != x_ && color_.isEmpty()) color_ = c;
    }
    sync_controls();
    rebuild();
}

void ParamScatter::sync_controls() {
    const QSignalBlocker bx(x_box_), by(y_box_), bc(color_box_);
    x_box_->clear();
    x_box_->addItems(xChoices());
    x_box_->setCurrentText(x_);
    y_box_->clear();
    y_box_->addItems(yChoices());
    y_box_->setCurrentText(y_);
    color_box_->clear();
    color_box_->addItem(tr("none"), QString());
    for (const QString& c : colorChoices())
        color_box_->addItem(c, c);
    color_box_->setCurrentIndex(std::max(0, color_box_->findData(color_)));
}

void ParamScatter::setXColumn(const QString& title) {
    x_ = title;
    sync_controls();
    rebuild();
}
void ParamScatter::setYColumn(const QString& title) {
    y_ = title;
    sync_controls();
    rebuild();
}
void ParamScatter::setColorColumn(const QString& title) {
    color_ = title;
    sync_controls();
    rebuild();
}

QCPGraph* ParamScatter::group(const QString& color_value) const {
    return groups_.value(color_value, nullptr);
}

QStringList ParamScatter::groups() const {
    return groups_.keys();
}

void ParamScatter::rebuild() {
    plot_->clearGraphs();
    groups_.clear();
    const RunColumn* x = column(x_);
    const RunColumn* y = column(y_);
    const RunColumn* color = column(color_);
    QMap<QString, QVector<QPointF>> points; // colour value -> (x, y)
    if (x && y)
        for (const BrowserRun& run : runs_) {
            const auto vx = run_column_number(run, *x), vy = run_column_number(run, *y);
            if (!vx || !vy) continue; // a run without this result (rank 0 has no compensated PPL)
            const double shown_y = y->kind == RunColumnKind::Accuracy ? 100.0 * *vy : *vy;
            points[color ? run_column_text(run, *color) : QString()].push_back(QPointF(*vx, shown_y));
        }
    QVector<QVector<double>> magnitudes; // each dot its own series: log y when they spread > 10x
    int index = 0;
    for (auto it = points.begin(); it != points.end(); ++it, ++index) {
        QCPGraph* g = plot_->addGraph();
        g->setLineStyle(QCPGraph::lsNone);
        const QColor c = categorical_color(index);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 8));
        g->setPen(QPen(c));
        g->setName(color ? QStringLiteral("%1=%2").arg(color_, it.key()) : y_);
        for (const QPointF& p : it.value()) {
            g->addData(p.x(), p.y());
            magnitudes.push_back({p.y()});
        }
        groups_.insert(it.key(), g);
    }
    log_y_ = series_scale_ratio(magnitudes) > kScaleRatioForLog;
    set_log_axis(plot_->yAxis, log_y_);
    plot_->legend->setVisible(color != nullptr && !groups_.isEmpty());
    plot_->xAxis->setLabel(x_);
    plot_->yAxis->setLabel(log_y_ ? tr("%1 (log scale)").arg(y_) : y_);
    plot_->rescaleAxes();
    plot_->xAxis->scaleRange(1.1);
    plot_->yAxis->scaleRange(1.1);
    include_decade_below(plot_->yAxis);
    empty_->setEmpty(groups_.isEmpty());
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace rilq::widgets
