// RunBrowser: every recorded run, MLflow-style. Filter by experiment, status and text; sort by
// any column (params that differ between the listed runs, each metric's best value and each
// downstream task's accuracy are columns); compare the params of two selected runs (all, or only
// those that differ); open a run (its curves and layer views), send several to the compare view,
// delete with confirmation. The rows come from a source the app connects to the run store, so
// this view has no store code.
#pragma once
#include "widgets/run_queue_view.h" // RunStatus

#include <QDateTime>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;
class QTableWidget;

namespace rilq::widgets {

struct BrowserRun {
    QString uuid;
    QString experiment;
    QString name;
    RunStatus status = RunStatus::Scheduled;
    QDateTime started;        // invalid when it never started
    double duration_s = -1.0; // negative when unknown
    QString message;          // status message (why it failed / was killed)
    QMap<QString, QString> params;
    QMap<QString, double> best; // metric key -> best (lowest) value logged
    // Downstream task accuracy (0-1) per column, headed by core's task labels (a task's acc, and
    // "<label> acc_norm" where it has one), from the run's last stage that scored the task; shown
    // in percent after the metrics, in the order given.
    QVector<QPair<QString, double>> accuracy;
};

// Both may throw std::exception; the browser reports the message and keeps going.
struct RunBrowserSource {
    std::function<QVector<BrowserRun>()> list;
    std::function<void(const QString& uuid)> remove;
};

class RunBrowser : public QWidget {
    Q_OBJECT
  public:
    // Fixed leading columns; param and metric columns follow.
    enum Column {
        NameColumn = 0,
        ExperimentColumn,
        StatusColumn,
        StartedColumn,
        DurationColumn,
        FixedColumns
    };

    explicit RunBrowser(QWidget* parent = nullptr);

    void setSource(RunBrowserSource source);
    // Asked before deleting; default: a QMessageBox question. Tests inject an answer.
    void setConfirmer(std::function<bool(const QString& question)> confirmer);

    // ---- what is shown (tests) ----
    QStringList visibleRunIds() const; // in the current sort order
    QStringList selectedRunIds() const;
    QStringList columnTitles() const;
    // The param comparison of the two selected runs: rows of (key, A, B); "" rows when != 2 selected.
    QVector<QStringList> diffRows() const;
    bool diffOnly() const;
    QTableView* tableView() const { return table_; }
    const QVector<BrowserRun>& runs() const { return runs_; }

  public Q_SLOTS:
    void refresh();
    void setExperimentFilter(const QString& experiment); // "" = all
    void setStatusFilter(const QString& status);         // "" = all, else "FINISHED", ...
    void setTextFilter(const QString& text);             // substring of name, uuid, message or a param value
    void selectRuns(const QStringList& uuids);
    void setDiffOnly(bool diff_only);
    void sortByColumn(const QString& title, Qt::SortOrder order);
    bool deleteSelected(); // asks, then removes; false when refused or failed

  Q_SIGNALS:
    void openRequested(const QString& uuid);
    void compareRequested(const QStringList& uuids);
    void runsDeleted(const QStringList& uuids);
    void errorOccurred(const QString& message);

  private:
    void rebuild_model();
    void refresh_diff();
    void update_buttons();
    const BrowserRun* find(const QString& uuid) const;

    RunBrowserSource source_;
    std::function<bool(const QString&)> confirmer_;
    QVector<BrowserRun> runs_;
    QStandardItemModel* model_ = nullptr;
    QSortFilterProxyModel* proxy_ = nullptr;
    QComboBox* experiment_box_ = nullptr;
    QComboBox* status_box_ = nullptr;
    QLineEdit* text_edit_ = nullptr;
    QTableView* table_ = nullptr;
    QCheckBox* diff_only_box_ = nullptr;
    QTableWidget* diff_ = nullptr;
    QLabel* diff_title_ = nullptr;
    QPushButton* open_button_ = nullptr;
    QPushButton* compare_button_ = nullptr;
    QPushButton* delete_button_ = nullptr;
};

} // namespace rilq::widgets
