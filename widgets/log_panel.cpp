#include "widgets/log_panel.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextCursor>
#include <QVBoxLayout>

namespace rilq::widgets {

namespace {
QColor level_color(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return QColor(130, 130, 130);
    case LogLevel::Info:
        return QColor(30, 30, 30);
    case LogLevel::Warning:
        return QColor(176, 96, 0);
    case LogLevel::Error:
        return QColor(176, 0, 32);
    }
    return QColor(30, 30, 30);
}
} // namespace

QString log_level_name(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return QStringLiteral("DEBUG");
    case LogLevel::Info:
        return QStringLiteral("INFO");
    case LogLevel::Warning:
        return QStringLiteral("WARN");
    case LogLevel::Error:
        return QStringLiteral("ERROR");
    }
    return {};
}

QString LogPanel::formatEntry(const LogEntry& e) {
    QString line =
        e.time.toString("yyyy-MM-dd HH:mm:ss.zzz") + "  " + log_level_name(e.level).leftJustified(6) + ' ';
    if (!e.source.isEmpty()) line += '[' + e.source + "] ";
    QString message = e.message;
    message.replace('\n', "\n    "); // continuation lines stay visibly part of the entry
    return line + message;
}

LogPanel::LogPanel(QWidget* parent) : QWidget(parent) {
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("show"), this));
    level_box_ = new QComboBox(this);
    for (LogLevel l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error})
        level_box_->addItem(log_level_name(l) + tr(" and above"), int(l));
    level_box_->setCurrentIndex(int(min_level_));
    connect(level_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { setMinimumLevel(LogLevel(level_box_->itemData(i).toInt())); });
    bar->addWidget(level_box_);
    filter_edit_ = new QLineEdit(this);
    filter_edit_->setPlaceholderText(tr("filter…"));
    filter_edit_->setClearButtonEnabled(true);
    connect(filter_edit_, &QLineEdit::textChanged, this, &LogPanel::setFilterText);
    bar->addWidget(filter_edit_, 1);
    auto* copy = new QPushButton(tr("Copy"), this);
    copy->setToolTip(tr("Copy the visible lines as plain text"));
    connect(copy, &QPushButton::clicked, this, &LogPanel::copyAll);
    bar->addWidget(copy);
    auto* clear_button = new QPushButton(tr("Clear"), this);
    connect(clear_button, &QPushButton::clicked, this, &LogPanel::clear);
    bar->addWidget(clear_button);

    text_ = new QPlainTextEdit(this);
    text_->setReadOnly(true);
    text_->setLineWrapMode(QPlainTextEdit::NoWrap);
    text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(text_, 1);
}

void LogPanel::setMaxEntries(int max_entries) {
    max_entries_ = std::max(1, max_entries);
    if (int(entries_.size()) > max_entries_) {
        entries_.erase(entries_.begin(), entries_.begin() + (int(entries_.size()) - max_entries_));
        rebuild();
    }
}

QVector<LogEntry> LogPanel::entries() const {
    return QVector<LogEntry>(entries_.begin(), entries_.end());
}
QString LogPanel::plainText() const {
    return text_->toPlainText();
}

void LogPanel::append(LogLevel level, const QString& message, const QString& source) {
    appendEntry({QDateTime::currentDateTime(), level, source, message});
}

void LogPanel::appendEntry(const LogEntry& entry) {
    entries_.push_back(entry);
    while (int(entries_.size()) > max_entries_) {
        if (passes(entries_.front())) drop_first_lines(int(formatEntry(entries_.front()).count('\n')) + 1);
        entries_.pop_front();
    }
    if (passes(entry)) write_line(entry);
    if (entry.level == LogLevel::Error) Q_EMIT errorLogged(entry.message);
}

// Removes the oldest shown entry's lines in place: at the cap every append drops one entry, and
// redrawing 10,000 lines each time would freeze the window.
void LogPanel::drop_first_lines(int lines) {
    QTextDocument* doc = text_->document();
    QTextCursor cursor(doc->firstBlock());
    if (!cursor.movePosition(QTextCursor::NextBlock, QTextCursor::KeepAnchor, lines))
        cursor.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
    cursor.removeSelectedText();
}

bool LogPanel::passes(const LogEntry& e) const {
    if (int(e.level) < int(min_level_)) return false;
    return filter_.isEmpty() || e.message.contains(filter_, Qt::CaseInsensitive) ||
           e.source.contains(filter_, Qt::CaseInsensitive);
}

void LogPanel::write_line(const LogEntry& entry) {
    QScrollBar* scroll = text_->verticalScrollBar();
    const bool at_bottom = scroll->value() >= scroll->maximum() - 2; // follow only if already following
    QTextCursor cursor(text_->document());
    cursor.movePosition(QTextCursor::End);
    if (!text_->document()->isEmpty()) cursor.insertBlock();
    QTextCharFormat format;
    format.setForeground(level_color(entry.level));
    if (entry.level == LogLevel::Error) format.setFontWeight(QFont::Bold);
    cursor.insertText(formatEntry(entry), format);
    if (at_bottom) scroll->setValue(scroll->maximum());
}

void LogPanel::rebuild() {
    text_->clear();
    for (const LogEntry& e : entries_)
        if (passes(e)) write_line(e);
}

void LogPanel::setMinimumLevel(LogLevel level) {
    min_level_ = level;
    const QSignalBlocker block(level_box_);
    level_box_->setCurrentIndex(level_box_->findData(int(level)));
    rebuild();
}

void LogPanel::setFilterText(const QString& text) {
    filter_ = text;
    if (filter_edit_->text() != text) {
        const QSignalBlocker block(filter_edit_);
        filter_edit_->setText(text);
    }
    rebuild();
}

void LogPanel::clear() {
    entries_.clear();
    text_->clear();
}

void LogPanel::copyAll() {
    QApplication::clipboard()->setText(plainText());
}

} // namespace rilq::widgets
