#include "widgets/parallel_coords.h"

#include "widgets/chart_style.h"
#include "widgets/empty_state.h"
#include "widgets/painted_figure_export.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLinearGradient>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace rilq::widgets {

namespace {
constexpr double kAxisGrabPx = 14.0; // a press this close to an axis starts a brush on it
constexpr double kBrushHalfWidthPx = 7.0;
const QColor kDimmed(200, 200, 200, 110);

// "PPL TinyStories · compensated" -> two lines at the " · ", so titles fit between axes.
QString parallel_title(const QString& title) {
    QString t = title;
    return t.replace(QStringLiteral(" \u00b7 "), QStringLiteral("\n"));
}
} // namespace

// ---- canvas ------------------------------------------------------------------------------------

ParallelCanvas::ParallelCanvas(QWidget* parent) : QWidget(parent) {
    setMouseTracking(false);
    setAutoFillBackground(false);
    setCursor(Qt::CrossCursor);
}

void ParallelCanvas::setRuns(const QVector<BrowserRun>& runs, const QStringList& results,
                             const QString& color_title) {
    QMap<QString, std::pair<double, double>> kept; // brushes by axis title
    for (const ParallelAxis& axis : axes_)
        if (axis.brush) kept.insert(axis.column.title, *axis.brush);
    runs_ = runs;
    axes_ = parallel_axes(runs, results);
    for (ParallelAxis& axis : axes_)
        if (kept.contains(axis.column.title)) axis.brush = kept.value(axis.column.title);
    color_title_ = color_title;

    // Colour: a numeric column along viridis (low = dark), a text one by palette, none = blue.
    colors_.clear();
    const QVector<RunColumn> columns = run_columns(runs);
    const RunColumn* color_column = nullptr;
    for (const RunColumn& c : columns)
        if (c.title == color_title) color_column = &c;
    QVector<double> values;
    color_numeric_ = color_column != nullptr;
    color_percent_ = color_column && color_column->kind == RunColumnKind::Accuracy;
    for (const BrowserRun& run : runs) {
        const auto v = color_column ? run_column_number(run, *color_column) : std::nullopt;
        if (v) values.push_back(*v);
        if (color_column && !v && run.params.contains(color_column->key)) color_numeric_ = false;
    }
    color_lo_ = values.isEmpty() ? 0.0 : *std::min_element(values.begin(), values.end());
    color_hi_ = values.isEmpty() ? 0.0 : *std::max_element(values.begin(), values.end());
    const ParameterColorMap colormap(values, ColorScale::Linear);
    QStringList categories;
    for (const BrowserRun& run : runs) {
        QColor color = categorical_color(0);
        if (color_column && color_numeric_) {
            const auto v = run_column_number(run, *color_column);
            color = v ? colormap.color_for(*v) : QColor(120, 120, 120);
        } else if (color_column) {
            const QString text = run_column_text(run, *color_column);
            if (!categories.contains(text)) categories << text;
            color = categorical_color(int(categories.indexOf(text)));
        }
        colors_.insert(run.uuid, color);
    }
    update();
}

int ParallelCanvas::axisIndex(const QString& title) const {
    for (int i = 0; i < axes_.size(); ++i)
        if (axes_[i].column.title == title) return i;
    return -1;
}

QStringList ParallelCanvas::brushedRuns() const {
    QStringList out;
    for (const BrowserRun& run : runs_)
        if (run_in_brushes(run, axes_)) out << run.uuid;
    return out;
}

QColor ParallelCanvas::runColor(const QString& uuid) const {
    return isDimmed(uuid) ? kDimmed : colors_.value(uuid);
}

void ParallelCanvas::setBrush(int axis, double lo, double hi) {
    if (axis < 0 || axis >= axes_.size()) return;
    axes_[axis].brush = std::make_pair(std::min(lo, hi), std::max(lo, hi));
    update();
    Q_EMIT brushChanged(brushedRuns());
}

void ParallelCanvas::clearBrush(int axis) {
    if (axis < 0 || axis >= axes_.size() || !axes_[axis].brush) return;
    axes_[axis].brush.reset();
    update();
    Q_EMIT brushChanged(brushedRuns());
}

void ParallelCanvas::clearBrushes() {
    if (!hasBrush()) return;
    for (ParallelAxis& axis : axes_)
        axis.brush.reset();
    update();
    Q_EMIT brushChanged(brushedRuns());
}

QRectF ParallelCanvas::plot_area() const {
    // Room for two-line titles above, tick labels left of the first axis, the colour bar right.
    return QRectF(70.0, 52.0, std::max(10.0, width() - 70.0 - 110.0), std::max(10.0, height() - 52.0 - 24.0));
}

double ParallelCanvas::axisX(int axis) const {
    const QRectF area = plot_area();
    if (axes_.size() <= 1) return area.center().x();
    return area.left() + area.width() * axis / double(axes_.size() - 1);
}

double ParallelCanvas::pixelY(int axis, double value) const {
    const QRectF area = plot_area();
    return area.bottom() - area.height() * parallel_position(axes_[axis], value);
}

double ParallelCanvas::value_at_pixel(int axis, double y) const {
    const QRectF area = plot_area();
    const double position = std::clamp((area.bottom() - y) / area.height(), 0.0, 1.0);
    return parallel_value_at(axes_[axis], position);
}

void ParallelCanvas::mousePressEvent(QMouseEvent* event) {
    drag_axis_ = -1;
    for (int i = 0; i < axes_.size(); ++i)
        if (std::abs(event->position().x() - axisX(i)) <= kAxisGrabPx) drag_axis_ = i;
    drag_start_y_ = event->position().y();
    event->accept();
}

void ParallelCanvas::mouseMoveEvent(QMouseEvent* event) {
    if (drag_axis_ < 0) return;
    if (std::abs(event->position().y() - drag_start_y_) < 3.0) return; // not yet a drag
    setBrush(drag_axis_, value_at_pixel(drag_axis_, drag_start_y_),
             value_at_pixel(drag_axis_, event->position().y()));
}

void ParallelCanvas::mouseReleaseEvent(QMouseEvent* event) {
    if (drag_axis_ < 0) return;
    if (std::abs(event->position().y() - drag_start_y_) < 3.0)
        clearBrush(drag_axis_); // a click on the axis: its brush goes
    else
        setBrush(drag_axis_, value_at_pixel(drag_axis_, drag_start_y_),
                 value_at_pixel(drag_axis_, event->position().y()));
    drag_axis_ = -1;
}

void ParallelCanvas::paint_axis(QPainter& painter, int i) const {
    const ParallelAxis& axis = axes_[i];
    const QRectF area = plot_area();
    const double x = axisX(i);
    painter.setPen(QPen(QColor(90, 90, 90), 1.0));
    painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
    QFont title_font = font();
    title_font.setPointSizeF(9.0);
    title_font.setBold(true);
    painter.setFont(title_font);
    painter.setPen(QColor(30, 30, 30));
    const double slot = axes_.size() > 1 ? area.width() / double(axes_.size() - 1) : area.width();
    painter.drawText(QRectF(x - slot / 2, 2.0, slot, area.top() - 10.0), Qt::AlignHCenter | Qt::AlignBottom,
                     parallel_title(axis.column.title));

    // Ticks: the categories; a param's distinct values when few; else five even steps.
    QVector<std::pair<double, QString>> ticks;
    if (axis.categorical) {
        for (int c = 0; c < axis.categories.size(); ++c)
            ticks.push_back({double(c), axis.categories[c]});
    } else {
        QVector<double> distinct;
        for (const BrowserRun& run : runs_)
            if (const auto v = parallel_value(run, axis); v && !distinct.contains(*v)) distinct << *v;
        if (axis.column.kind == RunColumnKind::Param && distinct.size() <= 8) {
            for (double v : distinct)
                ticks.push_back({v, QString::number(v, 'g', 4)});
        } else {
            const bool percent = axis.column.kind == RunColumnKind::Accuracy;
            for (int k = 0; k <= 4; ++k) {
                const double v = parallel_value_at(axis, k / 4.0);
                ticks.push_back({v, QString::number(percent ? 100.0 * v : v, 'g', 4)});
            }
        }
    }
    QFont tick_font = font();
    tick_font.setPointSizeF(8.5);
    painter.setFont(tick_font);
    for (const auto& [value, text] : ticks) {
        const double y = pixelY(i, value);
        painter.setPen(QColor(90, 90, 90));
        painter.drawLine(QPointF(x - 4, y), QPointF(x, y));
        // On a white plate: labels sit among the lines that end at this axis.
        const QRectF box(x - 66, y - 8, 60, 16);
        const QRectF used = painter.boundingRect(box, Qt::AlignRight | Qt::AlignVCenter, text);
        painter.fillRect(used.adjusted(-2, 0, 1, 0), QColor(255, 255, 255, 210));
        painter.setPen(QColor(50, 50, 50));
        painter.drawText(box, Qt::AlignRight | Qt::AlignVCenter, text);
    }
    if (axis.brush) {
        const double y1 = pixelY(i, axis.brush->first), y2 = pixelY(i, axis.brush->second);
        painter.setPen(QPen(QColor(40, 40, 40), 1.0));
        painter.setBrush(QColor(0, 0, 0, 40));
        painter.drawRect(QRectF(QPointF(x - kBrushHalfWidthPx, std::min(y1, y2)),
                                QPointF(x + kBrushHalfWidthPx, std::max(y1, y2))));
        painter.setBrush(Qt::NoBrush);
    }
}

void ParallelCanvas::paint_color_bar(QPainter& painter) const {
    if (color_title_.isEmpty() || !color_numeric_ || !(color_hi_ > color_lo_)) return;
    const QRectF area = plot_area();
    const QRectF bar(width() - 46.0, area.top() + 10.0, 12.0, area.height() * 0.6);
    QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
    for (int k = 0; k <= 8; ++k)
        gradient.setColorAt(k / 8.0, sequential_color(0.9 * k / 8.0));
    painter.setPen(QColor(120, 120, 120));
    painter.setBrush(gradient);
    painter.drawRect(bar);
    painter.setBrush(Qt::NoBrush);
    QFont tick_font = font();
    tick_font.setPointSizeF(8.5);
    painter.setFont(tick_font);
    painter.setPen(QColor(50, 50, 50));
    // The title under the bar: above it sits the last axis' title.
    painter.drawText(QRectF(width() - 106.0, bar.bottom() + 6, 102, 60),
                     Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, parallel_title(color_title_));
    const double unit = color_percent_ ? 100.0 : 1.0; // accuracies read in percent, as on their axis
    painter.drawText(QRectF(bar.left() - 44, bar.top() - 8, 40, 16), Qt::AlignRight | Qt::AlignVCenter,
                     QString::number(unit * color_hi_, 'g', 4));
    painter.drawText(QRectF(bar.left() - 44, bar.bottom() - 8, 40, 16), Qt::AlignRight | Qt::AlignVCenter,
                     QString::number(unit * color_lo_, 'g', 4));
}

void ParallelCanvas::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.fillRect(rect(), Qt::white);
    if (axes_.isEmpty()) return;
    // Dimmed runs first, so the brushed ones are drawn over them.
    for (int pass = 0; pass < 2; ++pass)
        for (const BrowserRun& run : runs_) {
            const bool dimmed = isDimmed(run.uuid);
            if (dimmed != (pass == 0)) continue;
            painter.setPen(QPen(runColor(run.uuid), dimmed ? 1.0 : 1.8));
            // Segments between neighbouring axes where the run has both values (rank 0 has no
            // compensated PPL: its line stops there).
            for (int i = 0; i + 1 < axes_.size(); ++i) {
                const auto a = parallel_value(run, axes_[i]), b = parallel_value(run, axes_[i + 1]);
                if (a && b)
                    painter.drawLine(QPointF(axisX(i), pixelY(i, *a)),
                                     QPointF(axisX(i + 1), pixelY(i + 1, *b)));
            }
            if (axes_.size() == 1)
                if (const auto a = parallel_value(run, axes_[0]))
                    painter.drawEllipse(QPointF(axisX(0), pixelY(0, *a)), 2.5, 2.5);
        }
    for (int i = 0; i < axes_.size(); ++i)
        paint_axis(painter, i);
    paint_color_bar(painter);
}

// ---- view --------------------------------------------------------------------------------------

ParallelCoords::ParallelCoords(QWidget* parent) : QWidget(parent) {
    canvas_ = new ParallelCanvas;
    metrics_button_ = new QToolButton(this);
    metrics_button_->setText(tr("result axes"));
    metrics_button_->setPopupMode(QToolButton::InstantPopup);
    metrics_button_->setMenu(new QMenu(metrics_button_));
    color_box_ = new QComboBox(this);
    color_box_->setMinimumContentsLength(14);
    auto* clear = new QPushButton(tr("Clear brushes"), this);
    auto* save = new QPushButton(tr("Save figure..."), this);
    count_label_ = new QLabel(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(metrics_button_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("colour by"), this));
    bar->addWidget(color_box_);
    bar->addSpacing(12);
    bar->addWidget(clear);
    bar->addSpacing(12);
    bar->addWidget(count_label_);
    bar->addStretch(1);
    bar->addWidget(save);
    empty_ = new EmptyState(canvas_, tr("No runs to draw yet: finish a sweep, or select runs in Runs. "
                                        "Drag along an axis to keep the runs in that range."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(empty_, 1);
    connect(color_box_, qOverload<int>(&QComboBox::activated), this,
            [this](int i) { setColorColumn(color_box_->itemData(i).toString()); });
    connect(clear, &QPushButton::clicked, canvas_, &ParallelCanvas::clearBrushes);
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save figure"), QString(),
            tr("PNG image, 2x (*.png);;PDF, vector (*.pdf);;SVG, vector (*.svg)"));
        QString error;
        if (!path.isEmpty() && !saveFigure(path, &error)) Q_EMIT saveFailed(error);
    });
    connect(canvas_, &ParallelCanvas::brushChanged, this, [this](const QStringList& uuids) {
        count_label_->setText(canvas_->hasBrush()
                                  ? tr("%1 of %2 runs brushed").arg(uuids.size()).arg(runs_.size())
                                  : tr("drag along an axis to brush"));
        Q_EMIT brushChanged(uuids, canvas_->hasBrush());
    });
    rebuild();
}

void ParallelCoords::setRuns(const QVector<BrowserRun>& runs) {
    runs_ = runs;
    const QStringList varied = varied_result_titles(runs);
    QStringList kept;
    for (const QString& title : results_)
        if (varied.contains(title)) kept << title;
    results_ = kept.isEmpty() ? varied.mid(0, kDefaultResultAxes) : kept;
    if (!varied.contains(color_) && !results_.isEmpty()) color_ = results_.front(); // the lead result (PPL)
    rebuild();
}

bool ParallelCoords::saveFigure(const QString& path, QString* error) const {
    return save_painted_figure(canvas_, path, error);
}

void ParallelCoords::setResultAxes(const QStringList& titles) {
    results_ = titles;
    rebuild();
}

void ParallelCoords::setColorColumn(const QString& title) {
    color_ = title;
    rebuild();
}

void ParallelCoords::sync_controls() {
    QMenu* menu = metrics_button_->menu();
    menu->clear();
    for (const QString& title : varied_result_titles(runs_)) {
        QAction* action = menu->addAction(title);
        action->setCheckable(true);
        action->setChecked(results_.contains(title));
        connect(action, &QAction::toggled, this, [this, title](bool on) {
            QStringList next;
            for (const QString& t : varied_result_titles(runs_)) // keep the Runs table's order
                if (t == title ? on : results_.contains(t)) next << t;
            // Queued: rebuilding the menu deletes the action whose signal this is.
            QMetaObject::invokeMethod(
                this, [this, next] { setResultAxes(next); }, Qt::QueuedConnection);
        });
    }
    const QSignalBlocker block(color_box_);
    color_box_->clear();
    color_box_->addItem(tr("none"), QString());
    for (const QString& title : varied_result_titles(runs_))
        color_box_->addItem(title, title);
    color_box_->setCurrentIndex(std::max(0, color_box_->findData(color_)));
}

void ParallelCoords::rebuild() {
    canvas_->setRuns(runs_, results_, color_);
    empty_->setEmpty(canvas_->axes().isEmpty());
    count_label_->setText(
        canvas_->hasBrush() ? tr("%1 of %2 runs brushed").arg(canvas_->brushedRuns().size()).arg(runs_.size())
                            : tr("drag along an axis to brush"));
    sync_controls();
}

} // namespace rilq::widgets
