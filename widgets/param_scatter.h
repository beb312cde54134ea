// ParamScatter: one dot per run, a swept param (or any result) on x against a result on y (PPL
// per dataset and stage, task accuracy, best validation loss), coloured by another param: the
// W&B / MLflow "params vs metric" view. Its axes are the Runs table's columns (run_columns.h),
// so a run reads the same here and there. The y axis turns log past kScaleRatioForLog.
#pragma once
#include "widgets/run_browser_types.h"
#include "widgets/run_columns.h"

#include <QStringList>
#include <QWidget>

class QComboBox;
class QCustomPlot;
class QCPGraph;

namespace rilq::widgets {

class EmptyState;

class ParamScatter : public QWidget {
    Q_OBJECT
  public:
    explicit ParamScatter(QWidget* parent = nullptr);

    // Keeps the x / y / colour choice when the new runs still have those columns; otherwise x =
    // the first numeric varied param, y = the last stage's first PPL (else the first result).
    void setRuns(const QVector<rilq::widgets::BrowserRun>& runs);
    QStringList xChoices() const;     // numeric params, then results
    QStringList yChoices() const;     // results
    QStringList colorChoices() const; // varied params ("" = one colour)
    QString xColumn() const { return x_; }
    QString yColumn() const { return y_; }
    QString colorColumn() const { return color_; }
    bool logY() const { return log_y_; }
    // One graph per colour value ("" when not coloured), dots only; nullptr when none.
    QCPGraph* group(const QString& color_value) const;
    QStringList groups() const; // colour values drawn, sorted
    QCustomPlot* plot() const { return plot_; }

  public Q_SLOTS:
    void setXColumn(const QString& title);
    void setYColumn(const QString& title);
    void setColorColumn(const QString& title);

  private:
    void rebuild();
    void sync_controls();
    const RunColumn* column(const QString& title) const;

    QVector<BrowserRun> runs_;
    QVector<RunColumn> columns_;
    QString x_, y_, color_;
    bool log_y_ = false;
    QMap<QString, QCPGraph*> groups_;
    QCustomPlot* plot_ = nullptr;
    QComboBox* x_box_ = nullptr;
    QComboBox* y_box_ = nullptr;
    QComboBox* color_box_ = nullptr;
    EmptyState* empty_ = nullptr; // says what to do while there is no dot
};

} // namespace rilq::widgets
