// LogPanel: what happened, in order, with times: run started / finished, warnings from the
// loader, errors with their message. Read-only but selectable; "Copy" takes the visible lines as
// plain text for a bug report. Filters by minimum level and by text.
#pragma once
#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QVector>
#include <QWidget>

#include <deque>

class QComboBox;
class QLineEdit;
class QPlainTextEdit;

namespace rilq::widgets {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };
QString log_level_name(LogLevel level); // "DEBUG", "INFO", "WARN", "ERROR"

struct LogEntry {
    QDateTime time;
    LogLevel level = LogLevel::Info;
    QString source; // "trainer", "store", "loader"; may be empty
    QString message;
};

class LogPanel : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kDefaultMaxEntries = 10000;

    explicit LogPanel(QWidget* parent = nullptr);

    // "2024-05-01 13:02:11.123  WARN   [loader] message"; continuation lines indented.
    static QString formatEntry(const LogEntry& entry);

    void setMaxEntries(int max_entries); // oldest entries are dropped beyond this
    int maxEntries() const { return max_entries_; }
    QVector<LogEntry> entries() const; // all kept entries, oldest first (unfiltered)
    QString plainText() const;         // the visible lines
    LogLevel minimumLevel() const { return min_level_; }
    QString filterText() const { return filter_; }

  public Q_SLOTS:
    // Safe to call from any thread through a queued connection / QMetaObject::invokeMethod.
    void append(rilq::widgets::LogLevel level, const QString& message, const QString& source = QString());
    void appendEntry(const rilq::widgets::LogEntry& entry);
    void setMinimumLevel(rilq::widgets::LogLevel level);
    void setFilterText(const QString& text);
    void clear();
    void copyAll(); // the visible lines to the clipboard

  Q_SIGNALS:
    void errorLogged(const QString& message); // for a status bar / message box

  private:
    bool passes(const LogEntry& entry) const;
    void write_line(const LogEntry& entry);
    void rebuild();
    void drop_first_lines(int lines);

    std::deque<LogEntry> entries_;
    int max_entries_ = kDefaultMaxEntries;
    LogLevel min_level_ = LogLevel::Info;
    QString filter_;
    QPlainTextEdit* text_ = nullptr;
    QComboBox* level_box_ = nullptr;
    QLineEdit* filter_edit_ = nullptr;
};

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::LogLevel)
Q_DECLARE_METATYPE(rilq::widgets::LogEntry)
