#include "widgets/experiment_form.h"

#include "core/demo/demo_model.h"

#include "core/run/experiment_config.h" // validate_experiment: the same checks `rilq run` makes
#include "core/run/run_config.h"        // RunConfig defaults shown for absent keys
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

namespace rilq::widgets {

using json = nlohmann::json;

struct ExperimentForm::Binding {
    QString key;
    QWidget* widget = nullptr;
    QLabel* label = nullptr;
    std::function<void(const json*)> load;
    bool scalar = true;
};

namespace {

const run::RunConfig& defaults() {
    static const run::RunConfig config;
    return config;
}

std::string std_text(const QString& s) {
    return s.toStdString();
}
QString qt_text(const std::string& s) {
    return QString::fromStdString(s);
}

const json* find_value(const json& doc, const QString& key) {
    const json* node = &doc;
    for (const QString& part : key.split('.')) {
        if (!node->is_object()) return nullptr;
        const auto it = node->find(std_text(part));
        if (it == node->end()) return nullptr;
        node = &*it;
    }
    return node;
}

QString json_string(const json* v, const std::string& fallback) {
    if (!v) return qt_text(fallback);
    return v->is_string() ? qt_text(v->get<std::string>()) : qt_text(v->dump());
}

// Variants each quantizer accepts (core/run/config_schema.cpp quant_variants); "" = its default.
QStringList variants_for(const QString& method) {
    if (method == "rtn") return {"", "omniquant", "gptq", "gptq_sym"};
    if (method == "nf" || method == "icq_nf") return {"", "asymmetric", "symmetric"};
    if (method == "icq_int") return {"", "gptq"};
    return {""};
}

QSpinBox* int_box(int lo, int hi) {
    auto* box = new QSpinBox;
    box->setRange(lo, hi);
    box->setAccelerated(true);
    return box;
}

QDoubleSpinBox* double_box(double lo, double hi, int decimals, double step) {
    auto* box = new QDoubleSpinBox;
    box->setRange(lo, hi);
    box->setDecimals(decimals);
    box->setSingleStep(step);
    return box;
}

} // namespace

const QVector<int>& ExperimentForm::rankChoices() {
    static const QVector<int> ranks = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256};
    return ranks;
}

ExperimentForm::ExperimentForm(QWidget* parent)
    : QWidget(parent), document_(std::make_unique<json>(json::object())) {
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

void ExperimentForm::add_field(QFormLayout* form, const QString& key, const QString& label, QWidget* widget,
                               std::function<void(const json*)> load, bool scalar) {
    auto binding = std::make_unique<Binding>();
    binding->key = key;
    binding->widget = widget;
    binding->label = new QLabel(label);
    binding->load = std::move(load);
    binding->scalar = scalar;
    widget->setObjectName(key);
    form->addRow(binding->label, widget);
    bindings_.push_back(std::move(binding));
}

void ExperimentForm::build() {
    auto* outer = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    file_label_ = new QLabel(tr("(unsaved experiment)"));
    auto* run_button = new QPushButton(tr("Start runs"));
    run_button->setObjectName(QStringLiteral("startRuns"));
    connect(run_button, &QPushButton::clicked, this, &ExperimentForm::runRequested);
    connect(this, &ExperimentForm::validityChanged, run_button, &QPushButton::setEnabled);
    top->addWidget(file_label_, 1);
    top->addWidget(run_button);
    outer->addLayout(top);

    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    auto* body = new QWidget;
    auto* columns = new QHBoxLayout(body);
    auto* left = new QVBoxLayout;
    auto* right = new QVBoxLayout;
    columns->addLayout(left, 1);
    columns->addLayout(right, 1);
    scroll->setWidget(body);
    outer->addWidget(scroll, 1);
    issues_label_ = new QLabel;
    issues_label_->setWordWrap(true);
    issues_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(issues_label_);

    const auto group = [](QVBoxLayout* column, const QString& title) {
        auto* box = new QGroupBox(title);
        auto* form = new QFormLayout(box);
        column->addWidget(box);
        return form;
    };
    const auto& d = defaults();

    // Helpers binding one widget type to one key.
    const auto text = [&](QFormLayout* f, const QString& key, const QString& label,
                          const std::string& fallback) {
        auto* edit = new QLineEdit;
        connect(edit, &QLineEdit::textEdited, this,
                [this, key](const QString& t) { write(key, std_text(t)); });
        add_field(f, key, label, edit,
                  [edit, fallback](const json* v) { edit->setText(json_string(v, fallback)); });
        return edit;
    };
    const auto integer = [&](QFormLayout* f, const QString& key, const QString& label, int lo, int hi,
                             int fallback) {
        auto* box = int_box(lo, hi);
        connect(box, &QSpinBox::valueChanged, this, [this, key](int v) { write(key, v); });
        add_field(f, key, label, box, [box, fallback](const json* v) {
            box->setValue(v && v->is_number_integer() ? int(v->get<int64_t>()) : fallback);
        });
        return box;
    };
    const auto real = [&](QFormLayout* f, const QString& key, const QString& label, double lo, double hi,
                          int decimals, double step, double fallback) {
        auto* box = double_box(lo, hi, decimals, step);
        connect(box, &QDoubleSpinBox::valueChanged, this, [this, key](double v) { write(key, v); });
        add_field(f, key, label, box, [box, fallback](const json* v) {
            box->setValue(v && v->is_number() ? v->get<double>() : fallback);
        });
        return box;
    };
    const auto flag = [&](QFormLayout* f, const QString& key, const QString& label, bool fallback) {
        auto* box = new QCheckBox;
        connect(box, &QCheckBox::toggled, this, [this, key](bool v) { write(key, v); });
        add_field(f, key, label, box, [box, fallback](const json* v) {
            box->setChecked(v && v->is_boolean() ? v->get<bool>() : fallback);
        });
        return box;
    };
    const auto choice = [&](QFormLayout* f, const QString& key, const QString& label,
                            const QStringList& items, const std::string& fallback, bool editable = false) {
        auto* box = new QComboBox;
        box->addItems(items);
        box->setEditable(editable);
        connect(box, &QComboBox::currentTextChanged, this,
                [this, key](const QString& t) { write(key, std_text(t)); });
        add_field(f, key, label, box, [box, fallback](const json* v) {
            const QString value = json_string(v, fallback);
            if (box->findText(value) < 0) box->addItem(value);
            box->setCurrentText(value);
        });
        return box;
    };
    // A path with pickers; `folder` adds a "Folder…" button (HF models are folders).
    const auto path = [&](QFormLayout* f, const QString& key, const QString& label, bool folder) {
        auto* row = new QWidget;
        auto* layout = new QHBoxLayout(row);
        layout->setContentsMargins(0, 0, 0, 0);
        auto* edit = new QLineEdit;
        edit->setObjectName(key + QStringLiteral(".edit"));
        layout->addWidget(edit, 1);
        const auto picked = [this, key, edit](const QString& chosen) {
            if (chosen.isEmpty()) return;
            edit->setText(chosen);
            write(key, std_text(chosen));
            if (key == QLatin1String("rilq.base_model")) refresh_model_info();
        };
        auto* file_button = new QPushButton(tr("File…"));
        layout->addWidget(file_button);
        connect(file_button, &QPushButton::clicked, this, [this, edit, picked] {
            picked(QFileDialog::getOpenFileName(this, tr("Choose a file"), resolvePath(edit->text())));
        });
        if (folder) {
            auto* dir_button = new QPushButton(tr("Folder…"));
            layout->addWidget(dir_button);
            connect(dir_button, &QPushButton::clicked, this, [this, edit, picked] {
                picked(QFileDialog::getExistingDirectory(this, tr("Choose a model folder"),
                                                         resolvePath(edit->text())));
            });
        }
        connect(edit, &QLineEdit::textEdited, this,
                [this, key](const QString& t) { write(key, std_text(t)); });
        add_field(f, key, label, row, [edit](const json* v) { edit->setText(json_string(v, "")); });
        return edit;
    };

    // ---- left column: what is quantized and how -------------------------------------------
    auto* general = group(left, tr("Experiment"));
    text(general, QStringLiteral("name"), tr("Name"), "");
    path(general, QStringLiteral("data_root"), tr("Data folder"), true);
    choice(general, QStringLiteral("device"), tr("Device"), {"cpu", "cuda", "cuda:0", "cuda:1"}, d.device,
           true);
    integer(general, QStringLiteral("seed"), tr("Seed"), 0, INT_MAX, int(d.seed));

    auto* model = group(left, tr("Model"));
    auto* base = path(model, QStringLiteral("rilq.base_model"), tr("FP model"), true);
    connect(base, &QLineEdit::editingFinished, this, &ExperimentForm::refresh_model_info);
    model_info_ = new QLabel;
    model_info_->setObjectName(QStringLiteral("modelInfo"));
    model_info_->setWordWrap(true);
    model_info_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    model->addRow(QString(), model_info_);
    path(model, QStringLiteral("rilq.q_model"), tr("Ready q_model"), true);
    path(model, QStringLiteral("rilq.tokenizer"), tr("Tokenizer"), false);
    choice(model, QStringLiteral("rilq.dtype"), tr("Dtype"), {"bf16", "fp16", "fp32"}, d.rilq.dtype);

    auto* quant = group(left, tr("Quantizer"));
    auto* method = choice(quant, QStringLiteral("quant.method"), tr("Method"),
                          {"none", "rtn", "nf", "icq_nf", "icq_int"}, run::to_string(d.quant.method));
    method->setToolTip(tr("none: load the ready q_model instead of quantizing"));
    variant_ = choice(quant, QStringLiteral("quant.variant"), tr("Variant"), {""}, d.quant.variant);
    integer(quant, QStringLiteral("quant.bits"), tr("Bits"), 1, 8, d.quant.bits);
    integer(quant, QStringLiteral("quant.group_size"), tr("Group size"), 0, 1 << 20, d.quant.group_size);

    auto* lora = group(left, tr("LoRA compensation"));
    ranks_ = new QListWidget;
    ranks_->setFlow(QListView::LeftToRight);
    ranks_->setWrapping(true);
    ranks_->setMaximumHeight(56);
    ranks_->setToolTip(tr("Several checked ranks make a sweep; 0 is the uncompensated baseline"));
    for (int r : rankChoices()) {
        auto* item = new QListWidgetItem(QString::number(r), ranks_);
        item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        item->setCheckState(Qt::Unchecked);
    }
    connect(ranks_, &QListWidget::itemChanged, this, [this] {
        const QVector<int> ranks = loraRanks();
        write(QStringLiteral("rilq.lora_r"),
              ranks.size() == 1 ? json(ranks.front()) : json(std::vector<int>(ranks.begin(), ranks.end())));
    });
    add_field(
        lora, QStringLiteral("rilq.lora_r"), tr("Ranks (sweep)"), ranks_,
        [this](const json* v) {
            QVector<int> ranks;
            if (!v)
                ranks = {defaults().rilq.lora_r};
            else if (v->is_number_integer())
                ranks = {int(v->get<int64_t>())};
            else if (v->is_array())
                for (const auto& r : *v)
                    if (r.is_number_integer()) ranks.push_back(int(r.get<int64_t>()));
            setLoraRanks(ranks);
        },
        false);
    real(lora, QStringLiteral("rilq.lora_alpha"), tr("Alpha"), 0.0, 1e6, 2, 1.0, d.rilq.lora_alpha);
    real(lora, QStringLiteral("rilq.lora_dropout"), tr("Dropout"), 0.0, 1.0, 3, 0.05, d.rilq.lora_dropout);
    flag(lora, QStringLiteral("rilq.iec"), tr("IEC (IR-QLoRA)"), d.rilq.iec);
    choice(lora, QStringLiteral("rilq.scope"), tr("Scope"), {"model", "weight-svd", "linear", "layer"},
           run::to_string(d.rilq.scope));
    choice(lora, QStringLiteral("rilq.a_type"), tr("Model loss at"), {"hid", "logit"},
           run::to_string(d.rilq.a_type));
    real(lora, QStringLiteral("rilq.a_dis_weight"), tr("Model-loss weight"), 0.0, 1e3, 3, 0.1,
         d.rilq.a_dis_weight);
    real(lora, QStringLiteral("rilq.gt_weight"), tr("GT-loss weight"), 0.0, 1e3, 3, 0.1, d.rilq.gt_weight);
    left->addStretch(1);

    // ---- right column: data and optimisation -----------------------------------------------
    auto* train = group(right, tr("Training"));
    // The learning rate decides most of what a small model does (issue 5): a large, free-form
    // field (1e-3, 0.0005) instead of a spin box that rounds.
    auto* lr = new QLineEdit;
    QFont big = lr->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    lr->setFont(big);
    connect(lr, &QLineEdit::textEdited, this, [this](const QString& t) {
        bool ok = false;
        const double v = t.trimmed().toDouble(&ok);
        write(QStringLiteral("rilq.approx_lr"), ok ? json(v) : json(std_text(t)));
    });
    add_field(train, QStringLiteral("rilq.approx_lr"), tr("Learning rate"), lr, [lr](const json* v) {
        lr->setText(v && v->is_number()
                        ? QString::number(v->get<double>(), 'g', 8)
                        : json_string(v, QString::number(defaults().rilq.approx_lr, 'g', 8).toStdString()));
    });
    integer(train, QStringLiteral("rilq.approx_batch_size"), tr("Batch size"), 1, 1 << 16,
            d.rilq.approx_batch_size);
    integer(train, QStringLiteral("rilq.gradient_accumulation_steps"), tr("Accumulation"), 1, 1 << 16,
            d.rilq.gradient_accumulation_steps);
    integer(train, QStringLiteral("rilq.approx_total_steps"), tr("Total micro-steps"), 0, INT_MAX,
            d.rilq.approx_total_steps);
    integer(train, QStringLiteral("rilq.approx_eval_steps"), tr("Validate every (updates)"), 1, INT_MAX,
            d.rilq.approx_eval_steps);
    flag(train, QStringLiteral("rilq.approx_early_stop"), tr("Early stop"), d.rilq.approx_early_stop);
    integer(train, QStringLiteral("rilq.approx_es_patience"), tr("Patience"), 1, 1 << 16,
            d.rilq.approx_es_patience);

    auto* calib = group(right, tr("Calibration"));
    calib_dataset_ =
        choice(calib, QStringLiteral("rilq.calib_dataset"), tr("Dataset"), {}, d.rilq.calib_dataset, true);
    integer(calib, QStringLiteral("rilq.calib_num_samples"), tr("Samples"), 1, INT_MAX,
            d.rilq.calib_num_samples);
    integer(calib, QStringLiteral("rilq.calib_max_length"), tr("Length (tokens)"), 2, INT_MAX,
            d.rilq.calib_max_length);
    real(calib, QStringLiteral("rilq.calib_val_ratio"), tr("Validation ratio"), 0.0, 0.99, 3, 0.05,
         d.rilq.calib_val_ratio);

    auto* eval = group(right, tr("Evaluation"));
    eval_datasets_ = new QListWidget;
    eval_datasets_->setMaximumHeight(90);
    connect(eval_datasets_, &QListWidget::itemChanged, this, [this] {
        json names = json::array();
        for (int i = 0; i < eval_datasets_->count(); ++i)
            if (eval_datasets_->item(i)->checkState() == Qt::Checked)
                names.push_back(std_text(eval_datasets_->item(i)->text()));
        write(QStringLiteral("eval.datasets"), names);
    });
    add_field(
        eval, QStringLiteral("eval.datasets"), tr("Datasets"), eval_datasets_,
        [this](const json*) { refresh_dataset_choices(); }, false);
    integer(eval, QStringLiteral("eval.seqlen"), tr("Seqlen"), 2, INT_MAX, d.eval.seqlen);
    right->addStretch(1);

    connect(method, &QComboBox::currentTextChanged, this, [this] { refresh_variants(); });
}

// ---- document <-> fields ------------------------------------------------------------------

void ExperimentForm::setDocument(const json& document) {
    *document_ = document.is_object() ? document : json::object();
    load_fields();
    revalidate();
}

const json& ExperimentForm::document() const {
    return *document_;
}

QString ExperimentForm::documentText() const {
    return qt_text(document_->dump(2)) + QLatin1Char('\n');
}

void ExperimentForm::load_fields() {
    loading_ = true; // the widgets' change signals must not write back what is being shown
    refresh_dataset_choices();
    for (const auto& b : bindings_) {
        const json* v = find_value(*document_, b->key);
        const bool swept = b->scalar && v && v->is_array();
        b->widget->setEnabled(!swept);
        b->widget->setToolTip(
            swept ? tr("Swept over %1: edit the list in the JSON file").arg(qt_text(v->dump())) : QString());
        if (!swept) b->load(v);
    }
    refresh_variants();
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

void ExperimentForm::refresh_variants() {
    const QString method = json_string(find_value(*document_, QStringLiteral("quant.method")),
                                       run::to_string(defaults().quant.method));
    const QString current = json_string(find_value(*document_, QStringLiteral("quant.variant")), "");
    const bool was_loading = loading_;
    loading_ = true;
    variant_->clear();
    variant_->addItems(variants_for(method));
    if (variant_->findText(current) < 0) variant_->addItem(current); // shown, and marked if invalid
    variant_->setCurrentText(current);
    loading_ = was_loading;
}

// Dataset names come from the document's "datasets" section: the calibration combo offers them
// and the eval list shows one checkbox each (plus names the document uses but does not define,
// so validation can point at them).
void ExperimentForm::refresh_dataset_choices() {
    QStringList names;
    if (const json* sets = find_value(*document_, QStringLiteral("datasets")); sets && sets->is_object())
        for (auto it = sets->begin(); it != sets->end(); ++it)
            names << qt_text(it.key());
    QStringList checked;
    if (const json* v = find_value(*document_, QStringLiteral("eval.datasets")); v && v->is_array())
        for (const auto& n : *v)
            if (n.is_string()) checked << qt_text(n.get<std::string>());
    for (const QString& n : checked)
        if (!names.contains(n)) names << n;
    const bool was_loading = loading_;
    loading_ = true;
    eval_datasets_->clear();
    for (const QString& n : names) {
        auto* item = new QListWidgetItem(n, eval_datasets_);
        item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        item->setCheckState(checked.contains(n) ? Qt::Checked : Qt::Unchecked);
    }
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
    for (int r : ranks) { // ranks the list does not offer (12, 48) get an item of their own
        if (ranks_->findItems(QString::number(r), Qt::MatchExactly).isEmpty()) {
            auto* item = new QListWidgetItem(QString::number(r), ranks_);
            item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        }
    }
    for (int i = 0; i < ranks_->count(); ++i)
        ranks_->item(i)->setCheckState(ranks.contains(ranks_->item(i)->text().toInt()) ? Qt::Checked
                                                                                       : Qt::Unchecked);
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
    try {
        document = rilq::parse_json(file.readAll().toStdString(), path.toStdString());
    } catch (const std::exception& e) { // "<path>: invalid JSON: ...", nesting depth and length bounded
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
    if (!document.is_object()) {
        if (error) *error = tr("%1: expected a JSON object at the top level").arg(path);
        return false;
    }
    file_path_ = QFileInfo(path).absoluteFilePath();
    setDocument(document);
    return true;
}

bool ExperimentForm::saveFile(const QString& path, QString* error) {
    QSaveFile file(path); // atomic: a failed save never leaves half a file behind
    const QByteArray bytes = documentText().toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error) *error = tr("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
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
    QString root = json_string(find_value(*document_, QStringLiteral("data_root")), "");
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
    const QString path = json_string(find_value(*document_, QStringLiteral("rilq.base_model")), "");
    if (!inspector_ || path.isEmpty()) {
        model_info_->clear();
        return;
    }
    const ModelInfo info = inspector_(resolvePath(path));
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
            b->label->setToolTip(QString());
            if (b->widget->isEnabled()) b->widget->setToolTip(QString()); // disabled: keeps "swept over"
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
