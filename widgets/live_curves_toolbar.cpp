#include "widgets/live_curves_toolbar.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QToolButton>

#include <cmath>

namespace rilq::widgets {

LiveCurvesToolbar::LiveCurvesToolbar(QWidget* parent) : QWidget(parent) {
    auto* bar = new QHBoxLayout(this);
    bar->setContentsMargins(0, 0, 0, 0);
    log_y_box_ = new QCheckBox(tr("log y"), this);
    connect(log_y_box_, &QCheckBox::toggled, this, &LiveCurvesToolbar::logYToggled);
    bar->addWidget(log_y_box_);
    bar->addSpacing(12);

    bar->addWidget(new QLabel(tr("smoothing"), this));
    smoothing_slider_ = new QSlider(Qt::Horizontal, this);
    smoothing_slider_->setRange(0, 99);
    smoothing_slider_->setFixedWidth(140);
    smoothing_slider_->setToolTip(
        tr("EMA weight (TensorBoard-style, debiased); raw curves stay faint behind"));
    bar->addWidget(smoothing_slider_);
    smoothing_value_ = new QLabel(this);
    smoothing_value_->setMinimumWidth(32);
    bar->addWidget(smoothing_value_);
    connect(smoothing_slider_, &QSlider::valueChanged, this, [this](int v) {
        smoothing_value_->setText(QString::number(v / 100.0, 'f', 2));
        Q_EMIT smoothingChanged(v / 100.0);
    });
    bar->addSpacing(12);

    bar->addWidget(new QLabel(tr("x axis"), this));
    x_mode_box_ = new QComboBox(this);
    x_mode_box_->addItem(tr("step"));
    x_mode_box_->addItem(tr("wall time"));
    connect(x_mode_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { Q_EMIT xAxisModeChanged(i == 0 ? XAxisMode::Step : XAxisMode::WallTime); });
    bar->addWidget(x_mode_box_);
    bar->addSpacing(12);

    const char* short_names[kCurveKindCount] = {"model", "GT", "total", "validation", "SFT", "SFT eval"};
    for (int k = 0; k < kCurveKindCount; ++k) {
        kind_boxes_[k] = new QCheckBox(tr(short_names[k]), this);
        kind_boxes_[k]->setChecked(true);
        kind_boxes_[k]->setVisible(!is_finetune_curve(CurveKind(k)));
        kind_boxes_[k]->setToolTip(curve_kind_label(CurveKind(k)));
        connect(kind_boxes_[k], &QCheckBox::toggled, this,
                [this, k](bool on) { Q_EMIT kindToggled(CurveKind(k), on); });
        bar->addWidget(kind_boxes_[k]);
    }
    bar->addStretch(1);

    auto* fit = new QToolButton(this);
    fit->setText(tr("Fit"));
    fit->setToolTip(tr("Fit all data and follow new points (double-click on the chart does the same)"));
    connect(fit, &QToolButton::clicked, this, &LiveCurvesToolbar::fitRequested);
    bar->addWidget(fit);
}

void LiveCurvesToolbar::setFinetuneKindsAvailable(bool available) {
    for (int k = 0; k < kCurveKindCount; ++k)
        if (is_finetune_curve(CurveKind(k))) kind_boxes_[k]->setVisible(available);
}

void LiveCurvesToolbar::setLogY(bool enabled) {
    const QSignalBlocker block(log_y_box_);
    log_y_box_->setChecked(enabled);
}

void LiveCurvesToolbar::setSmoothing(double weight) {
    const QSignalBlocker block(smoothing_slider_);
    smoothing_slider_->setValue(int(std::lround(weight * 100)));
    smoothing_value_->setText(QString::number(weight, 'f', 2));
}

void LiveCurvesToolbar::setXAxisMode(XAxisMode mode) {
    const QSignalBlocker block(x_mode_box_);
    x_mode_box_->setCurrentIndex(mode == XAxisMode::Step ? 0 : 1);
}

void LiveCurvesToolbar::setKindVisible(CurveKind kind, bool visible) {
    const QSignalBlocker block(kind_boxes_[int(kind)]);
    kind_boxes_[int(kind)]->setChecked(visible);
}

} // namespace rilq::widgets
