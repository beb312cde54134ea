// LayerHeatmap: one metric at one stage as a grid, layer (rows, layer 0 on top) x projection
// (q k v o gate up down). Colour range shared across stages by default so switching stage shows
// the real change; values written into the cells while they are big enough to read.
#pragma once
#include "widgets/layer_stats.h"

#include <QPointF>
#include <QWidget>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QMouseEvent;

namespace rilq::widgets {

class LayerHeatmap : public QWidget {
    Q_OBJECT
  public:
    // Cell labels are drawn only up to this many layers (beyond, they would be unreadable).
    static constexpr int kMaxLabelledLayers = 24;

    explicit LayerHeatmap(QWidget* parent = nullptr);

    // Shows `metric` at `stage` from `table`. shared_range: colour range over all stages.
    void setData(const LayerStatsTable& table, const QString& stage, const QString& metric,
                 bool shared_range = true);
    // Frames one cell (layer, column 0..6); layer < 0 clears the frame.
    void setSelectedCell(int layer, int column);

    int layerCount() const { return layers_; }
    // Value drawn in a cell (NaN for a missing value or out of range).
    double cellValue(int layer, int column) const;
    // Pixel centre of a cell in plot() coordinates (tests click there).
    QPointF cellCenter(int layer, int column) const;
    // Colour range in use.
    double rangeLower() const;
    double rangeUpper() const;
    QCustomPlot* plot() const { return plot_; }
    QCPColorMap* colorMap() const { return map_; }

  Q_SIGNALS:
    void cellClicked(int layer, const QString& module); // module: canonical, "self_attn.q_proj"

  private:
    void on_mouse_press(QMouseEvent* event);
    void rebuild_labels(const LayerStatsTable& table, const QString& stage, const QString& metric);

    QCustomPlot* plot_ = nullptr;
    QCPColorMap* map_ = nullptr;
    QCPColorScale* scale_ = nullptr;
    QCPItemRect* frame_ = nullptr;
    int layers_ = 0;
};

} // namespace rilq::widgets
