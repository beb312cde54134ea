// LayerInspector: looks inside the quantized layers. A heat map of layer x projection for one
// metric and stage (FP -> quantized -> compensated), a per-layer bar chart of the same metric for
// every stage side by side, and for the clicked linear its details (every metric at every stage),
// its code histogram and its ICQ offset histogram.
#pragma once
#include "widgets/layer_stats.h"

#include <QWidget>

class QComboBox;
class QCheckBox;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace rilq::widgets {

class EmptyState;
class LayerHeatmap;

class LayerInspector : public QWidget {
    Q_OBJECT
  public:
    explicit LayerInspector(QWidget* parent = nullptr);

    // Replaces everything shown. Keeps the current metric / stage / selection when still present.
    void setStats(const rilq::widgets::LayerStatsTable& table);
    // True while there are no statistics: the view shows emptyMessage() instead of empty charts.
    bool isEmpty() const;
    QString emptyMessage() const;
    const LayerStatsTable& stats() const { return table_; }

    QString metric() const { return metric_; }
    QString stage() const { return stage_; }
    // Selected linear in core's naming ("layers.3.self_attn.q_proj"); empty when none.
    QString selectedLinear() const;
    // Plain-text form of the details panel (title line, then "metric: fp / quantized / ...").
    QString detailsText() const;

    LayerHeatmap* heatmap() const { return heatmap_; }
    QCustomPlot* layerBars() const { return bars_; }
    QCustomPlot* codeHistogramPlot() const { return code_hist_; }
    QCustomPlot* offsetHistogramPlot() const { return offset_hist_; }

  public Q_SLOTS:
    void setMetric(const QString& metric);
    void setStage(const QString& stage);
    // Same as clicking the cell: updates the side panel and emits linearSelected.
    void selectLinear(int layer, const QString& module);

  Q_SIGNALS:
    void linearSelected(const QString& name); // "layers.3.self_attn.q_proj"

  private:
    void refresh_heatmap();
    void refresh_bars();
    void refresh_details();
    void refresh_histograms();
    void fill_combos();

    LayerStatsTable table_;
    QString metric_;
    QString stage_;
    int selected_layer_ = -1;
    QString selected_module_;

    QComboBox* metric_box_ = nullptr;
    QComboBox* stage_box_ = nullptr;
    QCheckBox* shared_range_box_ = nullptr;
    EmptyState* content_ = nullptr; // the charts, or what to do while there are none
    LayerHeatmap* heatmap_ = nullptr;
    QCustomPlot* bars_ = nullptr;
    QLabel* details_title_ = nullptr;
    QTableWidget* details_ = nullptr;
    QCustomPlot* code_hist_ = nullptr;
    QCustomPlot* offset_hist_ = nullptr;
};

} // namespace rilq::widgets
