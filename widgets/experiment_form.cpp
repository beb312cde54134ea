// The form's document: loading and saving it, writing edits into it, revalidating it with core
// and marking the fields its issues point at. Its rows are built in experiment_form_build.cpp.
#include "widgets/experiment_form.h"

#include "core/demo/demo_cache.h"
#include "core/run/config_schema.h"     // FieldInfo: the rows' docs
#include "core/run/experiment_config.h" // validate_experiment: the same checks `rilq run` makes
#include "core/util/json_key_order.h"   // saving in the file's key order
#include "core/util/json_read.h"
#include "widgets/field_editor.h"

#include <nlohmann/json.hpp>

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QSaveFile>
#include <QScrollArea>
#include <QStyle>

#include <algorithm>

namespace rilq::widgets {

using json = nlohmann::json;

const QVector<int>& ExperimentForm::rankChoices() {
    static const QVector<int> ranks = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256};
    return ranks;
}

ExperimentForm::ExperimentForm(QWidget* parent)
    : QWidget(parent), document_(std::make_unique<json>(json::object())),
      file_order_(std::make_unique<nlohmann::ordered_json>()) {
    // Red frame on whatever field has an issue; set through a dynamic property so every widget
    // type (spin box, combo, list) is marked the same way.
    setStyleSheet(QStringLiteral("*[rilqInvalid=\"true\"] { border: 1px solid #d62728; background: #fdecea; }"
                                 "QLabel[rilqInvalid=\"true\"] { border: none; background: transparent; "
                                 "color: #d62728; }"));
    build();
    load_fields();
    revalidate();
}

ExperimentForm::~ExperimentForm() = default;

// An unfocused combo or spin box passes the wheel to the form's scroll area (build()).
bool ExperimentForm::eventFilter(QObject* watched, QEvent* event) {
    const auto* widget = qobject_cast<QWidget*>(watched);
    if (event->type() == QEvent::Wheel && widget && !widget->hasFocus()) {
        QCoreApplication::sendEvent(scroll_->viewport(), event);
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

// ---- document <-> fields ------------------------------------------------------------------

void ExperimentForm::setDocument(const json& document) {
    *document_ = document.is_object() ? document : json::object();
    *file_order_ = nlohmann::ordered_json(); // a document from code has no file layout to keep
    load_fields();
    revalidate();
}

const json& ExperimentForm::document() const {
    return *document_;
}

QString ExperimentForm::documentText() const {
    return qt_text(in_original_key_order(*file_order_, *document_).dump(2)) + QLatin1Char('\n');
}

void ExperimentForm::load_fields() {
    loading_ = true; // the widgets' change signals must not write back what is being shown
    refresh_dataset_choices();
    for (const auto& b : bindings_) {
        const json* v = find_json(*document_, b->key);
        // A list where the field takes a value (a list of lists for a list-valued one) is a sweep:
        // only the JSON can edit it.
        const bool swept =
            b->scalar && v && v->is_array() &&
            (!b->field->list_valued ||
             (!v->empty() && std::all_of(v->begin(), v->end(), [](const json& x) { return x.is_array(); })));
        b->widget->setEnabled(!swept);
        b->widget->setToolTip(
            swept ? tr("Swept over %1: edit the list in the JSON file").arg(qt_text(v->dump()))
                  : qt_text(b->field->doc));
        if (!swept) b->load(v);
    }
    refresh_quant_choices();
    loading_ = false;
    file_label_->setText(file_path_.isEmpty() ? tr("(unsaved experiment)")
                                              : QDir::toNativeSeparators(file_path_));
    refresh_model_info();
}

void ExperimentForm::write(const QString& key, const json& value) {
    if (loading_) return;
    json* node = document_.get();
    for (const QString& part : key.split('.')) {
        if (!node->is_object()) *node = json::object();
        node = &(*node)[std_text(part)];
    }
    *node = value;
    Q_EMIT documentChanged();
    revalidate();
}

void ExperimentForm::erase(const QString& key) {
    const int dot = key.lastIndexOf(QLatin1Char('.'));
    json* parent = dot < 0 ? document_.get() : const_cast<json*>(find_json(*document_, key.left(dot)));
    if (parent && parent->is_object()) parent->erase(std_text(key.mid(dot + 1)));
}

// Dataset names come from the document's "datasets" section: the calibration combo offers them
// and the eval list shows one checkbox each (plus names the document uses but does not define,
// so validation can point at them).
void ExperimentForm::refresh_dataset_choices() {
    QStringList names;
    if (const json* sets = find_json(*document_, QStringLiteral("datasets")); sets && sets->is_object())
        for (auto it = sets->begin(); it != sets->end(); ++it)
            names << qt_text(it.key());
    QStringList checked;
    if (const json* v = find_json(*document_, QStringLiteral("eval.datasets")); v && v->is_array())
        for (const auto& n : *v)
            if (n.is_string()) checked << qt_text(n.get<std::string>());
    for (const QString& n : checked)
        if (!names.contains(n)) names << n;
    const bool was_loading = loading_;
    loading_ = true;
    eval_datasets_->clear();
    add_check_items(eval_datasets_, names);
    set_checked_items(eval_datasets_, checked);
    const QString calib = calib_dataset_->currentText();
    calib_dataset_->clear();
    calib_dataset_->addItems(names);
    calib_dataset_->setCurrentText(calib);
    loading_ = was_loading;
}

QVector<int> ExperimentForm::loraRanks() const {
    QVector<int> ranks;
    for (int i = 0; i < ranks_->count(); ++i)
        if (ranks_->item(i)->checkState() == Qt::Checked) ranks.push_back(ranks_->item(i)->text().toInt());
    std::sort(ranks.begin(), ranks.end());
    return ranks;
}

void ExperimentForm::setLoraRanks(const QVector<int>& ranks) {
    const bool was_loading = loading_;
    loading_ = true;
    QStringList checked; // ranks the list does not offer (12, 48) get an item of their own
    for (int r : ranks)
        checked << QString::number(r);
    set_checked_items(ranks_, checked);
    loading_ = was_loading;
    if (!loading_)
        write(QStringLiteral("rilq.lora_r"),
              ranks.size() == 1 ? json(ranks.front()) : json(std::vector<int>(ranks.begin(), ranks.end())));
}

// ---- files --------------------------------------------------------------------------------

bool ExperimentForm::loadFile(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error) *error = tr("%1: cannot read (%2)").arg(path, file.errorString());
        return false;
    }
    json document;
    nlohmann::ordered_json in_file_order;
    try {
        const std::string text = file.readAll().toStdString();
        document = rilq::parse_json(text, path.toStdString()); // nesting depth bounded
        in_file_order = nlohmann::ordered_json::parse(text);   // as deep as `document`: safe
    } catch (const std::exception& e) { // "<path>: invalid JSON: ...", its length bounded
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
    if (!document.is_object()) {
        if (error) *error = tr("%1: expected a JSON object at the top level").arg(path);
        return false;
    }
    file_path_ = QFileInfo(path).absoluteFilePath();
    setDocument(document);
    *file_order_ = std::move(in_file_order);
    return true;
}

bool ExperimentForm::saveFile(const QString& path, QString* error) {
    QSaveFile file(path); // atomic: a failed save never leaves half a file behind
    nlohmann::ordered_json saved = in_original_key_order(*file_order_, *document_);
    const QByteArray bytes = (qt_text(saved.dump(2)) + QLatin1Char('\n')).toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error) *error = tr("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    *file_order_ = std::move(saved);
    const QString previous_base = baseDir();
    file_path_ = QFileInfo(path).absoluteFilePath();
    file_label_->setText(QDir::toNativeSeparators(file_path_));
    if (previous_base != baseDir()) revalidate(); // relative data_root now means another folder
    return true;
}

QString ExperimentForm::baseDir() const {
    return file_path_.isEmpty() ? QDir::currentPath() : QFileInfo(file_path_).absolutePath();
}

QString ExperimentForm::resolvePath(const QString& path) const {
    if (path.isEmpty() || QDir::isAbsolutePath(path)) return path;
    QString root = json_text(find_json(*document_, QStringLiteral("data_root")), "");
    if (root == QLatin1String(run::kDemoDataRoot)) root = QString::fromStdString(default_demo_cache_dir());
    if (!QDir::isAbsolutePath(root)) root = QDir(baseDir()).filePath(root);
    return QDir::cleanPath(QDir(root).filePath(path));
}

// ---- model --------------------------------------------------------------------------------

void ExperimentForm::setModelInspector(ModelInspector inspector) {
    inspector_ = std::move(inspector);
    refresh_model_info();
}

QString ExperimentForm::modelSummaryText() const {
    return model_info_->text();
}

void ExperimentForm::refresh_model_info() {
    const QString path = json_text(find_json(*document_, QStringLiteral("rilq.base_model")), "");
    if (!inspector_ || path.isEmpty()) {
        model_info_->clear();
        return;
    }
    const QString resolved = resolvePath(path);
    const bool demo = json_text(find_json(*document_, QStringLiteral("data_root")), "") ==
                      QLatin1String(run::kDemoDataRoot);
    if (demo && !QFileInfo::exists(resolved)) { // experiment preparation trains it on first use
        model_info_->setProperty("rilqInvalid", false);
        model_info_->setText(tr("The built-in demo model is trained when the demo first runs (a few "
                                "minutes on 2 cores) and cached in %1.")
                                 .arg(QDir::toNativeSeparators(QFileInfo(resolved).absolutePath())));
        style()->unpolish(model_info_);
        style()->polish(model_info_);
        return;
    }
    const ModelInfo info = inspector_(resolved);
    model_info_->setProperty("rilqInvalid", !info.ok);
    model_info_->setText(info.ok
                             ? tr("%1 · %2 parameters · %3")
                                   .arg(info.format, QLocale().toString(info.parameter_count), info.summary)
                             : info.error);
    style()->unpolish(model_info_);
    style()->polish(model_info_);
    if (!info.ok) Q_EMIT errorOccurred(info.error);
}

// ---- validation ---------------------------------------------------------------------------

void ExperimentForm::revalidate() {
    issues_.clear();
    run::ParseOptions options;
    options.base_dir = std_text(baseDir());
    try {
        for (const auto& issue : run::validate_experiment(*document_, options))
            issues_.push_back({qt_text(issue.path), qt_text(issue.message)});
    } catch (const std::exception& e) { // validation should not throw; if it does, say so
        issues_.push_back({QStringLiteral("$"), QString::fromUtf8(e.what())});
    }
    mark_issues();
    if (isValid() != was_valid_) {
        was_valid_ = isValid();
        Q_EMIT validityChanged(was_valid_);
    }
}

QStringList ExperimentForm::fieldKeys() const {
    QStringList keys;
    for (const auto& b : bindings_)
        keys << b->key;
    return keys;
}

QWidget* ExperimentForm::fieldWidget(const QString& key) const {
    for (const auto& b : bindings_)
        if (b->key == key) return b->widget;
    return nullptr;
}

QString ExperimentForm::fieldError(const QString& key) const {
    return field_errors_.value(key);
}

// "$.rilq.lora_r[2]" -> "rilq.lora_r"; "$.datasets.c4.path" -> the closest bound prefix, if any.
QString ExperimentForm::binding_for_path(const QString& path) const {
    QString key = path.startsWith(QLatin1String("$.")) ? path.mid(2) : path;
    const int bracket = key.indexOf(QLatin1Char('['));
    if (bracket >= 0) key.truncate(bracket);
    while (!key.isEmpty()) {
        if (fieldWidget(key)) return key;
        const int dot = key.lastIndexOf(QLatin1Char('.'));
        if (dot < 0) break;
        key.truncate(dot);
    }
    return {};
}

void ExperimentForm::mark_issues() {
    field_errors_.clear();
    for (const FieldIssue& issue : issues_) {
        const QString key = binding_for_path(issue.path);
        if (key.isEmpty()) continue;
        QString& text = field_errors_[key];
        text += (text.isEmpty() ? QString() : QStringLiteral("\n")) + issue.path + QStringLiteral(": ") +
                issue.message;
    }
    for (const auto& b : bindings_) {
        const bool invalid = field_errors_.contains(b->key);
        if (b->widget->property("rilqInvalid").toBool() == invalid && !invalid) continue;
        b->widget->setProperty("rilqInvalid", invalid);
        b->label->setProperty("rilqInvalid", invalid);
        if (invalid) {
            b->widget->setToolTip(field_errors_.value(b->key));
            b->label->setToolTip(field_errors_.value(b->key));
        } else {
            b->label->setToolTip(qt_text(b->field->doc));
            if (b->widget->isEnabled())
                b->widget->setToolTip(qt_text(b->field->doc)); // disabled: "swept over"
        }
        for (QWidget* w : {b->widget, static_cast<QWidget*>(b->label)}) {
            style()->unpolish(w);
            style()->polish(w);
        }
    }
    if (issues_.isEmpty()) {
        issues_label_->setStyleSheet(QStringLiteral("color: #2ca02c;"));
        issues_label_->setText(tr("The experiment is valid."));
        return;
    }
    QStringList lines;
    for (const FieldIssue& issue : issues_)
        lines << issue.path + QStringLiteral(": ") + issue.message;
    issues_label_->setStyleSheet(QStringLiteral("color: #d62728;"));
    issues_label_->setText(tr("%n problem(s):", nullptr, int(issues_.size())) + QStringLiteral("\n") +
                           lines.join(QLatin1Char('\n')));
}

} // namespace rilq::widgets
