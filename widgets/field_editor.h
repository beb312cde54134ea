// The generic editor of one schema field (core/util/config_fields.h), chosen by its kind: a spin
// box for an integer, a line edit for a number (1e-3 and 0.0005 stay as typed) or a string, a check
// box, a combo box of the choices, a row of check boxes for a list of choices, a comma-separated
// line for a free list, a line of JSON for named entries. The experiment form uses these for every field it
// has no better editor for.
#pragma once
#include <nlohmann/json.hpp>

#include <QString>
#include <QStringList>

#include <functional>
#include <string>

class QWidget;
class QListWidget;

namespace rilq::config {
struct FieldInfo;
}

namespace rilq::widgets {

// UTF-8 std::string (as core speaks) <-> QString.
inline QString qt_text(const std::string& s) {
    return QString::fromStdString(s);
}
inline std::string std_text(const QString& s) {
    return s.toStdString();
}

struct FieldEditor {
    QWidget* widget = nullptr;
    // Shows a value (the document's, or the field's default when the document has none). Never
    // calls the editor's `write`.
    std::function<void(const nlohmann::json& value)> show;
};

// The value at a dotted key ("rilq.lora_r") of a document; nullptr when absent.
const nlohmann::json* find_json(const nlohmann::json& document, const QString& dotted_key);
// A value as text: a string as itself, anything else as compact JSON; `fallback` when absent.
QString json_text(const nlohmann::json* value, const std::string& fallback);

// `write` gets the edited value as JSON: a number when the text parses as one, else the text,
// so a typo reaches validation and is shown there instead of being dropped.
FieldEditor make_field_editor(const config::FieldInfo& field,
                              std::function<void(const nlohmann::json&)> write);

// A row of checkable items (wrapping). Items `checked` names that the list lacks are added, so a
// value the document holds is shown (and marked by validation) rather than hidden.
QListWidget* make_check_list(const QStringList& items);
void add_check_items(QListWidget* list, const QStringList& items); // unchecked, skipping ones it has
void set_checked_items(QListWidget* list, const QStringList& checked);
QStringList checked_items(const QListWidget* list); // in item order

} // namespace rilq::widgets
