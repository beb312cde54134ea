// The workbench window: Setup (the experiment form), Queue, Live curves, Layers, Runs (the
// store browser), Compare and Export as tabs, the log as a dock. Training runs in a RunWorker
// on its own thread; this class only wires views, worker and store together.
#pragma once
#include "app/gui/store_bridge.h"

#include <QMainWindow>
#include <QStringList>

class QAction;
class QCustomPlot;
class QDockWidget;
class QMenu;
class QTabWidget;
class QThread;

namespace rilq::widgets {
class CompareView;
class ExperimentForm;
class LayerInspector;
class LiveCurves;
class LogPanel;
class RunBrowser;
class RunQueueView;
enum class LogLevel;
enum class RunStatus;
} // namespace rilq::widgets

namespace rilq::gui {

class ExportPanel;
class RunWorker;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    // `store_path` "" = the settings' store, else the data folder's runs.sqlite.
    // Whether errors may open a message box. WithoutDialogs (tests, --screenshot) sends them to the
    // log and stderr instead and counts them, so nothing waits for a click that never comes.
    enum class Interaction { Dialogs, WithoutDialogs };
    explicit MainWindow(const QString& store_path = QString(), Interaction interaction = Interaction::Dialogs,
                        QWidget* parent = nullptr);
    ~MainWindow() override;

    // ---- parts (tests, screenshots) ----
    widgets::ExperimentForm* form() const { return form_; }
    widgets::RunQueueView* queue() const { return queue_; }
    widgets::LiveCurves* liveCurves() const { return live_; }
    widgets::LayerInspector* layers() const { return layers_; }
    widgets::RunBrowser* browser() const { return browser_; }
    widgets::CompareView* compare() const { return compare_; }
    ExportPanel* exportPanel() const { return export_; }
    widgets::LogPanel* log() const { return log_; }
    QDockWidget* logDock() const { return log_dock_; }
    QTabWidget* tabs() const { return tabs_; }
    RunWorker* worker() const { return worker_; }
    const StoreBridge& store() const { return store_; }
    bool isRunning() const { return running_; }
    // Views by screenshot name: setup, queue, live, layers, runs, compare, export.
    QStringList viewNames() const;
    bool showView(const QString& name);
    // Grabs every view to dir/<name>.png, Compare's other figure tabs to compare-scatter.png and
    // compare-parallel.png, and its overlay on split charts to compare-split.png; false + message
    // on failure.
    bool saveScreenshots(const QString& dir, QString* error = nullptr);
    // What File -> Save chart saves: the current view's largest visible chart; nullptr if none.
    QCustomPlot* currentChart() const;

    int errorCount() const { return error_count_; }

  public Q_SLOTS:
    bool openExperiment(const QString& path);
    bool saveExperiment(const QString& path);
    // With unsaved edits (the title's "*"), asks Save / Discard / Cancel; false = stay (cancelled,
    // or the save failed). Always true without dialogs.
    bool maybeSaveExperiment();
    void setStorePath(const QString& path);
    bool startRuns();                  // validates, fills the queue, hands the experiment to the worker
    bool runDemo();                    // opens experiments/demo.json and starts it
    void cancelRuns();                 // the running point ends KILLED (and the points after it)
    void openRun(const QString& uuid); // curves + layer views of a stored run
    void compareRuns(const QStringList& uuids); // followRuns, then shows the Compare tab
    // Compare (curves, rank figures), Layers (the last run with layer stats) and Export (the
    // experiment) show these runs, without changing the tab: what a sweep in progress, a sweep
    // that just ended and a selection in Runs all do, so no view needs re-picking.
    void followRuns(const QStringList& uuids);
    void openLatestRun(); // the newest run of the store, if any
    void refreshStoreViews();

  Q_SIGNALS:
    void runsFinished(int finished, int total, const QString& error);

  protected:
    void closeEvent(QCloseEvent* event) override;

  private:
    void build_views();
    void build_menus();
    void connect_worker();
    void restore_settings();
    void apply_theme(const QString& theme);
    void report_error(const QString& message, const QString& source = QString());
    void update_title(); // the experiment's file name and the modified marker
    void fill_recent_menu();
    void save_chart();
    void choose_data_folder();
    void on_run_started(int index, int count, const QString& uuid, const QString& name, int total_steps);
    void on_run_finished(int index, const QString& uuid, widgets::RunStatus status, const QString& message);
    void on_experiment_finished(int finished, int total, const QString& error);
    void on_browser_selection(const QStringList& uuids);

    StoreBridge store_;
    QString data_folder_;
    Interaction interaction_ = Interaction::Dialogs;
    int error_count_ = 0;
    bool running_ = false;
    int run_total_steps_ = 0;
    QStringList sweep_run_ids_; // runs the current (or last) sweep started, in order

    QTabWidget* tabs_ = nullptr;
    widgets::ExperimentForm* form_ = nullptr;
    widgets::RunQueueView* queue_ = nullptr;
    widgets::LiveCurves* live_ = nullptr;
    widgets::LayerInspector* layers_ = nullptr;
    widgets::RunBrowser* browser_ = nullptr;
    widgets::CompareView* compare_ = nullptr;
    ExportPanel* export_ = nullptr;
    widgets::LogPanel* log_ = nullptr;
    QDockWidget* log_dock_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    QAction* start_action_ = nullptr;
    QAction* cancel_action_ = nullptr;
    QAction* pause_action_ = nullptr;

    QThread* thread_ = nullptr;
    RunWorker* worker_ = nullptr;
};

} // namespace rilq::gui
