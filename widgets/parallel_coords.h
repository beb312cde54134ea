// Parallel coordinates (TensorBoard HParams style): one vertical axis per swept param and per
// chosen result, one polyline per run coloured by a result; drag along an axis to brush a range
// (a click on the axis clears it). Runs inside every brush are drawn in colour, the others dimmed
// grey, and the brushed runs go out as a signal (the main window selects them in Runs).
#pragma once
#include "widgets/parallel_axes.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QToolButton;

namespace rilq::widgets {

class EmptyState;

// The chart itself: painting and brushing (QPainter; QCustomPlot has no parallel axes).
class ParallelCanvas : public QWidget {
    Q_OBJECT
  public:
    explicit ParallelCanvas(QWidget* parent = nullptr);
    // Keeps brushes on axes that are still there. `color_title`: a result or param column title.
    void setRuns(const QVector<rilq::widgets::BrowserRun>& runs, const QStringList& results,
                 const QString& color_title);
    const QVector<ParallelAxis>& axes() const { return axes_; }
    int axisIndex(const QString& title) const; // -1 when absent
    bool hasBrush() const { return any_brush(axes_); }
    // Runs inside every brush, in the runs' order; every run while nothing is brushed.
    QStringList brushedRuns() const;
    QColor runColor(const QString& uuid) const; // the colour it is drawn in (grey when dimmed)
    bool isDimmed(const QString& uuid) const { return hasBrush() && !brushedRuns().contains(uuid); }
    // Pixels, for tests and hit testing: an axis' x; the y of a value (axis units) on an axis.
    double axisX(int axis) const;
    double pixelY(int axis, double value) const;
    QSize minimumSizeHint() const override { return QSize(360, 240); }

  public Q_SLOTS:
    void setBrush(int axis, double lo, double hi); // axis units (category index when categorical)
    void clearBrush(int axis);
    void clearBrushes();

  Q_SIGNALS:
    void brushChanged(const QStringList& brushed_uuids); // brushedRuns(), after each change

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

  private:
    QRectF plot_area() const;
    double value_at_pixel(int axis, double y) const;
    void paint_axis(QPainter& painter, int axis) const;
    void paint_color_bar(QPainter& painter) const;

    QVector<BrowserRun> runs_;
    QVector<ParallelAxis> axes_;
    QString color_title_;
    QMap<QString, QColor> colors_; // by uuid, before dimming
    double color_lo_ = 0.0, color_hi_ = 0.0;
    bool color_numeric_ = false;
    bool color_percent_ = false; // an accuracy: its bar is labelled in percent
    int drag_axis_ = -1;
    double drag_start_y_ = 0.0;
};

// The view: which results get axes, the colour, the brushed count, and the canvas.
class ParallelCoords : public QWidget {
    Q_OBJECT
  public:
    explicit ParallelCoords(QWidget* parent = nullptr);
    // Keeps the chosen results and colour when the new runs still have them; otherwise the
    // results that differ between runs (at most kDefaultResultAxes), coloured by the first.
    void setRuns(const QVector<rilq::widgets::BrowserRun>& runs);
    ParallelCanvas* canvas() const { return canvas_; }
    QStringList resultAxes() const { return results_; }
    QString colorColumn() const { return color_; }
    static constexpr int kDefaultResultAxes = 4;
    // The chart alone (axes, lines, colour bar; not this bar of controls) as PNG at 2x, PDF or SVG
    // by the file's suffix, as the Save figure button does. False with a message naming the file.
    bool saveFigure(const QString& path, QString* error) const;

  public Q_SLOTS:
    void setResultAxes(const QStringList& titles);
    void setColorColumn(const QString& title);

  Q_SIGNALS:
    void brushChanged(const QStringList& brushed_uuids, bool any_brush);
    void saveFailed(const QString& message); // Save figure could not write the chosen file

  private:
    void rebuild();
    void sync_controls();

    QVector<BrowserRun> runs_;
    QStringList results_;
    QString color_;
    ParallelCanvas* canvas_ = nullptr;
    QToolButton* metrics_button_ = nullptr;
    QComboBox* color_box_ = nullptr;
    QLabel* count_label_ = nullptr;
    EmptyState* empty_ = nullptr;
};

} // namespace rilq::widgets
