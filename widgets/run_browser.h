// RunBrowser: every recorded run, MLflow-style, results first. Filter by experiment, status and
// text; sort by any column (run_columns.h: PPL per dataset and stage, task accuracies, best
// validation loss, then status, duration, the varied params; internals hidden); choose the shown
// columns (Columns menu or the header's context menu; the app remembers the choice); pick a
// reference run and every result cell shows its difference to it; compare two selected runs'
// params (all, or only those that differ) and results; open a run, send several to the compare
// view, delete with confirmation. The rows come from a source the app connects to the run store,
// so this view has no store code.
#pragma once
#include "widgets/run_browser_types.h"
#include "widgets/run_columns.h"

#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QPushButton;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;
class QTableWidget;
class QToolButton;

namespace rilq::widgets {

class RunBrowser : public QWidget {
    Q_OBJECT
  public:
    explicit RunBrowser(QWidget* parent = nullptr);

    void setSource(RunBrowserSource source);
    // Asked before deleting; default: a QMessageBox question. Tests inject an answer.
    void setConfirmer(std::function<bool(const QString& question)> confirmer);

    // ---- what is shown (tests) ----
    QStringList visibleRunIds() const; // in the current sort order
    QStringList selectedRunIds() const;
    QStringList columnTitles() const; // every column, shown or hidden, in display order
    QStringList shownColumnTitles() const;
    // The user's explicit choices (title -> shown); columns without one use run_columns' default.
    QMap<QString, bool> columnChoices() const { return column_choices_; }
    QString cellText(const QString& uuid, const QString& column_title) const; // "" when not listed
    QString referenceRun() const { return reference_; }                       // "" = none
    QMenu* columnMenu() const { return column_menu_; }
    // The comparison of the two selected runs: rows of (key, A, B) for params, then (result, A,
    // B with its difference to A) for each result column either has; none when != 2 selected.
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
    void setColumnShown(const QString& title, bool shown); // remembered in columnChoices()
    void setColumnChoices(const QMap<QString, bool>& choices);
    // Result cells then read "value (difference to the reference)"; "" or an unknown run clears it.
    void setReferenceRun(const QString& uuid);
    bool deleteSelected(); // asks, then removes; false when refused or failed

  Q_SIGNALS:
    void openRequested(const QString& uuid);
    void compareRequested(const QStringList& uuids);
    void runsDeleted(const QStringList& uuids);
    void runSelectionChanged(const QStringList& uuids); // the user's selection (views may follow it)
    void columnChoicesChanged(const QMap<QString, bool>& choices);
    void errorOccurred(const QString& message);

  private:
    void rebuild_model();
    void rebuild_keeping_selection(const QStringList& selected);
    void refresh_diff();
    void update_buttons();
    void apply_column_visibility();
    void fill_column_menu();
    const BrowserRun* find(const QString& uuid) const;

    RunBrowserSource source_;
    QVector<RunColumn> columns_;
    QMap<QString, bool> column_choices_;
    QString reference_;
    bool quiet_selection_ = false; // true while a rebuild restores the selection
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
    QPushButton* reference_button_ = nullptr;
    QToolButton* columns_button_ = nullptr;
    QMenu* column_menu_ = nullptr;
};

} // namespace rilq::widgets
