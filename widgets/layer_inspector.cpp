#include "widgets/layer_inspector.h"

#include "widgets/chart_style.h"
#include "widgets/empty_state.h"
#include "widgets/layer_heatmap.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace rilq::widgets {

namespace {
// Pipeline colours: FP neutral grey, 2-bit damage vermillion, RILQ repair blue.
QColor stage_color(const QString& stage, int fallback_index) {
    if (stage == kStageFp) return QColor(120, 120, 120);
    if (stage == kStageQuantized) return categorical_color(1);
    if (stage == kStageCompensated) return categorical_color(0);
    return categorical_color(2 + fallback_index);
}

QCustomPlot* make_chart(QWidget* parent, const QString& x_label, const QString& y_label) {
    auto* plot = new QCustomPlot(parent);
    apply_plot_style(plot);
    plot->setInteractions(QCP::Interactions());
    plot->xAxis->setLabel(x_label);
    plot->yAxis->setLabel(y_label);
    plot->plotLayout()->insertRow(0);
    auto* title = new QCPTextElement(plot, QString(), QFont(plot->font().family(), 10, QFont::DemiBold));
    plot->plotLayout()->addElement(0, 0, title);
    plot->setMinimumHeight(150);
    return plot;
}

void set_title(QCustomPlot* plot, const QString& text) {
    static_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))->setText(text);
}

void show_histogram(QCustomPlot* plot, const Histogram& h, const QColor& color, double width_fraction) {
    plot->clearPlottables();
    plot->xAxis->setVisible(!h.isEmpty()); // no empty axes pretending there is a histogram
    plot->yAxis->setVisible(!h.isEmpty());
    plot->xAxis->grid()->setVisible(!h.isEmpty());
    plot->yAxis->grid()->setVisible(!h.isEmpty());
    if (h.isEmpty()) {
        plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setData(h.centers, h.counts, true);
    bars->setWidth(h.bin_width * width_fraction);
    bars->setPen(QPen(color.darker(120), 1.0));
    bars->setBrush(with_alpha(color, 190));
    plot->rescaleAxes();
    plot->xAxis->setRange(h.centers.front() - h.bin_width, h.centers.back() + h.bin_width);
    plot->yAxis->setRange(0, plot->yAxis->range().upper * 1.1);
    plot->replot(QCustomPlot::rpQueuedReplot);
}
} // namespace

LayerInspector::LayerInspector(QWidget* parent) : QWidget(parent) {
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("metric"), this));
    metric_box_ = new QComboBox(this);
    metric_box_->setMinimumContentsLength(22);
    bar->addWidget(metric_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("stage"), this));
    stage_box_ = new QComboBox(this);
    stage_box_->setMinimumContentsLength(12);
    bar->addWidget(stage_box_);
    bar->addSpacing(12);
    shared_range_box_ = new QCheckBox(tr("same colour range for all stages"), this);
    shared_range_box_->setChecked(true);
    bar->addWidget(shared_range_box_);
    bar->addStretch(1);
    connect(metric_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setMetric(metric_box_->itemData(i).toString());
    });
    connect(stage_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setStage(stage_box_->itemData(i).toString());
    });
    connect(shared_range_box_, &QCheckBox::toggled, this, [this] { refresh_heatmap(); });

    heatmap_ = new LayerHeatmap(this);
    heatmap_->setMinimumSize(320, 260);
    connect(heatmap_, &LayerHeatmap::cellClicked, this, &LayerInspector::selectLinear);

    auto* side = new QWidget(this);
    auto* side_layout = new QVBoxLayout(side);
    side_layout->setContentsMargins(0, 0, 0, 0);
    details_title_ = new QLabel(tr("Click a cell to inspect a linear"), side);
    details_title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont title_font = details_title_->font();
    title_font.setBold(true);
    details_title_->setFont(title_font);
    details_ = new QTableWidget(side);
    details_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    details_->verticalHeader()->setDefaultSectionSize(22);
    details_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    details_->setMinimumHeight(60);
    code_hist_ = make_chart(side, tr("code"), tr("count"));
    offset_hist_ = make_chart(side, tr("ICQ offset (τ* − τ₀)/m"), tr("count"));
    side_layout->addWidget(details_title_);
    side_layout->addWidget(details_, 2);
    side_layout->addWidget(code_hist_, 3);
    side_layout->addWidget(offset_hist_, 3);

    bars_ = make_chart(this, tr("layer"), QString());
    place_legend_outside(bars_);

    auto* top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(heatmap_);
    top->addWidget(side);
    top->setStretchFactor(0, 1);
    top->setStretchFactor(1, 1);
    top->setSizes({520, 480});
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(bars_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 240});
    content_ = new EmptyState(split,
                              tr("No layer statistics to show. They appear here while a run quantizes, "
                                 "and for a stored run opened from the Runs tab (double-click it)."),
                              this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(content_, 1);
}

bool LayerInspector::isEmpty() const {
    return content_->isEmpty();
}

QString LayerInspector::emptyMessage() const {
    return content_->message();
}

void LayerInspector::setStats(const LayerStatsTable& table) {
    table_ = table;
    const QStringList metrics = table_.metrics();
    content_->setEmpty(table_.layerCount() == 0 || metrics.isEmpty());
    const QStringList stages = table_.stages();
    // Relative weight error first: the measurement every quantization paper starts from.
    if (!metrics.contains(metric_))
        metric_ = metrics.contains(kMetricRelError) ? kMetricRelError
                  : metrics.isEmpty()               ? QString()
                                                    : metrics.front();
    if (!stages.contains(stage_)) // the most informative stage by default: the quantized one
        stage_ = stages.contains(kStageQuantized) ? kStageQuantized
                 : stages.isEmpty()               ? QString()
                                                  : stages.front();
    if (selected_layer_ >= table_.layerCount()) selected_layer_ = -1;
    fill_combos();
    refresh_heatmap();
    refresh_bars();
    refresh_details();
    refresh_histograms();
}

void LayerInspector::fill_combos() {
    const QSignalBlocker block_metric(metric_box_);
    const QSignalBlocker block_stage(stage_box_);
    metric_box_->clear();
    for (const QString& m : table_.metrics())
        metric_box_->addItem(metric_display_name(m), m);
    metric_box_->setCurrentIndex(metric_box_->findData(metric_));
    stage_box_->clear();
    for (const QString& s : table_.stages())
        stage_box_->addItem(s, s);
    stage_box_->setCurrentIndex(stage_box_->findData(stage_));
}

void LayerInspector::setMetric(const QString& metric) {
    metric_ = metric;
    {
        const QSignalBlocker block(metric_box_);
        metric_box_->setCurrentIndex(metric_box_->findData(metric));
    }
    refresh_heatmap();
    refresh_bars();
}

void LayerInspector::setStage(const QString& stage) {
    stage_ = stage;
    {
        const QSignalBlocker block(stage_box_);
        stage_box_->setCurrentIndex(stage_box_->findData(stage));
    }
    refresh_heatmap();
}

void LayerInspector::selectLinear(int layer, const QString& module) {
    const int column = projection_column(module);
    if (layer < 0 || column < 0) return;
    selected_layer_ = layer;
    selected_module_ = projection_modules()[column];
    heatmap_->setSelectedCell(layer, column);
    refresh_details();
    refresh_histograms();
    Q_EMIT linearSelected(selectedLinear());
}

QString LayerInspector::selectedLinear() const {
    return selected_layer_ < 0 ? QString() : linear_name(selected_layer_, selected_module_);
}

void LayerInspector::refresh_heatmap() {
    heatmap_->setData(table_, stage_, metric_, shared_range_box_->isChecked());
    heatmap_->setSelectedCell(selected_layer_, projection_column(selected_module_));
}

// Mean of the metric over the seven projections of each layer, one bar per stage.
void LayerInspector::refresh_bars() {
    bars_->clearPlottables();
    auto* group = new QCPBarsGroup(bars_);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1.0);
    const QStringList stages = table_.stages();
    const double width = 0.8 / std::max<qsizetype>(1, stages.size());
    for (int s = 0; s < stages.size(); ++s) {
        QVector<double> keys, values;
        for (int layer = 0; layer < table_.layerCount(); ++layer) {
            double sum = 0.0;
            int n = 0;
            for (const QString& module : projection_modules()) {
                const double v = table_.value(stages[s], layer, module, metric_);
                if (!std::isfinite(v)) continue;
                sum += v;
                ++n;
            }
            if (n == 0) continue;
            keys.push_back(layer);
            values.push_back(sum / n);
        }
        auto* bars = new QCPBars(bars_->xAxis, bars_->yAxis);
        bars->setName(stages[s]);
        bars->setData(keys, values, true);
        bars->setWidth(width);
        const QColor color = stage_color(stages[s], s);
        bars->setPen(QPen(color.darker(120), 0.8));
        bars->setBrush(with_alpha(color, 200));
        bars->setBarsGroup(group);
    }
    set_title(bars_, tr("%1 per layer (mean over the 7 projections)").arg(metric_display_name(metric_)));
    bars_->yAxis->setLabel(metric_display_name(metric_));
    bars_->rescaleAxes();
    bars_->xAxis->setRange(-0.6, table_.layerCount() - 0.4);
    // A tick per layer while they fit (a 7B model's 32 layers do); the default ticker skips some.
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(table_.layerCount() <= 32 ? 1.0 : 4.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    bars_->xAxis->setTicker(ticker);
    bars_->xAxis->setSubTicks(false);
    const QCPRange y = bars_->yAxis->range();
    bars_->yAxis->setRange(std::min(0.0, y.lower),
                           std::max(0.0, y.upper) + 0.25 * std::abs(y.upper - y.lower));
    bars_->replot(QCustomPlot::rpQueuedReplot);
}

void LayerInspector::refresh_details() {
    const QStringList stages = table_.stages();
    const QStringList metrics = table_.metrics();
    details_->clear();
    if (selected_layer_ < 0) {
        details_title_->setText(tr("Click a cell to inspect a linear"));
        details_->setRowCount(0);
        details_->setColumnCount(0);
        return;
    }
    details_title_->setText(selectedLinear());
    details_->setRowCount(int(metrics.size()));
    details_->setColumnCount(int(stages.size()));
    details_->setHorizontalHeaderLabels(stages);
    QStringList row_labels;
    for (const QString& m : metrics)
        row_labels << metric_display_name(m);
    details_->setVerticalHeaderLabels(row_labels);
    for (int r = 0; r < metrics.size(); ++r)
        for (int c = 0; c < stages.size(); ++c) {
            const double v = table_.value(stages[c], selected_layer_, selected_module_, metrics[r]);
            auto* item =
                new QTableWidgetItem(std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("–"));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            details_->setItem(r, c, item);
        }
    // As tall as its rows: the histograms below get the rest.
    details_->setMaximumHeight(details_->horizontalHeader()->height() + details_->verticalHeader()->length() +
                               2 * details_->frameWidth() + 2);
}

QString LayerInspector::detailsText() const {
    QString text = details_title_->text() + '\n';
    for (int r = 0; r < details_->rowCount(); ++r) {
        QStringList cells;
        for (int c = 0; c < details_->columnCount(); ++c)
            cells << details_->item(r, c)->text();
        text += details_->verticalHeaderItem(r)->text() + ": " + cells.join(" / ") + '\n';
    }
    return text;
}

void LayerInspector::refresh_histograms() {
    const bool any = selected_layer_ >= 0;
    const Histogram codes = any ? table_.codeHistogram(selected_layer_, selected_module_) : Histogram();
    const Histogram offsets = any ? table_.offsetHistogram(selected_layer_, selected_module_) : Histogram();
    show_histogram(code_hist_, codes, categorical_color(1), 0.8);
    show_histogram(offset_hist_, offsets, categorical_color(2), 1.0);
    QString code_title = tr("code histogram");
    const double entropy =
        any ? table_.value(kStageQuantized, selected_layer_, selected_module_, kMetricEntropy) : std::nan("");
    if (std::isfinite(entropy)) code_title += tr(" · H = %1 bits").arg(entropy, 0, 'f', 3);
    if (any && codes.isEmpty()) code_title += tr(" (none recorded)");
    set_title(code_hist_, code_title);
    set_title(offset_hist_, any && offsets.isEmpty() ? tr("ICQ offsets (none: not an ICQ quantizer)")
                                                     : tr("ICQ offset histogram"));
    code_hist_->replot(QCustomPlot::rpQueuedReplot);
    offset_hist_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace rilq::widgets
