// The Export tab: which experiment, which param as rows, which metric (PPL, a task accuracy, the
// common-sense average, MMLU's categories, a logged metric) at which stage, which runs (FINISHED
// only by default; a Where filter as `rilq export --where`), then the table as `rilq export`
// would print it (PivotPreview: copy Markdown, save .md/.csv/.tex/.json). Rows and columns start
// as the experiment's swept params; once the user edits them they stay as typed (a new
// experiment never replaces them) until "Default layout". Errors show in the pane.
#pragma once
#include "app/gui/export_bridge.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
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
    // The pane's message line: the last error, else what the default layout chose; "" = none.
    QString messageText() const;
    bool messageIsError() const { return message_is_error_; }
    bool userLayout() const { return user_layout_; } // rows / columns were typed by the user

  public Q_SLOTS:
    void setExperiments(const QStringList& names, const QString& current = QString());
    void setExperiment(const QString& name);
    void setRowsAndColumns(const QString& rows, const QString& cols); // as if typed by the user
    void setIncludeUnfinished(bool include);
    void setWhere(const QString& where);
    void useDefaultLayout(); // back to the experiment's swept params, following later experiments
    void update();           // rebuilds the preview; errors go to the pane, errorOccurred and the log

  Q_SIGNALS:
    void errorOccurred(const QString& message);

  private:
    void use_default_layout(); // rows / columns as `rilq run` prints the experiment, unless user-typed
    void show_message(const QString& text, bool is_error);
    QString store_path_;
    bool user_layout_ = false;
    bool message_is_error_ = false;
    QString layout_note_; // what the default layout chose, shown while there is no error
    QComboBox* experiment_box_ = nullptr;
    QLineEdit* rows_edit_ = nullptr;
    QLineEdit* cols_edit_ = nullptr;
    QComboBox* stage_box_ = nullptr;
    QComboBox* metric_box_ = nullptr; // core's metric names; editable for logged metrics
    QCheckBox* best_box_ = nullptr;
    QComboBox* status_box_ = nullptr; // FINISHED runs / every run
    QLineEdit* where_edit_ = nullptr;
    QLabel* message_ = nullptr;
    widgets::PivotPreview* preview_ = nullptr;
};

} // namespace rilq::gui
