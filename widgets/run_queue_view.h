// RunQueueView: the sweep's runs in order, each with its status, progress bar, step, ETA and last
// message; an overall bar and ETA; Cancel (the running run ends KILLED), Cancel all, and "Pause
// between runs". The view only shows state and emits requests: the app's worker acts on them and
// reports back through setStatus / setProgress.
#pragma once
#include <QMap>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <functional>

class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace rilq::widgets {

// Mirrors the run store's runs.status values.
enum class RunStatus { Scheduled, Running, Finished, Failed, Killed, Interrupted };
QString run_status_name(RunStatus status); // "SCHEDULED", "RUNNING", ...
bool run_status_is_final(RunStatus status);

// "42 s", "3 min 05 s", "1 h 02 min"; "–" for a negative or non-finite value.
QString format_duration(double seconds);

class RunQueueView : public QWidget {
    Q_OBJECT
  public:
    explicit RunQueueView(QWidget* parent = nullptr);

    void addRun(const QString& run_id, const QString& label, int total_steps = 0);
    void clear();
    QStringList runIds() const { return order_; }
    RunStatus status(const QString& run_id) const;
    int progressPercent(const QString& run_id) const; // 0..100 of its steps; FINISHED = 100
    int overallPercent() const;                       // 0..100 of all runs' steps done
    // Remaining time of the whole queue: the running run's ETA plus, for each scheduled run, the
    // mean duration of finished runs (or, before any finished, the running run's projected total).
    // Negative when unknown.
    double overallEtaSeconds() const;
    // "2 of 5 runs finished · 1 killed · 47% · about 3 min 05 s left"; the percent is the work done
    // (a killed or failed run counts the steps it reached).
    QString overallText() const;
    QString currentRunId() const; // the RUNNING run, "" when none
    bool pauseBetweenRuns() const;
    // Clock in ms for run durations (tests inject one); default: a monotonic clock.
    void setClock(std::function<qint64()> now_ms);

  public Q_SLOTS:
    void setProgress(const QString& run_id, int step, int total_steps, double eta_s,
                     const QString& detail = QString());
    // The run's current stage ("quantizing", "evaluating"): its step and bar stay as they are.
    void setDetail(const QString& run_id, const QString& detail);
    void setStatus(const QString& run_id, rilq::widgets::RunStatus status,
                   const QString& message = QString());
    void setPauseBetweenRuns(bool paused);

  Q_SIGNALS:
    void cancelRunRequested(const QString& run_id); // the running run
    void cancelAllRequested();                      // the running run and every scheduled one
    void pauseBetweenRunsChanged(bool paused);

  private:
    struct Run {
        QString label;
        RunStatus status = RunStatus::Scheduled;
        int step = 0;
        int total_steps = 0;
        double eta_s = -1.0;
        qint64 started_ms = -1;
        double duration_s = -1.0; // set when it reaches a final status after running
        QTreeWidgetItem* item = nullptr;
        QProgressBar* bar = nullptr;
    };
    double step_fraction(const Run& run) const;
    void refresh_row(Run& run);
    void refresh_overall();

    QMap<QString, Run> runs_;
    QStringList order_;
    std::function<qint64()> now_ms_;
    QTreeWidget* tree_ = nullptr;
    QProgressBar* overall_bar_ = nullptr;
    QLabel* overall_label_ = nullptr;
    QPushButton* cancel_button_ = nullptr;
    QPushButton* cancel_all_button_ = nullptr;
    QCheckBox* pause_box_ = nullptr;
};

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::RunStatus)
