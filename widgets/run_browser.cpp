#include "widgets/run_browser.h"

#include "core/store/run_types.h" // diff_params: the one param diff

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <exception>

namespace rilq::widgets {

namespace {

constexpr int kUuidRole = Qt::UserRole + 1;
constexpr int kSearchRole = Qt::UserRole + 2; // lower-case text the text filter looks in
constexpr int kSortRole = Qt::UserRole + 3;   // numbers for numeric columns, else text
constexpr int kMaxParamColumns = 12;          // beyond this the table stops being readable

// Experiment, status and free-text filters over the fixed columns; sorting uses the items'
// kSortRole, which holds numbers for numeric columns so "16" sorts after "4".
class RunFilterProxy : public QSortFilterProxyModel {
  public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QString experiment, status, text;
    void refilter() { invalidateFilter(); }

  protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override {
        const auto cell = [&](int column, int role) {
            return sourceModel()->index(row, column, parent).data(role).toString();
        };
        if (!experiment.isEmpty() && cell(RunBrowser::ExperimentColumn, Qt::DisplayRole) != experiment)
            return false;
        if (!status.isEmpty() && cell(RunBrowser::StatusColumn, Qt::DisplayRole) != status) return false;
        return text.isEmpty() || cell(RunBrowser::NameColumn, kSearchRole).contains(text.toLower());
    }
};

QStandardItem* number_item(double value, const QString& shown) {
    auto* item = new QStandardItem(shown);
    item->setData(value, kSortRole);
    return item;
}

QStandardItem* value_item(const QString& value) {
    bool numeric = false;
    const double x = value.toDouble(&numeric);
    auto* item = new QStandardItem(value);
    item->setData(numeric ? QVariant(x) : QVariant(value), kSortRole); // "16" sorts after "4"
    return item;
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
    filters->addWidget(new QLabel(tr("Experiment")));
    filters->addWidget(experiment_box_);
    filters->addWidget(status_box_);
    filters->addWidget(text_edit_, 1);
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
    table_->sortByColumn(StartedColumn, Qt::DescendingOrder);

    auto* actions = new QHBoxLayout;
    open_button_ = new QPushButton(tr("Open"));
    compare_button_ = new QPushButton(tr("Compare"));
    delete_button_ = new QPushButton(tr("Delete…"));
    actions->addWidget(open_button_);
    actions->addWidget(compare_button_);
    actions->addStretch(1);
    actions->addWidget(delete_button_);

    auto* diff_box = new QWidget;
    auto* diff_layout = new QVBoxLayout(diff_box);
    diff_layout->setContentsMargins(0, 0, 0, 0);
    auto* diff_head = new QHBoxLayout;
    diff_title_ = new QLabel(tr("Select two runs to compare their params."));
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
    });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        Q_EMIT openRequested(index.siblingAtColumn(NameColumn).data(kUuidRole).toString());
    });
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
    rebuild_model();
    selectRuns(selected);
}

void RunBrowser::rebuild_model() {
    // Params worth a column: those whose value differs between the listed runs (what a sweep
    // varied); identical params would only repeat themselves down the table.
    QMap<QString, QSet<QString>> values;
    QSet<QString> metric_set;
    for (const BrowserRun& run : runs_) {
        for (auto it = run.params.begin(); it != run.params.end(); ++it)
            values[it.key()].insert(it.value());
        for (auto it = run.best.begin(); it != run.best.end(); ++it)
            metric_set.insert(it.key());
    }
    QStringList param_keys;
    for (auto it = values.begin(); it != values.end(); ++it) {
        bool everywhere = true;
        for (const BrowserRun& run : runs_)
            everywhere = everywhere && run.params.contains(it.key());
        if (it.value().size() > 1 || !everywhere) param_keys << it.key();
    }
    if (param_keys.size() > kMaxParamColumns) param_keys = param_keys.mid(0, kMaxParamColumns);
    QStringList metric_keys = metric_set.values();
    metric_keys.sort();

    model_->clear();
    QStringList headers = {tr("Run"), tr("Experiment"), tr("Status"), tr("Started"), tr("Duration")};
    headers << param_keys;
    for (const QString& key : metric_keys)
        headers << tr("best %1").arg(key);
    model_->setHorizontalHeaderLabels(headers);

    for (const BrowserRun& run : runs_) {
        QList<QStandardItem*> row;
        auto* name = new QStandardItem(run.name.isEmpty() ? run.uuid.left(8) : run.name);
        name->setData(run.uuid, kUuidRole);
        QString search = run.name + QLatin1Char(' ') + run.uuid + QLatin1Char(' ') + run.message;
        for (const QString& v : run.params)
            search += QLatin1Char(' ') + v;
        name->setData(search.toLower(), kSearchRole);
        name->setToolTip(run.uuid);
        row << name << new QStandardItem(run.experiment);
        auto* status = new QStandardItem(run_status_name(run.status));
        status->setToolTip(run.message);
        row << status;
        row << number_item(run.started.isValid() ? double(run.started.toMSecsSinceEpoch()) : 0.0,
                           run.started.isValid() ? run.started.toString(QStringLiteral("yyyy-MM-dd hh:mm"))
                                                 : "-");
        row << number_item(run.duration_s, format_duration(run.duration_s));
        for (const QString& key : param_keys)
            row << value_item(run.params.value(key));
        for (const QString& key : metric_keys)
            row << (run.best.contains(key)
                        ? number_item(run.best.value(key), QString::number(run.best.value(key), 'g', 5))
                        : new QStandardItem);
        for (QStandardItem* item : row)
            if (!item->data(kSortRole).isValid()) item->setData(item->text(), kSortRole);
        model_->appendRow(row);
    }
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
        ids << proxy_->index(r, NameColumn).data(kUuidRole).toString();
    return ids;
}

QStringList RunBrowser::selectedRunIds() const {
    QStringList ids;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows(NameColumn))
        ids << index.data(kUuidRole).toString();
    return ids;
}

QStringList RunBrowser::columnTitles() const {
    QStringList titles;
    for (int c = 0; c < model_->columnCount(); ++c)
        titles << model_->headerData(c, Qt::Horizontal).toString();
    return titles;
}

void RunBrowser::selectRuns(const QStringList& uuids) {
    QItemSelection selection;
    for (int r = 0; r < proxy_->rowCount(); ++r) {
        const QModelIndex index = proxy_->index(r, NameColumn);
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
        diff_title_->setText(tr("Select two runs to compare their params."));
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
}

void RunBrowser::update_buttons() {
    const int n = int(selectedRunIds().size());
    open_button_->setEnabled(n >= 1);
    compare_button_->setEnabled(n >= 1);
    delete_button_->setEnabled(n >= 1 && bool(source_.remove));
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
