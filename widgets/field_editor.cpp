#include "widgets/field_editor.h"

#include "core/util/config_fields.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QSpinBox>

#include <climits>

namespace rilq::widgets {

using json = nlohmann::json;

namespace {

QStringList qt_list(const std::vector<std::string>& items) {
    QStringList out;
    for (const auto& item : items)
        out << qt_text(item);
    return out;
}

// What a line edit shows for a JSON value.
QString line_text(const json& v) {
    if (v.is_string()) return qt_text(v.get<std::string>());
    if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 12);
    if (v.is_null()) return {};
    return qt_text(v.dump());
}

// The typed text as JSON: an integer or a number when it parses as one (per `kind`), else the text.
json typed_value(const QString& text, config::FieldKind kind) {
    bool ok = false;
    if (kind == config::FieldKind::Integer) {
        const qlonglong v = text.trimmed().toLongLong(&ok);
        if (ok) return json(static_cast<int64_t>(v));
    } else if (kind == config::FieldKind::Number) {
        const double v = text.trimmed().toDouble(&ok);
        if (ok) return json(v);
    } else if (kind == config::FieldKind::Entries) { // an object typed as JSON
        json v = json::parse(text.toStdString(), nullptr, /*allow_exceptions=*/false);
        if (!v.is_discarded()) return v;
    }
    return json(text.toStdString());
}

FieldEditor line_editor(const config::FieldInfo& field, std::function<void(const json&)> write) {
    auto* edit = new QLineEdit;
    const config::FieldKind kind = field.kind;
    const bool list = kind == config::FieldKind::TextList;
    if (list) edit->setPlaceholderText(QStringLiteral("comma-separated"));
    QObject::connect(edit, &QLineEdit::textEdited, edit, [write, kind, list](const QString& text) {
        if (!list) return write(typed_value(text, kind));
        json items = json::array();
        for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            items.push_back(part.trimmed().toStdString());
        write(items);
    });
    return {edit, [edit, list](const json& v) {
                if (list && v.is_array()) {
                    QStringList parts;
                    for (const auto& item : v)
                        parts << line_text(item);
                    edit->setText(parts.join(QStringLiteral(", ")));
                } else {
                    edit->setText(line_text(v));
                }
                // A long text (the description) shows its beginning, not its tail.
                if (!edit->hasFocus()) edit->setCursorPosition(0);
            }};
}

} // namespace

const json* find_json(const json& document, const QString& dotted_key) {
    const json* node = &document;
    for (const QString& part : dotted_key.split('.')) {
        if (!node->is_object()) return nullptr;
        const auto it = node->find(part.toStdString());
        if (it == node->end()) return nullptr;
        node = &*it;
    }
    return node;
}

QString json_text(const json* value, const std::string& fallback) {
    if (!value) return qt_text(fallback);
    return value->is_string() ? qt_text(value->get<std::string>()) : qt_text(value->dump());
}

QListWidget* make_check_list(const QStringList& items) {
    auto* list = new QListWidget;
    list->setFlow(QListView::LeftToRight);
    list->setWrapping(true);
    list->setMaximumHeight(56);
    add_check_items(list, items);
    return list;
}

void add_check_items(QListWidget* list, const QStringList& items) {
    for (const QString& text : items) {
        if (!list->findItems(text, Qt::MatchExactly).isEmpty()) continue;
        auto* item = new QListWidgetItem(text, list);
        item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        item->setCheckState(Qt::Unchecked);
    }
}

void set_checked_items(QListWidget* list, const QStringList& checked) {
    add_check_items(list, checked);
    for (int i = 0; i < list->count(); ++i)
        list->item(i)->setCheckState(checked.contains(list->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
}

QStringList checked_items(const QListWidget* list) {
    QStringList out;
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->checkState() == Qt::Checked) out << list->item(i)->text();
    return out;
}

FieldEditor make_field_editor(const config::FieldInfo& field, std::function<void(const json&)> write) {
    using config::FieldKind;
    switch (field.kind) {
    case FieldKind::Boolean: {
        auto* box = new QCheckBox;
        QObject::connect(box, &QCheckBox::toggled, box, [write](bool v) { write(json(v)); });
        return {box, [box](const json& v) { box->setChecked(v.is_boolean() && v.get<bool>()); }};
    }
    case FieldKind::Integer:
        // Ranges beyond int (byte budgets, 64-bit seeds) get a line edit instead.
        if (field.lo >= INT_MIN && field.hi <= INT_MAX) {
            auto* box = new QSpinBox;
            box->setRange(static_cast<int>(field.lo), static_cast<int>(field.hi));
            box->setAccelerated(true);
            QObject::connect(box, &QSpinBox::valueChanged, box, [write](int v) { write(json(v)); });
            return {box, [box](const json& v) {
                        if (v.is_number_integer()) box->setValue(static_cast<int>(v.get<int64_t>()));
                    }};
        }
        return line_editor(field, write);
    case FieldKind::Choice: {
        auto* box = new QComboBox;
        box->addItems(qt_list(field.choices));
        QObject::connect(box, &QComboBox::currentTextChanged, box,
                         [write](const QString& t) { write(json(t.toStdString())); });
        return {box, [box](const json& v) {
                    const QString value = line_text(v);
                    if (box->findText(value) < 0) box->addItem(value); // shown, and marked if invalid
                    box->setCurrentText(value);
                }};
    }
    case FieldKind::TextList:
    case FieldKind::ChoiceList: {
        if (field.choices.empty()) return line_editor(field, write);
        QListWidget* list = make_check_list(qt_list(field.choices));
        QObject::connect(list, &QListWidget::itemChanged, list, [write, list] {
            json items = json::array();
            for (const QString& text : checked_items(list))
                items.push_back(text.toStdString());
            write(items);
        });
        return {list, [list](const json& v) {
                    QStringList checked;
                    if (v.is_array())
                        for (const auto& item : v)
                            checked << line_text(item);
                    set_checked_items(list, checked);
                }};
    }
    case FieldKind::Number:
    case FieldKind::Text:
    case FieldKind::Path:
    case FieldKind::Entries:
    case FieldKind::Custom:
        break;
    }
    return line_editor(field, write);
}

} // namespace rilq::widgets
