// RankPlot: perplexity versus LoRA rank, one line per eval dataset (and per scope when the sweep
// compared scopes), rank 0 (no compensation) as a dashed horizontal line per dataset and the FP
// model as a dotted one. The x axis is log2: ranks 16, 32, 64, 128 are evenly spaced.
#pragma once
#include "widgets/compare_types.h"

#include <QStringList>
#include <QWidget>

#include <memory>

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;
class QLabel;
class QMouseEvent;

namespace rilq::widgets {

class PlotReadout;

class RankPlot : public QWidget {
    Q_OBJECT
  public:
    explicit RankPlot(QWidget* parent = nullptr);
    ~RankPlot() override;

    void setSweep(const rilq::widgets::RankSweep& sweep);
    QStringList datasets() const { return datasets_; } // first-seen order
    QStringList scopes() const { return scopes_; }     // model first, then linear, layer, weight-svd
    // Points with rank > 0 of one dataset and scope, by ascending rank (nullptr if none).
    QCPGraph* series(const QString& dataset, const QString& scope) const;
    // y of the dashed rank-0 line (NaN when the sweep has no rank 0 for that dataset).
    double baseline(const QString& dataset) const;
    QCPItemStraightLine* baselineLine(const QString& dataset) const;
    QColor datasetColor(const QString& dataset) const;
    bool logY() const { return log_y_; }
    QCustomPlot* plot() const { return plot_; }
    bool showReadoutAt(const QPointF& plot_pixel);
    QString readoutText() const;

  public Q_SLOTS:
    void setLogY(bool enabled);

  private:
    struct Line {
        QString dataset, scope;
        QCPGraph* graph = nullptr;
    };
    struct Reference {
        double value = 0.0;
        QCPItemStraightLine* line = nullptr;
        QCPItemText* label = nullptr;
    };
    void rebuild();
    void fit_ranges();
    void add_value_labels();
    void place_reference_labels();
    void on_mouse_move(QMouseEvent* event);

    QCustomPlot* plot_ = nullptr;
    QCheckBox* log_y_box_ = nullptr;
    QLabel* protocol_ = nullptr;
    QCPTextElement* title_ = nullptr;
    std::unique_ptr<PlotReadout> readout_;
    RankSweep sweep_;
    QStringList datasets_, scopes_;
    QVector<Line> lines_;
    QMap<QString, Reference> baselines_; // by dataset
    QMap<QString, Reference> fp_lines_;  // by dataset
    bool log_y_ = true; // rank-0 PPL is often 40x the compensated one: linear y flattens the lines
};

} // namespace rilq::widgets
