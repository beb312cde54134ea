#include "app/gui/export_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>

namespace rilq::gui {

ExportPanel::ExportPanel(QWidget* parent) : QWidget(parent) {
    experiment_box_ = new QComboBox;
    experiment_box_->setMinimumContentsLength(20);
    rows_edit_ = new QLineEdit(QStringLiteral("lora_r"));
    cols_edit_ = new QLineEdit(QStringLiteral("dataset"));
    cols_edit_->setToolTip(tr("\"dataset\" or a param whose values become the columns (e.g. rilq.scope)"));
    stage_box_ = new QComboBox;
    QStringList stages = export_stages(); // latest stage first: what the run produced
    std::reverse(stages.begin(), stages.end());
    stage_box_->addItems(stages);
    stage_box_->setCurrentText(ExportChoice{}.stage);
    metric_box_ = new QComboBox;
    metric_box_->setEditable(true); // a logged metric such as v_loss (its minimum) is typed in
    metric_box_->setInsertPolicy(QComboBox::NoInsert);
    metric_box_->setMinimumContentsLength(12);
    for (const auto& [name, help] : export_metric_choices()) {
        metric_box_->addItem(name);
        metric_box_->setItemData(metric_box_->count() - 1, help, Qt::ToolTipRole);
    }
    metric_box_->setCurrentText(ExportChoice{}.metric);
    metric_box_->setToolTip(tr("A listed metric, or a logged metric such as v_loss (its minimum)"));
    best_box_ = new QCheckBox(tr("Mark best"));
    auto* update_button = new QPushButton(tr("Update"));
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Experiment")));
    controls->addWidget(experiment_box_, 1);
    controls->addWidget(new QLabel(tr("Rows")));
    controls->addWidget(rows_edit_);
    controls->addWidget(new QLabel(tr("Columns")));
    controls->addWidget(cols_edit_);
    controls->addWidget(new QLabel(tr("Stage")));
    controls->addWidget(stage_box_);
    controls->addWidget(new QLabel(tr("Metric")));
    controls->addWidget(metric_box_);
    controls->addWidget(best_box_);
    controls->addWidget(update_button);
    status_box_ = new QComboBox;
    status_box_->addItem(tr("FINISHED runs"), false);
    status_box_->addItem(tr("all runs (also KILLED, FAILED, …)"), true);
    status_box_->setToolTip(tr("Which runs the table counts (rilq export --include-unfinished)"));
    where_edit_ = new QLineEdit;
    where_edit_->setPlaceholderText(tr("key=value, key=value"));
    where_edit_->setToolTip(tr("Keep only runs whose param has this value, e.g. rilq.scope=model "
                               "(rilq export --where)"));
    auto* default_button = new QPushButton(tr("Default layout"));
    default_button->setToolTip(tr("Rows and columns from the params this experiment sweeps"));
    auto* filters = new QHBoxLayout;
    filters->addWidget(new QLabel(tr("Runs")));
    filters->addWidget(status_box_);
    filters->addWidget(new QLabel(tr("Where")));
    filters->addWidget(where_edit_, 1);
    filters->addWidget(default_button);
    message_ = new QLabel;
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->hide();
    preview_ = new widgets::PivotPreview;
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(filters);
    layout->addWidget(message_);
    layout->addWidget(preview_, 1);

    connect(update_button, &QPushButton::clicked, this, &ExportPanel::update);
    connect(experiment_box_, &QComboBox::currentTextChanged, this, &ExportPanel::use_default_layout);
    connect(stage_box_, &QComboBox::currentTextChanged, this, &ExportPanel::update);
    connect(best_box_, &QCheckBox::toggled, this, &ExportPanel::update);
    connect(rows_edit_, &QLineEdit::editingFinished, this, &ExportPanel::update);
    connect(cols_edit_, &QLineEdit::editingFinished, this, &ExportPanel::update);
    // Typed rows / columns are the user's: no later experiment replaces them.
    connect(rows_edit_, &QLineEdit::textEdited, this, [this] { user_layout_ = true; });
    connect(cols_edit_, &QLineEdit::textEdited, this, [this] { user_layout_ = true; });
    connect(where_edit_, &QLineEdit::editingFinished, this, &ExportPanel::update);
    connect(status_box_, &QComboBox::currentIndexChanged, this, &ExportPanel::use_default_layout);
    connect(default_button, &QPushButton::clicked, this, &ExportPanel::useDefaultLayout);
    // A picked item updates at once; typed text when it is finished (not at every keystroke).
    connect(metric_box_, &QComboBox::activated, this, &ExportPanel::update);
    connect(metric_box_->lineEdit(), &QLineEdit::editingFinished, this, &ExportPanel::update);
    connect(preview_, &widgets::PivotPreview::errorOccurred, this, &ExportPanel::errorOccurred);
}

void ExportPanel::setStorePath(const QString& path) {
    store_path_ = path;
}

ExportChoice ExportPanel::choice() const {
    ExportChoice c;
    c.experiment = experiment_box_->currentText();
    c.rows = rows_edit_->text().trimmed();
    c.cols = cols_edit_->text().trimmed();
    c.stage = stage_box_->currentText();
    c.metric = metric_box_->currentText().trimmed();
    c.mark_best = best_box_->isChecked();
    c.include_unfinished = status_box_->currentData().toBool();
    c.where = where_edit_->text().trimmed();
    return c;
}

QString ExportPanel::messageText() const {
    return message_->isHidden() ? QString() : message_->text();
}

void ExportPanel::show_message(const QString& text, bool is_error) {
    message_is_error_ = is_error && !text.isEmpty();
    message_->setText(text);
    message_->setStyleSheet(message_is_error_ ? QStringLiteral("color: #b00020;") : QString());
    message_->setVisible(!text.isEmpty());
}

void ExportPanel::setRowsAndColumns(const QString& rows, const QString& cols) {
    user_layout_ = true;
    rows_edit_->setText(rows);
    cols_edit_->setText(cols);
    update();
}

void ExportPanel::setIncludeUnfinished(bool include) {
    status_box_->setCurrentIndex(include ? 1 : 0); // re-lays out and updates
}

void ExportPanel::setWhere(const QString& where) {
    where_edit_->setText(where);
    update();
}

void ExportPanel::useDefaultLayout() {
    user_layout_ = false;
    use_default_layout();
}

void ExportPanel::setExperiments(const QStringList& names, const QString& current) {
    const QString keep = current.isEmpty() ? experiment_box_->currentText() : current;
    {
        const QSignalBlocker block(experiment_box_);
        experiment_box_->clear();
        experiment_box_->addItems(names);
        if (names.contains(keep)) experiment_box_->setCurrentText(keep);
    }
    use_default_layout();
}

void ExportPanel::setExperiment(const QString& name) {
    experiment_box_->setCurrentText(name);
}

void ExportPanel::use_default_layout() {
    const QString experiment = experiment_box_->currentText();
    layout_note_.clear();
    if (!experiment.isEmpty() && !store_path_.isEmpty() && !user_layout_) {
        try {
            const ExportChoice c =
                default_export_choice(store_path_, experiment, status_box_->currentData().toBool());
            if (c.rows != rows_edit_->text() || c.cols != cols_edit_->text())
                layout_note_ = tr("Rows %1, columns %2: what %3 sweeps (type your own, or Default layout "
                                  "to come back).")
                                   .arg(c.rows, c.cols, experiment);
            rows_edit_->setText(c.rows);
            cols_edit_->setText(c.cols);
        } catch (const std::exception& e) {
            layout_note_ = tr("Export of %1: %2").arg(experiment, QString::fromUtf8(e.what()));
        }
    }
    update();
}

void ExportPanel::update() {
    const ExportChoice c = choice();
    if (c.experiment.isEmpty() || store_path_.isEmpty()) {
        preview_->setTable({});
        preview_->setExporter({});
        show_message(store_path_.isEmpty() ? QString()
                                           : tr("No experiment in the run store yet: run one from Setup."),
                     false);
        return;
    }
    try {
        preview_->setTable(export_preview(store_path_, c));
        const QString path = store_path_;
        preview_->setExporter(
            [path, c](widgets::PivotFormat format) { return export_text(path, c, format); });
        preview_->setSuggestedFileName(c.experiment + QStringLiteral("-") + c.rows);
        show_message(layout_note_, false);
    } catch (const std::exception& e) {
        preview_->setTable({});
        preview_->setExporter({});
        const QString message = tr("Export of %1: %2").arg(c.experiment, QString::fromUtf8(e.what()));
        show_message(message, true);
        Q_EMIT errorOccurred(message);
    }
}

} // namespace rilq::gui
