// The form's rows: one per schema field, in the schema's groups, with the editor its kind calls
// for, or a custom one where a generic editor would be poor; and the quantizer's editors, whose
// choices follow the method (the quantizer registry).
#include "widgets/experiment_form.h"

#include "core/quant/quant_registry.h" // the methods, their variants and bits
#include "core/run/config_schema.h"    // the fields, their defaults and docs
#include "widgets/field_editor.h"

#include <nlohmann/json.hpp>

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

namespace rilq::widgets {

using json = nlohmann::json;

namespace {

// Every field of the schema with its dotted key and its default (the value a RunConfig
// starts with), in schema order.
struct SchemaField {
    QString key;
    const config::Field<run::RunConfig>* field;
    json fallback;
};

const std::vector<SchemaField>& schema_fields() {
    static const std::vector<SchemaField> fields = [] {
        const run::RunConfig defaults;
        std::vector<SchemaField> out;
        for (const auto& section : run::run_sections())
            for (const auto& f : section.fields)
                out.push_back({qt_text(section.key.empty() ? f.key : section.key + "." + f.key), &f,
                               f.write(defaults)});
        return out;
    }();
    return fields;
}

// A quant.* row that only some methods read (quant_registry.h).
bool is_knob(const QString& key) {
    return key.startsWith(QLatin1String("quant.")) && is_method_knob(std_text(key.mid(6)));
}

} // namespace

// A path with pickers; `folder` adds a "Folder…" button (HF models are folders).
QWidget* ExperimentForm::path_editor(const QString& key, bool folder,
                                     std::function<void(const json*)>& load) {
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
            picked(QFileDialog::getExistingDirectory(this, tr("Choose a folder"), resolvePath(edit->text())));
        });
    }
    connect(edit, &QLineEdit::textEdited, this, [this, key](const QString& t) { write(key, std_text(t)); });
    if (key == QLatin1String("rilq.base_model"))
        connect(edit, &QLineEdit::editingFinished, this, &ExperimentForm::refresh_model_info);
    load = [edit](const json* v) { edit->setText(json_text(v, "")); };
    return row;
}

QWidget* ExperimentForm::editor_for(const QString& key, const config::FieldInfo& field,
                                    std::function<void(const json*)>& load, bool& scalar) {
    const json fallback = [&] {
        for (const auto& f : schema_fields())
            if (f.key == key) return f.fallback;
        return json();
    }();
    if (key == QLatin1String("rilq.lora_r")) { // a checked set of ranks is a sweep
        QStringList items;
        for (int r : rankChoices())
            items << QString::number(r);
        ranks_ = make_check_list(items);
        ranks_->setToolTip(tr("Several checked ranks make a sweep; 0 is the uncompensated baseline"));
        connect(ranks_, &QListWidget::itemChanged, this, [this] {
            if (!loading_) setLoraRanks(loraRanks()); // writes rilq.lora_r
        });
        scalar = false;
        load = [this, fallback](const json* v) {
            const json& value = v ? *v : fallback;
            QVector<int> ranks;
            if (value.is_number_integer()) ranks = {int(value.get<int64_t>())};
            if (value.is_array())
                for (const auto& r : value)
                    if (r.is_number_integer()) ranks.push_back(int(r.get<int64_t>()));
            setLoraRanks(ranks);
        };
        return ranks_;
    }
    if (key == QLatin1String("rilq.calib_dataset") || key == QLatin1String("eval.datasets")) {
        // The names come from the document's "datasets" (refresh_dataset_choices).
        if (key == QLatin1String("eval.datasets")) {
            eval_datasets_ = make_check_list({});
            eval_datasets_->setMaximumHeight(90);
            connect(eval_datasets_, &QListWidget::itemChanged, this, [this] {
                json names = json::array();
                for (const QString& n : checked_items(eval_datasets_))
                    names.push_back(std_text(n));
                write(QStringLiteral("eval.datasets"), names);
            });
            scalar = false;
            load = [this](const json*) { refresh_dataset_choices(); };
            return eval_datasets_;
        }
        calib_dataset_ = new QComboBox;
        calib_dataset_->setEditable(true);
        connect(calib_dataset_, &QComboBox::currentTextChanged, this,
                [this, key](const QString& t) { write(key, std_text(t)); });
        load = [this, fallback](const json* v) {
            calib_dataset_->setCurrentText(json_text(v ? v : &fallback, ""));
        };
        return calib_dataset_;
    }
    if (key == QLatin1String("quant.variant") || key == QLatin1String("quant.bits")) {
        // The method's own choices, from the registry (refresh_quant_choices).
        auto* box = new QComboBox;
        (key == QLatin1String("quant.bits") ? bits_ : variant_) = box;
        connect(box, &QComboBox::currentTextChanged, this, [this, key](const QString& t) {
            bool number = false;
            const int bits = t.toInt(&number);
            write(key, key == QLatin1String("quant.bits") && number ? json(bits) : json(std_text(t)));
        });
        load = [this](const json*) { refresh_quant_choices(); };
        return box;
    }
    if (field.kind == config::FieldKind::Path) {
        const bool folder = key != QLatin1String("rilq.tokenizer");
        return path_editor(key, folder, load);
    }
    FieldEditor editor = make_field_editor(field, [this, key](const json& v) { write(key, v); });
    if (key == QLatin1String("quant.method"))
        connect(static_cast<QComboBox*>(editor.widget), &QComboBox::currentTextChanged, this,
                &ExperimentForm::on_method_changed);
    load = [show = editor.show, fallback](const json* v) { show(v ? *v : fallback); };
    return editor.widget;
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

    auto* scroll = scroll_ = new QScrollArea;
    scroll->setWidgetResizable(true);
    auto* body = new QWidget;
    auto* columns = new QHBoxLayout(body);
    QVBoxLayout* column[2] = {new QVBoxLayout, new QVBoxLayout};
    columns->addLayout(column[0], 1);
    columns->addLayout(column[1], 1);
    scroll->setWidget(body);
    outer->addWidget(scroll, 1);
    issues_label_ = new QLabel;
    issues_label_->setWordWrap(true);
    issues_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(issues_label_);

    // One box per schema group, in schema order; each goes to the column with fewer rows so far.
    std::map<std::string, int> group_rows;
    for (const SchemaField& f : schema_fields())
        ++group_rows[f.field->group];
    std::map<std::string, QFormLayout*> boxes;
    int rows[2] = {0, 0};
    for (const SchemaField& f : schema_fields()) {
        if (f.field->key == "format_version") continue; // not an edit: the program's format
        QFormLayout*& form = boxes[f.field->group];
        if (!form) {
            const int c = rows[0] <= rows[1] ? 0 : 1;
            auto* box = new QGroupBox(tr(f.field->group.c_str()));
            form = new QFormLayout(box);
            column[c]->addWidget(box);
            rows[c] += group_rows[f.field->group];
        }
        auto binding = std::make_unique<Binding>();
        binding->key = f.key;
        binding->field = f.field;
        binding->widget = editor_for(f.key, *f.field, binding->load, binding->scalar);
        binding->label = new QLabel(qt_text(f.field->label.empty() ? f.field->key : f.field->label));
        binding->widget->setObjectName(f.key);
        form->addRow(binding->label, binding->widget);
        if (f.key == QLatin1String("rilq.base_model")) {
            model_info_ = new QLabel;
            model_info_->setObjectName(QStringLiteral("modelInfo"));
            model_info_->setWordWrap(true);
            model_info_->setTextInteractionFlags(Qt::TextSelectableByMouse);
            form->addRow(QString(), model_info_);
        }
        bindings_.push_back(std::move(binding));
    }
    column[0]->addStretch(1);
    column[1]->addStretch(1);
    // Qt lets a combo or spin box take the wheel while the pointer merely passes over it, so
    // scrolling the form would silently change the values it crosses (seen in the workbench:
    // lora_init flipped to kaiming). They take the wheel only once focused (clicked or tabbed to).
    for (QWidget* w : body->findChildren<QWidget*>()) {
        if (!qobject_cast<QComboBox*>(w) && !qobject_cast<QAbstractSpinBox*>(w)) continue;
        w->setFocusPolicy(Qt::StrongFocus);
        w->installEventFilter(this);
    }
}

// A new method starts from its default variant and keeps the bits only when it accepts them; the
// variant and bits lists and the knobs shown follow the method.
void ExperimentForm::on_method_changed(const QString& method) {
    if (!loading_) {
        // The method itself was written by its editor; variant and bits change with it.
        const QuantMethod* m = find_quant_method(std_text(method));
        if (!m) {
            erase(QStringLiteral("quant.variant"));
        } else {
            json& quant = (*document_)["quant"];
            quant["variant"] = m->variants.front().name;
            const json* bits = find_json(*document_, QStringLiteral("quant.bits"));
            const int current =
                bits && bits->is_number_integer() ? int(bits->get<int64_t>()) : QuantSpec().bits;
            if (!m->accepts_bits(current)) quant["bits"] = m->bits.front();
        }
        Q_EMIT documentChanged();
        revalidate();
    }
    refresh_quant_choices();
}

void ExperimentForm::refresh_quant_choices() {
    const run::RunConfig defaults;
    const std::string method =
        std_text(json_text(find_json(*document_, QStringLiteral("quant.method")), defaults.quant.method));
    const QuantMethod* m = find_quant_method(method);
    const bool was_loading = loading_;
    loading_ = true;
    const auto fill = [](QComboBox* box, const QStringList& items, const QString& current) {
        box->clear();
        box->addItems(items);
        if (!current.isEmpty() && box->findText(current) < 0)
            box->addItem(current); // shown, marked if invalid
        box->setCurrentText(current);
    };
    QStringList variants, bits;
    if (m) {
        for (const auto& v : m->variants)
            variants << qt_text(v.name);
        for (int b : m->bits)
            bits << QString::number(b);
    }
    fill(
        variant_, variants,
        json_text(find_json(*document_, QStringLiteral("quant.variant")), m ? m->variants.front().name : ""));
    fill(bits_, bits,
         json_text(find_json(*document_, QStringLiteral("quant.bits")), std::to_string(defaults.quant.bits)));
    for (const auto& b : bindings_) {
        if (!is_knob(b->key)) continue;
        const bool shown = m && m->reads(std_text(b->key.mid(6)));
        b->widget->setVisible(shown);
        b->label->setVisible(shown);
    }
    loading_ = was_loading;
}

} // namespace rilq::widgets
