// The control row above the live chart: log y, EMA smoothing, x axis, which curves, Fit.
// Emits what the user changed; setters update it silently when the view changes from code.
#pragma once
#include "widgets/curve_types.h"

#include <QWidget>

#include <array>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace rilq::widgets {

class LiveCurvesToolbar : public QWidget {
    Q_OBJECT
  public:
    explicit LiveCurvesToolbar(QWidget* parent = nullptr);

    void setLogY(bool enabled);
    void setSmoothing(double weight); // slider steps of 0.01, 0 .. 0.99
    void setXAxisMode(rilq::widgets::XAxisMode mode);
    void setKindVisible(rilq::widgets::CurveKind kind, bool visible);
    // The fine-tuning toggles stay hidden until some run has a fine-tuning stage.
    void setFinetuneKindsAvailable(bool available);
    QCheckBox* kindBox(rilq::widgets::CurveKind kind) const { return kind_boxes_[int(kind)]; }

  Q_SIGNALS:
    void logYToggled(bool enabled);
    void smoothingChanged(double weight);
    void xAxisModeChanged(rilq::widgets::XAxisMode mode);
    void kindToggled(rilq::widgets::CurveKind kind, bool visible);
    void fitRequested();

  private:
    QCheckBox* log_y_box_ = nullptr;
    QSlider* smoothing_slider_ = nullptr;
    QLabel* smoothing_value_ = nullptr;
    QComboBox* x_mode_box_ = nullptr;
    std::array<QCheckBox*, kCurveKindCount> kind_boxes_{};
};

} // namespace rilq::widgets
