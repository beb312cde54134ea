// LiveCurves: the training view. Per run: training loss split into its model-level part, its
// ground-truth (next-token CE) part and their weighted total, plus the validation loss, as the
// official RILQ code logs them (t_a_loss, t_gt_loss, v_loss). Points arrive in batches from the
// worker (queued signals); the chart redraws at most ~25 times a second however fast they come.
#pragma once
#include "widgets/curve_types.h"

#include <QColor>
#include <QStringList>
#include <QWidget>

#include <array>
#include <map>
#include <memory>
#include <optional>

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QTimer;
class QMouseEvent;

namespace rilq::widgets {

class EmptyState;

class LiveCurvesToolbar;
class PlotReadout;
class RunMarkers;

class LiveCurves : public QWidget {
    Q_OBJECT
  public:
    // Minimum time between two redraws while points stream in (25 Hz).
    static constexpr int kReplotIntervalMs = 40;

    explicit LiveCurves(QWidget* parent = nullptr);
    ~LiveCurves() override;

    // ---- runs ----
    // Adds an empty run (no-op if the id exists). An invalid colour picks the next palette colour.
    void addRun(const QString& run_id, const QString& label, const QColor& color = QColor());
    void removeRun(const QString& run_id);
    void clearRuns();
    bool hasRun(const QString& run_id) const;
    bool isEmpty() const;       // no runs: the view says how to get curves instead of empty axes
    QStringList runIds() const; // in the order they were added
    QColor runColor(const QString& run_id) const;

    // ---- state ----
    double smoothing() const { return smoothing_weight_; }
    bool logY() const { return log_y_; }
    XAxisMode xAxisMode() const { return x_mode_; }
    bool kindVisible(CurveKind kind) const { return kind_visible_[kind_index(kind)]; }
    // Some run has fine-tuning points: their legend keys and toggles are shown.
    bool finetuneKindsShown() const;

    // ---- what is drawn (for tests, export and the hover read-out) ----
    QCustomPlot* plot() const { return plot_; }
    // Training kinds: the faint raw curve; evaluation kinds: the only curve (never smoothed:
    // validation decides early stopping, so it is shown as measured).
    QCPGraph* rawGraph(const QString& run_id, CurveKind kind) const;
    // Training kinds: the EMA-smoothed curve; evaluation kinds: nullptr.
    QCPGraph* smoothedGraph(const QString& run_id, CurveKind kind) const;
    QCPGraph* bestMarker(const QString& run_id) const;               // one point once validation exists
    QCPItemStraightLine* earlyStopLine(const QString& run_id) const; // nullptr until setEarlyStop
    // Lowest validation loss so far (first one wins ties, as early stopping counts improvements).
    std::optional<CurvePoint> bestValidation(const QString& run_id) const;
    int pointCount(const QString& run_id, CurveKind kind) const;
    int replotCount() const { return replot_count_; }
    // Hover read-out at a pixel position of plot(): snaps to the nearest drawn point within 40 px;
    // returns false (and hides the read-out) when nothing is near. readoutText() is what it shows.
    bool showReadoutAt(const QPointF& plot_pixel);
    QString readoutText() const;

  public Q_SLOTS:
    // Appends points of one series (steps ascending). Unknown run ids are added with the id as label.
    void appendPoints(const QString& run_id, rilq::widgets::CurveKind kind,
                      const QVector<rilq::widgets::CurvePoint>& points);
    // Several series at once (what the worker's event batcher sends every ~100 ms).
    void appendBatch(const QVector<rilq::widgets::CurveBatch>& batches);
    // The step at which early stopping ended the run: a dashed vertical line in the run's colour.
    void setEarlyStop(const QString& run_id, double step);
    void setLogY(bool enabled);
    // EMA weight in [0, 0.999]; 0 shows raw curves only.
    void setSmoothing(double weight);
    void setXAxisMode(rilq::widgets::XAxisMode mode);
    void setKindVisible(rilq::widgets::CurveKind kind, bool visible);
    // Re-enables automatic ranges (turned off when the user zooms or drags) and fits the data.
    void fitToData();
    // Redraws now instead of at the next throttle tick (export, tests).
    void replotNow();

  Q_SIGNALS:
    void bestValidationChanged(const QString& run_id, double step, double value);

  private:
    struct Series {
        QVector<CurvePoint> points;
        EmaSmoother smoother;
        QCPGraph* raw = nullptr;
        QCPGraph* smoothed = nullptr; // training kinds only
    };
    struct Run {
        QString label;
        QColor color;
        std::array<Series, kCurveKindCount> series;
        QCPGraph* legend_entry = nullptr;    // empty graph: one legend line per run in its colour
        std::unique_ptr<RunMarkers> markers; // best-validation star, early-stop line
        int best_index = -1;                 // into series[Validation].points
        double early_stop_step = 0.0;
        bool has_early_stop = false;
    };

    static int kind_index(CurveKind kind) { return int(kind); }
    const Run* find_run(const QString& run_id) const;
    Run& ensure_run(const QString& run_id);
    double x_of(const CurvePoint& point) const;
    void rebuild_series(Run& run, CurveKind kind);
    void rebuild_markers(Run& run);
    void apply_series_style(Run& run, CurveKind kind);
    void update_best(const QString& run_id, Run& run, int first_new_index);
    void schedule_replot();
    void on_replot_tick();
    void on_mouse_move(QMouseEvent* event);
    void build_controls();
    void build_style_legend();
    void show_finetune_kinds();
    void update_axis_labels();

    QCustomPlot* plot_ = nullptr;
    QTimer* replot_timer_ = nullptr;
    LiveCurvesToolbar* toolbar_ = nullptr;
    std::unique_ptr<PlotReadout> readout_;

    std::map<QString, Run> runs_;
    QStringList run_order_;
    EmptyState* content_ = nullptr; // the plot, or what to do while there is nothing to draw
    int next_palette_index_ = 0;
    double smoothing_weight_ = 0.6;
    bool log_y_ = false;
    XAxisMode x_mode_ = XAxisMode::Step;
    std::array<bool, kCurveKindCount> kind_visible_{{true, true, true, true, true, true}};
    std::array<QCPGraph*, kCurveKindCount> style_keys_{}; // grey legend samples, one per kind
    bool finetune_shown_ = false;                         // a fine-tuning point has arrived
    bool auto_range_ = true;
    int replot_count_ = 0;
};

} // namespace rilq::widgets
