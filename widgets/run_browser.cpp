#include "widgets/run_browser.h"

#include "core/store/run_types.h" // diff_params: the one param diff

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <exception>

namespace rilq::widgets {

namespace {

constexpr int kUuidRole = Qt::UserRole + 1;
constexpr int kSearchRole = Qt::UserRole + 2;     // lower-case text the text filter looks in
constexpr int kSortRole = Qt::UserRole + 3;       // numbers for numeric columns, else text
constexpr int kExperimentRole = Qt::UserRole + 4; // on the name item: what the experiment filter tests
constexpr int kStatusRole = Qt::UserRole + 5;     // on the name item: the status name

// Experiment, status and free-text filters, read from the name item (column 0 is always the run);
// sorting uses the items' kSortRole, which holds numbers for numeric columns so "16" sorts after "4".
class RunFilterProxy : public QSortFilterProxyModel {
  public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QString experiment, status, text;
    void refilter() { invalidateFilter(); }

  protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override {
        const QModelIndex name = sourceModel()->index(row, 0, parent);
        if (!experiment.isEmpty() && name.data(kExperimentRole).toString() != experiment) return false;
        if (!status.isEmpty() && name.data(kStatusRole).toString() != status) return false;
        return text.isEmpty() || name.data(kSearchRole).toString().contains(text.toLower());
    }
};

int column_index(const QVector<RunColumn>& columns, const QString& title) {
    for (int c = 0; c < columns.size(); ++c)
        if (columns[c].title == title) return c;
    return -1;
}

} // namespace

RunBrowser::RunBrowser(QWidget* parent) : QWidget(parent) {
    auto* filters = new QHBoxLayout;
    experiment_box_ = new QComboBox;
    experiment_box_->setMinimumContentsLength(18);
    status_box_ = new QComboBox;
    status_box_->addItem(tr("all statuses"), QString());
    for (auto s : {RunStatus::Scheduled, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                   RunStatus::Killed, RunStatus::Interrupted})
        status_box_->addItem(run_status_name(s), run_status_name(s));
    text_edit_ = new QLineEdit;
    text_edit_->setPlaceholderText(tr("Filter: name, uuid, param value…"));
    text_edit_->setClearButtonEnabled(true);
    auto* refresh_button = new QPushButton(tr("Refresh"));
    column_menu_ = new QMenu(this);
    columns_button_ = new QToolButton;
    columns_button_->setText(tr("Columns"));
    columns_button_->setToolTip(tr("Choose the shown columns (also: right-click the table's header)"));
    columns_button_->setMenu(column_menu_);
    columns_button_->setPopupMode(QToolButton::InstantPopup);
    filters->addWidget(new QLabel(tr("Experiment")));
    filters->addWidget(experiment_box_);
    filters->addWidget(status_box_);
    filters->addWidget(text_edit_, 1);
    filters->addWidget(columns_button_);
    filters->addWidget(refresh_button);

    model_ = new QStandardItemModel(this);
    auto* proxy = new RunFilterProxy(this);
    proxy->setSourceModel(model_);
    proxy->setSortRole(kSortRole);
    proxy_ = proxy;
    table_ = new QTableView;
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAlternatingRowColors(true);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);

    auto* actions = new QHBoxLayout;
    open_button_ = new QPushButton(tr("Open"));
    compare_button_ = new QPushButton(tr("Compare"));
    delete_button_ = new QPushButton(tr("Delete…"));
    reference_button_ = new QPushButton(tr("Set as reference"));
    reference_button_->setToolTip(
        tr("Result cells of every run then show their difference to this run (select no run to clear)"));
    actions->addWidget(open_button_);
    actions->addWidget(compare_button_);
    actions->addWidget(reference_button_);
    actions->addStretch(1);
    actions->addWidget(delete_button_);

    auto* diff_box = new QWidget;
    auto* diff_layout = new QVBoxLayout(diff_box);
    diff_layout->setContentsMargins(0, 0, 0, 0);
    auto* diff_head = new QHBoxLayout;
    diff_title_ = new QLabel(tr("Select two runs to compare their params and results."));
    diff_only_box_ = new QCheckBox(tr("Diff only"));
    diff_only_box_->setChecked(true);
    diff_head->addWidget(diff_title_, 1);
    diff_head->addWidget(diff_only_box_);
    diff_ = new QTableWidget(0, 3);
    diff_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    diff_->verticalHeader()->setVisible(false);
    diff_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    diff_layout->addLayout(diff_head);
    diff_layout->addWidget(diff_);

    auto* top = new QWidget;
    auto* top_layout = new QVBoxLayout(top);
    top_layout->setContentsMargins(0, 0, 0, 0);
    top_layout->addLayout(filters);
    top_layout->addWidget(table_, 1);
    top_layout->addLayout(actions);
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(top);
    splitter->addWidget(diff_box);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(refresh_button, &QPushButton::clicked, this, &RunBrowser::refresh);
    connect(experiment_box_, &QComboBox::currentIndexChanged, this,
            [this] { setExperimentFilter(experiment_box_->currentData().toString()); });
    connect(status_box_, &QComboBox::currentIndexChanged, this,
            [this] { setStatusFilter(status_box_->currentData().toString()); });
    connect(text_edit_, &QLineEdit::textChanged, this, &RunBrowser::setTextFilter);
    connect(diff_only_box_, &QCheckBox::toggled, this, [this] { refresh_diff(); });
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        refresh_diff();
        update_buttons();
        if (!quiet_selection_) Q_EMIT runSelectionChanged(selectedRunIds());
    });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        Q_EMIT openRequested(index.siblingAtColumn(0).data(kUuidRole).toString());
    });
    connect(table_->horizontalHeader(), &QWidget::customContextMenuRequested, this,
            [this](const QPoint& pos) { column_menu_->popup(table_->horizontalHeader()->mapToGlobal(pos)); });
    connect(reference_button_, &QPushButton::clicked, this,
            [this] { setReferenceRun(selectedRunIds().value(0)); });
    connect(open_button_, &QPushButton::clicked, this, [this] {
        const QStringList ids = selectedRunIds();
        if (!ids.isEmpty()) Q_EMIT openRequested(ids.front());
    });
    connect(compare_button_, &QPushButton::clicked, this, [this] {
        const QStringList ids = selectedRunIds();
        if (!ids.isEmpty()) Q_EMIT compareRequested(ids);
    });
    connect(delete_button_, &QPushButton::clicked, this, &RunBrowser::deleteSelected);
    confirmer_ = [this](const QString& question) {
        return QMessageBox::question(this, tr("Delete runs"), question) == QMessageBox::Yes;
    };
    update_buttons();
}

void RunBrowser::setSource(RunBrowserSource source) {
    source_ = std::move(source);
    refresh();
}

void RunBrowser::setConfirmer(std::function<bool(const QString&)> confirmer) {
    confirmer_ = std::move(confirmer);
}

void RunBrowser::refresh() {
    const QStringList selected = selectedRunIds();
    if (source_.list) {
        try {
            runs_ = source_.list();
        } catch (const std::exception& e) {
            runs_.clear();
            Q_EMIT errorOccurred(tr("Listing runs failed: %1").arg(QString::fromUtf8(e.what())));
        }
    }
    rebuild_keeping_selection(selected);
}

// A rebuilt model loses the selection: put it back without telling the views that follow it
// (nothing the user chose changed).
void RunBrowser::rebuild_keeping_selection(const QStringList& selected) {
    quiet_selection_ = true;
    rebuild_model();
    selectRuns(selected);
    quiet_selection_ = false;
}

void RunBrowser::rebuild_model() {
    if (!find(reference_)) reference_.clear(); // a deleted reference run
    const BrowserRun* reference = find(reference_);
    const QString sorted_by = columns_.value(table_->horizontalHeader()->sortIndicatorSection()).title;
    const Qt::SortOrder order = table_->horizontalHeader()->sortIndicatorOrder();
    columns_ = run_columns(runs_);

    model_->clear();
    QStringList headers; // "PPL TinyStories · compensated" on two lines: narrow result columns
    for (const RunColumn& column : columns_)
        headers << QString(column.title).replace(QStringLiteral(" · "), QStringLiteral("\n"));
    model_->setHorizontalHeaderLabels(headers);
    for (const BrowserRun& run : runs_) {
        QList<QStandardItem*> row;
        for (const RunColumn& column : columns_) {
            auto* item = new QStandardItem(run_column_text(run, column));
            const std::optional<double> number = run_column_number(run, column);
            item->setData(number ? QVariant(*number) : QVariant(item->text()), kSortRole);
            if (number && column.kind != RunColumnKind::Started)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter); // digits line up
            if (reference && number && run_column_has_delta(column.kind)) {
                if (const auto base = run_column_number(*reference, column); base && &run != reference)
                    item->setText(QStringLiteral("%1 (%2)").arg(
                        item->text(), run_column_delta_text(column, *number, *base)));
            }
            row << item;
        }
        QStandardItem* name = row.front();
        name->setData(run.uuid, kUuidRole);
        name->setData(run.experiment, kExperimentRole);
        name->setData(run_status_name(run.status), kStatusRole);
        QString search = run.name + QLatin1Char(' ') + run.uuid + QLatin1Char(' ') + run.message;
        for (const QString& v : run.params)
            search += QLatin1Char(' ') + v;
        name->setData(search.toLower(), kSearchRole);
        name->setToolTip(&run == reference ? tr("%1 (the reference run)").arg(run.uuid) : run.uuid);
        if (&run == reference) {
            QFont bold = name->font();
            bold.setBold(true);
            name->setFont(bold);
            name->setText(tr("%1 (reference)").arg(name->text()));
        }
        row[column_index(columns_, QStringLiteral("Status"))]->setToolTip(run.message);
        model_->appendRow(row);
    }
    apply_column_visibility();
    fill_column_menu();
    const int sort_column =
        column_index(columns_, sorted_by.isEmpty() ? QStringLiteral("Started") : sorted_by);
    table_->sortByColumn(std::max(0, sort_column),
                         sorted_by.isEmpty() || sort_column < 0 ? Qt::DescendingOrder : order);
    table_->resizeColumnsToContents();

    // The experiment filter offers what is listed (keeping the current choice).
    const QString current = experiment_box_->currentData().toString();
    QStringList experiments;
    for (const BrowserRun& run : runs_)
        if (!experiments.contains(run.experiment)) experiments << run.experiment;
    experiments.sort();
    const QSignalBlocker block(experiment_box_);
    experiment_box_->clear();
    experiment_box_->addItem(tr("all"), QString());
    for (const QString& e : experiments)
        experiment_box_->addItem(e, e);
    experiment_box_->setCurrentIndex(std::max(0, experiment_box_->findData(current)));
    refresh_diff();
    update_buttons();
}

void RunBrowser::setExperimentFilter(const QString& experiment) {
    auto* proxy = static_cast<RunFilterProxy*>(proxy_);
    proxy->experiment = experiment;
    proxy->refilter();
    const QSignalBlocker block(experiment_box_);
    const int index = experiment_box_->findData(experiment);
    if (index >= 0) experiment_box_->setCurrentIndex(index);
}

void RunBrowser::setStatusFilter(const QString& status) {
    auto* proxy = static_cast<RunFilterProxy*>(proxy_);
    proxy->status = status.toUpper();
    proxy->refilter();
    const QSignalBlocker block(status_box_);
    status_box_->setCurrentIndex(std::max(0, status_box_->findData(status.toUpper())));
}

void RunBrowser::setTextFilter(const QString& text) {
    auto* proxy = static_cast<RunFilterProxy*>(proxy_);
    proxy->text = text.trimmed();
    proxy->refilter();
    if (text_edit_->text() != text) text_edit_->setText(text);
}

QStringList RunBrowser::visibleRunIds() const {
    QStringList ids;
    for (int r = 0; r < proxy_->rowCount(); ++r)
        ids << proxy_->index(r, 0).data(kUuidRole).toString();
    return ids;
}

QStringList RunBrowser::selectedRunIds() const {
    QStringList ids;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows(0))
        ids << index.data(kUuidRole).toString();
    return ids;
}

QStringList RunBrowser::columnTitles() const {
    QStringList titles;
    for (const RunColumn& column : columns_)
        titles << column.title;
    return titles;
}

QStringList RunBrowser::shownColumnTitles() const {
    QStringList titles;
    for (int c = 0; c < columns_.size(); ++c)
        if (!table_->isColumnHidden(c)) titles << columns_[c].title;
    return titles;
}

QString RunBrowser::cellText(const QString& uuid, const QString& column_title) const {
    const int column = column_index(columns_, column_title);
    for (int r = 0; r < model_->rowCount() && column >= 0; ++r)
        if (model_->item(r, 0)->data(kUuidRole).toString() == uuid) return model_->item(r, column)->text();
    return {};
}

void RunBrowser::setColumnShown(const QString& title, bool shown) {
    if (title == columns_.value(0).title) shown = true; // the run's name identifies the row
    column_choices_.insert(title, shown);
    apply_column_visibility();
    fill_column_menu();
    Q_EMIT columnChoicesChanged(column_choices_);
}

void RunBrowser::setColumnChoices(const QMap<QString, bool>& choices) {
    column_choices_ = choices;
    apply_column_visibility();
    fill_column_menu();
}

void RunBrowser::apply_column_visibility() {
    for (int c = 0; c < columns_.size(); ++c)
        table_->setColumnHidden(
            c, c > 0 && !column_choices_.value(columns_[c].title, columns_[c].shown_by_default));
}

// One checkable entry per column, in table order; the name column cannot be hidden.
void RunBrowser::fill_column_menu() {
    column_menu_->clear();
    for (int c = 0; c < columns_.size(); ++c) {
        const QString title = columns_[c].title;
        QAction* action = column_menu_->addAction(title);
        action->setCheckable(true);
        action->setChecked(!table_->isColumnHidden(c));
        action->setEnabled(c > 0);
        connect(action, &QAction::toggled, this, [this, title](bool on) { setColumnShown(title, on); });
    }
}

void RunBrowser::setReferenceRun(const QString& uuid) {
    reference_ = find(uuid) ? uuid : QString();
    rebuild_keeping_selection(selectedRunIds());
}

void RunBrowser::selectRuns(const QStringList& uuids) {
    QItemSelection selection;
    for (int r = 0; r < proxy_->rowCount(); ++r) {
        const QModelIndex index = proxy_->index(r, 0);
        if (uuids.contains(index.data(kUuidRole).toString())) selection.select(index, index);
    }
    table_->selectionModel()->select(selection,
                                     QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunBrowser::sortByColumn(const QString& title, Qt::SortOrder order) {
    const int column = columnTitles().indexOf(title);
    if (column >= 0) table_->sortByColumn(column, order);
}

const BrowserRun* RunBrowser::find(const QString& uuid) const {
    for (const BrowserRun& run : runs_)
        if (run.uuid == uuid) return &run;
    return nullptr;
}

bool RunBrowser::diffOnly() const {
    return diff_only_box_->isChecked();
}

void RunBrowser::setDiffOnly(bool diff_only) {
    diff_only_box_->setChecked(diff_only);
}

QVector<QStringList> RunBrowser::diffRows() const {
    QVector<QStringList> rows;
    for (int r = 0; r < diff_->rowCount(); ++r)
        rows.push_back({diff_->item(r, 0)->text(), diff_->item(r, 1)->text(), diff_->item(r, 2)->text()});
    return rows;
}

void RunBrowser::refresh_diff() {
    diff_->setRowCount(0);
    const QStringList ids = selectedRunIds();
    const BrowserRun* a = ids.size() == 2 ? find(ids[0]) : nullptr;
    const BrowserRun* b = ids.size() == 2 ? find(ids[1]) : nullptr;
    if (!a || !b) {
        diff_title_->setText(tr("Select two runs to compare their params and results."));
        diff_->setHorizontalHeaderLabels({tr("param"), QStringLiteral("A"), QStringLiteral("B")});
        return;
    }
    diff_title_->setText(tr("A = %1   B = %2").arg(a->name, b->name));
    diff_->setHorizontalHeaderLabels({tr("param"), a->name, b->name});
    const auto to_std = [](const QMap<QString, QString>& params) {
        std::map<std::string, std::string> out;
        for (auto it = params.begin(); it != params.end(); ++it)
            out.emplace(it.key().toStdString(), it.value().toStdString());
        return out;
    };
    const auto shown = [](const std::optional<std::string>& v) {
        return v ? QString::fromStdString(*v) : QStringLiteral("(absent)");
    };
    for (const store::ParamDiff& d : store::diff_params(to_std(a->params), to_std(b->params), !diffOnly())) {
        const int r = diff_->rowCount();
        diff_->insertRow(r);
        diff_->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(d.key)));
        diff_->setItem(r, 1, new QTableWidgetItem(shown(d.a)));
        diff_->setItem(r, 2, new QTableWidgetItem(shown(d.b)));
        if (d.differs())
            for (int c = 0; c < 3; ++c)
                diff_->item(r, c)->setBackground(QColor(255, 243, 205)); // differing rows stand out
    }
    // Results below the params, B with its difference to A: what the param change bought.
    for (const RunColumn& column : columns_) {
        if (!run_column_has_delta(column.kind)) continue;
        const auto va = run_column_number(*a, column), vb = run_column_number(*b, column);
        if (!va && !vb) continue;
        QString b_text = vb ? run_column_text(*b, column) : tr("(absent)");
        if (va && vb) b_text += QStringLiteral(" (%1)").arg(run_column_delta_text(column, *vb, *va));
        const int r = diff_->rowCount();
        diff_->insertRow(r);
        diff_->setItem(r, 0, new QTableWidgetItem(column.title));
        diff_->setItem(r, 1, new QTableWidgetItem(va ? run_column_text(*a, column) : tr("(absent)")));
        diff_->setItem(r, 2, new QTableWidgetItem(b_text));
        for (int c = 0; c < 3; ++c)
            diff_->item(r, c)->setBackground(QColor(221, 235, 247)); // results, apart from the params
    }
}

void RunBrowser::update_buttons() {
    const int n = int(selectedRunIds().size());
    open_button_->setEnabled(n >= 1);
    compare_button_->setEnabled(n >= 1);
    delete_button_->setEnabled(n >= 1 && bool(source_.remove));
    // One run selected: make it the reference; none selected while one is set: clear it.
    reference_button_->setEnabled(n == 1 || (n == 0 && !reference_.isEmpty()));
    reference_button_->setText(n == 0 && !reference_.isEmpty() ? tr("Clear reference")
                                                               : tr("Set as reference"));
}

bool RunBrowser::deleteSelected() {
    const QStringList ids = selectedRunIds();
    if (ids.isEmpty() || !source_.remove) return false;
    QStringList names;
    for (const QString& id : ids)
        if (const BrowserRun* run = find(id)) names << run->name;
    const QString question =
        tr("Delete %n run(s) with their metrics, params and layer stats?\n%1", nullptr, int(ids.size()))
            .arg(names.join(QStringLiteral(", ")));
    if (!confirmer_ || !confirmer_(question)) return false;
    QStringList deleted;
    bool ok = true;
    for (const QString& id : ids) {
        try {
            source_.remove(id);
            deleted << id;
        } catch (const std::exception& e) {
            ok = false;
            Q_EMIT errorOccurred(tr("Deleting run %1 failed: %2").arg(id, QString::fromUtf8(e.what())));
        }
    }
    refresh();
    if (!deleted.isEmpty()) Q_EMIT runsDeleted(deleted);
    return ok;
}

} // namespace rilq::widgets
