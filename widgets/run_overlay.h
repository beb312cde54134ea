// RunOverlay: several finished runs' curves of one metric on one chart, coloured by a chosen
// swept parameter (lora_r along viridis, a_type by palette) so a sweep reads at a glance. A click
// on a legend entry hides that run's curve (and shows it again); the y axis turns log by itself
// when the runs' values differ by more than kScaleRatioForLog, until the user sets it.
#pragma once
#include "widgets/compare_types.h"

#include <QSet>
#include <QStringList>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPGraph;
class QMouseEvent;
class QSlider;

namespace rilq::widgets {

class PlotReadout;

class RunOverlay : public QWidget {
    Q_OBJECT
  public:
    explicit RunOverlay(QWidget* parent = nullptr);
    ~RunOverlay() override;

    // Keeps the metric and colour parameter when the new runs still have them; otherwise picks
    // the first metric and the first parameter whose value differs between runs.
    void setRuns(const QVector<rilq::widgets::RunCurve>& runs);
    QStringList metricKeys() const;    // union over runs, first-seen order
    QStringList parameterKeys() const; // params whose value differs between runs, sorted
    QString metric() const { return metric_; }
    QString colorParameter() const { return color_param_; } // "" = one palette colour per run
    // The second channel: each value of this param draws its own dash pattern ("" = all solid).
    // Defaults to the first varied param other than the colour one.
    QString dashParameter() const { return dash_param_; }
    Qt::PenStyle dashOf(const QString& run_id) const;
    bool logY() const { return log_y_; }
    bool logYChosenByUser() const { return log_y_chosen_; }
    bool isRunHidden(const QString& run_id) const { return hidden_runs_.contains(run_id); }
    double smoothing() const { return smoothing_; }

    QCPGraph* graph(const QString& run_id) const; // nullptr when the run lacks the metric
    QColor runColor(const QString& run_id) const;
    QCustomPlot* plot() const { return plot_; }
    bool showReadoutAt(const QPointF& plot_pixel);
    QString readoutText() const;

  public Q_SLOTS:
    void setMetric(const QString& metric);
    void setColorParameter(const QString& key);
    void setDashParameter(const QString& key);
    void setLogY(bool enabled); // the user's choice: no automatic switch after it
    void setRunHidden(const QString& run_id, bool hidden);
    void setSmoothing(double weight); // EMA as in LiveCurves; 0 = raw

  private:
    void rebuild();
    void sync_controls();
    void keep_channels_apart(); // the dash param defaults to a varied one the colour does not show
    void choose_log_y();        // log when the runs' scales differ by > kScaleRatioForLog
    void apply_log_y(bool enabled);
    void on_mouse_move(QMouseEvent* event);

    QVector<RunCurve> runs_;
    QString metric_;
    QString color_param_;
    QString dash_param_;
    QMap<QString, Qt::PenStyle> dashes_; // by run id
    bool log_y_ = false;
    bool log_y_chosen_ = false; // the user toggled log y: keep it
    QSet<QString> hidden_runs_; // run ids whose curve a legend click hid
    double smoothing_ = 0.0;
    QMap<QString, QCPGraph*> graphs_; // by run id
    QMap<QString, QColor> colors_;    // by run id

    QCustomPlot* plot_ = nullptr;
    QComboBox* metric_box_ = nullptr;
    QComboBox* color_box_ = nullptr;
    QComboBox* dash_box_ = nullptr;
    QCheckBox* log_y_box_ = nullptr;
    QSlider* smoothing_slider_ = nullptr;
    std::unique_ptr<PlotReadout> readout_;
};

} // namespace rilq::widgets
