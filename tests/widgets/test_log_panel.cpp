// LogPanel: timestamped lines with levels, filtering by level and text, the entry cap, copy to
// the clipboard, and the error signal; also appends coming from another thread.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/log_panel.h"

#include <QApplication>
#include <QClipboard>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QThread>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {
LogEntry entry_at(int second, LogLevel level, const QString& source, const QString& message) {
    return {QDateTime(QDate(2024, 5, 1), QTime(13, 2, second, 123)), level, source, message};
}
} // namespace

class TestLogPanel : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void format_of_a_line() {
        QCOMPARE(LogPanel::formatEntry(entry_at(11, LogLevel::Warning, "loader", "tokenizer.json missing")),
                 QString("2024-05-01 13:02:11.123  WARN   [loader] tokenizer.json missing"));
        QCOMPARE(
            LogPanel::formatEntry(entry_at(12, LogLevel::Error, "", "run failed:\nloss is NaN at step 40")),
            QString("2024-05-01 13:02:12.123  ERROR  run failed:\n    loss is NaN at step 40"));
    }

    void levels_filter_and_copy() {
        LogPanel panel;
        QSignalSpy errors(&panel, &LogPanel::errorLogged);
        panel.appendEntry(entry_at(1, LogLevel::Debug, "trainer", "micro-step 1"));
        panel.appendEntry(entry_at(2, LogLevel::Info, "runner", "run r16 started"));
        panel.appendEntry(
            entry_at(3, LogLevel::Warning, "loader", "no tokenizer.json, using tokenizer.model"));
        panel.appendEntry(entry_at(4, LogLevel::Error, "runner", "run r32 failed: loss is NaN"));
        QCOMPARE(errors.count(), 1);
        QCOMPARE(errors.at(0).at(0).toString(), QString("run r32 failed: loss is NaN"));
        // Default: INFO and above.
        QStringList lines = panel.plainText().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].endsWith("INFO   [runner] run r16 started"));
        panel.setMinimumLevel(LogLevel::Debug);
        QCOMPARE(panel.plainText().split('\n').size(), 4);
        panel.setMinimumLevel(LogLevel::Warning);
        QCOMPARE(panel.plainText().split('\n').size(), 2);
        panel.setMinimumLevel(LogLevel::Debug);
        panel.setFilterText("RUNNER"); // case-insensitive, on message and source
        lines = panel.plainText().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines[1].contains("loss is NaN"));
        panel.copyAll();
        QCOMPARE(QApplication::clipboard()->text(), panel.plainText());
        QCOMPARE(panel.entries().size(), 4); // filters hide, never drop
        panel.setFilterText("");
        QVERIFY(rilq::test::show_offscreen(&panel, QSize(760, 220)));
        QVERIFY(rilq::test::save_screenshot(&panel, "log_panel"));
        panel.clear();
        QVERIFY(panel.plainText().isEmpty());
        QVERIFY(panel.entries().isEmpty());
    }

    void cap_drops_the_oldest() {
        LogPanel panel;
        panel.setMaxEntries(100);
        for (int i = 0; i < 250; ++i) {
            // Some hidden (DEBUG) and some two-line entries: the shown text must stay in step.
            const LogLevel level = i % 7 == 3 ? LogLevel::Debug : LogLevel::Info;
            panel.append(level,
                         i % 5 == 0 ? QString("line %1\ndetail %1").arg(i) : QString("line %1").arg(i));
        }
        const QVector<LogEntry> kept = panel.entries();
        QCOMPARE(kept.size(), 100);
        QCOMPARE(kept.back().message, QString("line 249"));
        QCOMPARE(kept.front().message, QString("line 150\ndetail 150"));
        // The shown text equals a fresh rendering of the kept entries (INFO and above).
        QStringList expected;
        for (const LogEntry& e : kept)
            if (e.level != LogLevel::Debug) expected << LogPanel::formatEntry(e);
        QCOMPARE(panel.plainText(), expected.join('\n'));
        const QStringList lines = panel.plainText().split('\n');
        QVERIFY(lines.front().endsWith("line 151")); // 150 is DEBUG: kept but hidden
        QVERIFY(panel.plainText().contains("line 155\n    detail 155"));
        // Live timestamps: today, to the millisecond.
        QVERIFY(QRegularExpression("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  INFO ")
                    .match(lines.back())
                    .hasMatch());
    }

    void appends_from_a_worker_thread() {
        LogPanel panel;
        QThread worker;
        QObject context;
        context.moveToThread(&worker);
        worker.start();
        QMetaObject::invokeMethod(&context, [&panel] {
            for (int i = 0; i < 20; ++i)
                QMetaObject::invokeMethod(
                    &panel, "append", Qt::QueuedConnection, Q_ARG(rilq::widgets::LogLevel, LogLevel::Info),
                    Q_ARG(QString, QString("step %1").arg(i)), Q_ARG(QString, QString("trainer")));
        });
        QTRY_COMPARE(panel.entries().size(), 20);
        worker.quit();
        worker.wait();
        QCOMPARE(panel.entries().back().message, QString("step 19"));
        QCOMPARE(panel.entries().back().source, QString("trainer"));
    }
};

RILQ_TEST_MAIN(TestLogPanel)
#include "test_log_panel.moc"
