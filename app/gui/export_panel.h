// The Export tab: which experiment, which param as rows, which metric (PPL, a task accuracy, the
// common-sense average, MMLU's categories, a logged metric) at which stage, then the table as
// `rilq export` would print it (PivotPreview: copy Markdown, save .md/.csv/.tex/.json).
#pragma once
#include "app/gui/export_bridge.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLineEdit;

namespace rilq::gui {

class ExportPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ExportPanel(QWidget* parent = nullptr);
    void setStorePath(const QString& path);
    widgets::PivotPreview* preview() const { return preview_; }
    QComboBox* metricBox() const { return metric_box_; }
    ExportChoice choice() const;

  public Q_SLOTS:
    void setExperiments(const QStringList& names, const QString& current = QString());
    void setExperiment(const QString& name);
    void update(); // rebuilds the preview; errors go to errorOccurred and the preview's status

  Q_SIGNALS:
    void errorOccurred(const QString& message);

  private:
    void use_default_layout(); // rows / columns as `rilq run` prints the experiment
    QString store_path_;
    QComboBox* experiment_box_ = nullptr;
    QLineEdit* rows_edit_ = nullptr;
    QLineEdit* cols_edit_ = nullptr;
    QComboBox* stage_box_ = nullptr;
    QComboBox* metric_box_ = nullptr; // core's metric names; editable for logged metrics
    QCheckBox* best_box_ = nullptr;
    widgets::PivotPreview* preview_ = nullptr;
};

} // namespace rilq::gui
