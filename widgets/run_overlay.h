// RunOverlay: several finished runs' curves of one metric, coloured by a chosen swept parameter
// (lora_r along viridis, a_type by palette) and dashed by a second one, so a sweep reads at a
// glance. A click on a legend entry hides that curve (and shows it again). Runs that differ only
// in their seed are drawn as one mean curve in a mean +- std band (seed_groups.h). When the
// curves' scales differ by more than kScaleRatioForLog the y axis turns log by itself, or - with
// "split" - each scale group gets its own chart, each with its own log/linear toggle. x is the
// optimizer step, the training tokens seen, or the wall time since the run's first point.
#pragma once
#include "widgets/compare_types.h"
#include "widgets/seed_groups.h"

#include <QSet>
#include <QStringList>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPMarginGroup;
class QHBoxLayout;
class QMouseEvent;
class QSlider;

namespace rilq::widgets {

class PlotReadout;
struct OverlaySeries; // one drawn curve (run_overlay_draw.cpp)

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
    // What colour and dash may show: parameterKeys() without the seed while seed bands are drawn.
    QStringList channelKeys() const;
    QString metric() const { return metric_; }
    QString colorParameter() const { return color_param_; } // "" = one palette colour per run
    // The second channel: each value of this param draws its own dash pattern ("" = all solid).
    // Defaults to the first varied param other than the colour one.
    QString dashParameter() const { return dash_param_; }
    Qt::PenStyle dashOf(const QString& run_id) const;
    bool logY() const { return log_y_; } // the single chart's axis (chartLogY(i) when split)
    bool logYChosenByUser() const { return log_y_chosen_; }
    bool isRunHidden(const QString& run_id) const { return hidden_runs_.contains(run_id); }
    double smoothing() const { return smoothing_; }

    // Seed bands: on by default; drawn when some runs differ only in kSeedParam.
    bool seedBands() const { return seed_bands_; }
    bool drawsSeedBands() const; // on and at least one group of two or more runs
    const QVector<SeedGroup>& seedGroups() const { return drawn_groups_; } // groups drawn as bands
    QCPGraph* bandLower(const QString& run_id) const; // mean - std of the run's group; nullptr if none
    QCPGraph* bandUpper(const QString& run_id) const; // mean + std, filled down to bandLower

    CompareXAxis xAxis() const { return x_axis_; }
    bool xAxisAvailable(CompareXAxis axis) const; // every run with the metric has that x

    // Split charts: one axis rect per scale group (largest scale on top) instead of one log axis.
    bool splitCharts() const { return split_; }
    int chartCount() const;
    int chartOf(const QString& run_id) const; // -1 when the run has no curve drawn
    QCPAxisRect* chart(int index) const;
    bool chartLogY(int index) const;

    // The run's curve; for a run in a seed band, the group's mean curve. nullptr when not drawn.
    QCPGraph* graph(const QString& run_id) const;
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
    void setSmoothing(double weight); // TensorBoard's debiased EMA as in LiveCurves; 0 = raw
    void setSeedBands(bool enabled);
    void setXAxis(rilq::widgets::CompareXAxis axis); // ignored when not xAxisAvailable
    void setSplitCharts(bool enabled);
    void setChartLogY(int index, bool enabled);

  private:
    void rebuild();
    void sync_controls();
    void sync_log_boxes();
    void keep_channels_apart(); // the dash param defaults to a varied one the colour does not show
    void choose_log_y();        // log when the runs' scales differ by > kScaleRatioForLog
    void on_mouse_move(QMouseEvent* event);
    // run_overlay_draw.cpp
    QVector<OverlaySeries> collect_series();
    QVector<double> x_of(const RunCurve& run, const QString& metric) const;
    void assign_colors();
    void lay_out_charts(int count);
    void draw_series(const OverlaySeries& series, QCPAxisRect* rect);
    QString series_name(const RunCurve& run, int seeds) const;

    QVector<RunCurve> runs_;
    QString metric_;
    QString color_param_;
    QString dash_param_;
    QMap<QString, Qt::PenStyle> dashes_; // by run id
    bool log_y_ = false;
    bool log_y_chosen_ = false; // the user toggled log y: keep it
    QSet<QString> hidden_runs_; // run ids whose curve a legend click hid
    double smoothing_ = 0.0;
    bool seed_bands_ = true;
    CompareXAxis x_axis_ = CompareXAxis::Step;
    bool split_ = false;
    QVector<bool> chart_log_;                // per split chart, the user's log choice
    QVector<SeedGroup> drawn_groups_;        // the bands of the last rebuild
    QMap<QString, QCPGraph*> graphs_;        // by run id (every run of a band maps to its mean)
    QMap<QCPGraph*, QString> keys_;          // drawn curve -> run id its legend entry hides
    QMap<QString, QCPGraph*> lower_, upper_; // band edges by run id
    QMap<QString, int> chart_of_;            // by run id
    QMap<QString, QColor> colors_;           // by run id
    QVector<QCPAxisRect*> charts_;           // [0] is the plot's own axis rect

    QCustomPlot* plot_ = nullptr;
    QCPMarginGroup* margins_ = nullptr; // split charts' axes line up
    QComboBox* metric_box_ = nullptr;
    QComboBox* x_box_ = nullptr;
    QComboBox* color_box_ = nullptr;
    QComboBox* dash_box_ = nullptr;
    QCheckBox* bands_box_ = nullptr;
    QCheckBox* split_box_ = nullptr;
    QHBoxLayout* log_boxes_ = nullptr; // one "log y" check box per chart
    QVector<QCheckBox*> log_box_list_;
    QSlider* smoothing_slider_ = nullptr;
    std::unique_ptr<PlotReadout> readout_;
};

} // namespace rilq::widgets
