#include "widgets/pivot_preview.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSaveFile>
#include <QTableWidget>
#include <QVBoxLayout>

#include <exception>

namespace rilq::widgets {

QString pivot_format_suffix(PivotFormat format) {
    switch (format) {
    case PivotFormat::Markdown:
        return QStringLiteral("md");
    case PivotFormat::Csv:
        return QStringLiteral("csv");
    case PivotFormat::Latex:
        return QStringLiteral("tex");
    case PivotFormat::Json:
        return QStringLiteral("json");
    }
    return {};
}

bool pivot_format_for_path(const QString& path, PivotFormat* format) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "md" || suffix == "markdown")
        *format = PivotFormat::Markdown;
    else if (suffix == "csv")
        *format = PivotFormat::Csv;
    else if (suffix == "tex" || suffix == "latex")
        *format = PivotFormat::Latex;
    else if (suffix == "json")
        *format = PivotFormat::Json;
    else
        return false;
    return true;
}

PivotPreview::PivotPreview(QWidget* parent) : QWidget(parent) {
    title_ = new QLabel(this);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    view_ = new QTableWidget(this);
    view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view_->setSelectionMode(QAbstractItemView::ContiguousSelection);
    view_->verticalHeader()->setVisible(false);
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    view_->setAlternatingRowColors(true);
    footer_ = new QLabel(this);
    footer_->setWordWrap(true);
    footer_->setStyleSheet("color: #555;");
    footer_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_ = new QLabel(this);
    status_->setWordWrap(true); // errors can be long (a param list); never widen the window
    copy_button_ = new QPushButton(tr("Copy Markdown"), this);
    copy_button_->setToolTip(tr("Copy the table as Markdown (the README's layout) to the clipboard"));
    save_button_ = new QPushButton(tr("Save As…"), this);
    save_button_->setToolTip(tr("Save as Markdown, CSV, LaTeX (booktabs) or JSON"));
    copy_button_->setEnabled(false);
    save_button_->setEnabled(false);
    connect(copy_button_, &QPushButton::clicked, this, &PivotPreview::copyMarkdown);
    connect(save_button_, &QPushButton::clicked, this, &PivotPreview::saveAs);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(status_, 1);
    buttons->addWidget(copy_button_);
    buttons->addWidget(save_button_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(title_);
    layout->addWidget(view_, 1);
    layout->addWidget(footer_);
    layout->addLayout(buttons);

    chooser_ = [this](const QString& suggested, const QString& filter) {
        return QFileDialog::getSaveFileName(this, tr("Save table"), suggested, filter);
    };
}

void PivotPreview::setTable(const PivotTable& table) {
    table_ = table;
    title_->setText(table.title);
    title_->setVisible(!table.title.isEmpty());
    view_->clear();
    view_->setColumnCount(int(table.header.size()));
    view_->setRowCount(int(table.rows.size()));
    view_->setHorizontalHeaderLabels(table.header);
    for (int r = 0; r < table.rows.size(); ++r)
        for (int c = 0; c < table.rows[r].size() && c < table.header.size(); ++c) {
            auto* item = new QTableWidgetItem(table.rows[r][c]);
            // First column names the row (the swept setting); numbers align right.
            item->setTextAlignment(c == 0 ? Qt::AlignLeft | Qt::AlignVCenter
                                          : Qt::AlignRight | Qt::AlignVCenter);
            if (table.best_cells.contains(QPoint(c, r))) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            view_->setItem(r, c, item);
        }
    view_->setCurrentItem(nullptr); // no focus frame on a cell in a fresh preview
    footer_->setText(table.footer);
    footer_->setVisible(!table.footer.isEmpty());
    status_->clear();
}

void PivotPreview::setExporter(PivotExporter exporter) {
    exporter_ = std::move(exporter);
    copy_button_->setEnabled(bool(exporter_));
    save_button_->setEnabled(bool(exporter_));
}

void PivotPreview::setSavePathChooser(SavePathChooser chooser) {
    chooser_ = std::move(chooser);
}
void PivotPreview::setSuggestedFileName(const QString& base_name) {
    suggested_name_ = base_name;
}
QString PivotPreview::footerText() const {
    return footer_->text();
}
QString PivotPreview::statusText() const {
    return status_->text();
}

bool PivotPreview::render(PivotFormat format, QString* text, QString* error) const {
    if (!exporter_) {
        *error = tr("no exporter connected");
        return false;
    }
    try {
        *text = exporter_(format);
        return true;
    } catch (const std::exception& e) {
        *error = tr("export to %1 failed: %2").arg(pivot_format_suffix(format), QString::fromUtf8(e.what()));
        return false;
    }
}

void PivotPreview::report(const QString& message, bool is_error) {
    status_->setText(message);
    status_->setStyleSheet(is_error ? "color: #b00020;" : "color: #2e7d32;");
    if (is_error) Q_EMIT errorOccurred(message);
}

bool PivotPreview::copyMarkdown() {
    QString text, error;
    if (!render(PivotFormat::Markdown, &text, &error)) {
        report(error, true);
        return false;
    }
    QApplication::clipboard()->setText(text);
    report(tr("Copied %n row(s) as Markdown", nullptr, int(table_.rows.size())), false);
    Q_EMIT copied(text);
    return true;
}

bool PivotPreview::saveTo(const QString& path, QString* error) {
    QString message;
    PivotFormat format{};
    QString text;
    if (!pivot_format_for_path(path, &format)) {
        message = tr("%1: expected a .md, .csv, .tex or .json file name").arg(path);
    } else if (render(format, &text, &message)) {
        QSaveFile file(path); // atomic: a failed write never leaves half a table behind
        const QByteArray bytes = text.toUtf8();
        if (file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit()) {
            report(tr("Saved %1").arg(QDir::toNativeSeparators(path)), false);
            Q_EMIT saved(path, format);
            return true;
        }
        message = tr("%1: could not write (%2)").arg(path, file.errorString());
    }
    if (error) *error = message;
    report(message, true);
    return false;
}

void PivotPreview::saveAs() {
    const QString filter = tr("Markdown (*.md);;CSV (*.csv);;LaTeX (*.tex);;JSON (*.json)");
    const QString path = chooser_ ? chooser_(suggested_name_ + ".md", filter) : QString();
    if (path.isEmpty()) return;
    saveTo(path);
}

} // namespace rilq::widgets
