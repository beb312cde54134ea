#include "core/run/schema_markdown.h"

#include "core/quant/quant_registry.h"
#include "core/run/config_schema.h"

#include <sstream>

namespace rilq::run {

namespace {

using config::FieldInfo;
using config::FieldKind;

std::string code(const std::string& s) {
    return "`" + s + "`";
}

std::string cell(std::string s) { // a table cell: no line breaks, no column separators
    for (size_t pos = 0; (pos = s.find('|', pos)) != std::string::npos; pos += 2)
        s.replace(pos, 1, "\\|");
    return s;
}

std::string joined_codes(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i)
        out += (i ? ", " : "") + code(items[i]);
    return out;
}

std::string valid_values(const FieldInfo& f) {
    switch (f.kind) {
    case FieldKind::Boolean:
        return "`true`, `false`";
    case FieldKind::Choice:
        return joined_codes(f.choices);
    case FieldKind::TextList:
        return f.choices.empty() ? "list of strings" : "list of " + joined_codes(f.choices);
    case FieldKind::ChoiceList:
        return "non-empty list of " + joined_codes(f.choices);
    case FieldKind::Entries:
        return "object: NAME -> entry (table below)";
    default:
        return f.what;
    }
}

// The quant.* knobs name the methods that read them.
std::string meaning(const std::string& section, const FieldInfo& f) {
    if (section != "quant") return f.doc;
    std::vector<std::string> readers;
    for (const auto& m : quant_methods())
        if (m.reads(f.key)) readers.push_back(m.name);
    return readers.empty() ? f.doc : joined_codes(readers) + ": " + f.doc;
}

template <class T>
void write_table(std::ostream& out, const std::string& section, const std::vector<config::Field<T>>& fields,
                 const T& defaults) {
    bool origins = false;
    for (const auto& f : fields)
        origins = origins || !f.origin.empty();
    out << "| key | default | valid values |" << (origins ? " origin |" : "") << " meaning |\n";
    out << "|---|---|---|" << (origins ? "---|" : "") << "---|\n";
    for (const auto& f : fields) {
        const std::string def = f.default_doc.empty() ? code(f.write(defaults).dump()) : f.default_doc;
        out << "| " << code(f.key) << " | " << cell(def) << " | " << cell(valid_values(f)) << " |";
        if (origins) out << " " << f.origin << " |";
        out << " " << cell(meaning(section, f)) << " |\n";
    }
}

// The fields of each entry of an Entries field, under their own heading.
void write_entry_tables(std::ostream& out, const std::string& section, const std::vector<FieldInfo>& fields) {
    for (const auto& f : fields) {
        if (f.kind != FieldKind::Entries) continue;
        out << "#### `" << (section.empty() ? "" : section + ".") << f.key << ".NAME`\n\n" << f.doc << "\n\n";
        out << "| key | default | valid values | meaning |\n|---|---|---|---|\n";
        for (const auto& e : f.entries)
            out << "| " << code(e.key) << " | " << cell(e.default_doc) << " | " << cell(valid_values(e))
                << " | " << cell(e.doc) << " |\n";
        out << "\n";
    }
}

void write_heading(std::ostream& out, const SchemaSection& s) {
    out << "### " << s.title << "\n\n";
    if (!s.doc.empty()) out << s.doc << "\n\n";
}

void write_methods(std::ostream& out) {
    out << "| method | label | bits | `group_size` counts | variants (first = default) | what it does |\n";
    out << "|---|---|---|---|---|---|\n";
    for (const auto& m : quant_methods()) {
        std::string bits, variants;
        for (size_t i = 0; i < m.bits.size(); ++i)
            bits += (i ? ", " : "") + std::to_string(m.bits[i]);
        for (size_t i = 0; i < m.variants.size(); ++i)
            variants += (i ? "; " : "") + code(m.variants[i].name) + " (" + m.variants[i].doc + ")";
        out << "| " << code(m.name) << " | " << m.label << " | " << bits << " | "
            << (m.grouping == GroupKind::RowGroups ? "weights per row group (0 = whole row)"
                                                   : "weights per absmax block of the flattened weight")
            << " | " << cell(variants) << " | " << cell(m.doc)
            << (m.needs_calibration ? " (reads calibration inputs)" : "") << " |\n";
    }
}

} // namespace

std::string experiment_schema_markdown() {
    std::ostringstream out;
    const RunConfig defaults;
    for (const auto& section : run_sections()) {
        write_heading(out, section);
        write_table(out, section.key, section.fields, defaults);
        out << "\n";
        write_entry_tables(out, section.key,
                           std::vector<FieldInfo>(section.fields.begin(), section.fields.end()));
        if (section.key.empty()) { // the datasets come right after the top level
            write_heading(out, datasets_section_doc());
            DatasetEntry entry;
            entry.label = "NAME";
            write_table(out, "datasets", dataset_fields(), entry);
            out << "\n";
        }
        if (section.key == "quant") {
            write_methods(out);
            out << "\n";
        }
    }
    std::string text = out.str();
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text + "\n";
}

} // namespace rilq::run
