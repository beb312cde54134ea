#include "core/report/table_writers.h"

#include "core/report/number_format.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace rilq::report {

namespace {

// Display width of UTF-8 text: code points, so "±" counts once when padding.
size_t display_width(const std::string& text) {
    size_t n = 0;
    for (unsigned char c : text)
        n += (c & 0xC0) != 0x80;
    return n;
}

std::string pad(const std::string& text, size_t width) {
    return text + std::string(width - std::min(width, display_width(text)), ' ');
}

std::string cell_text(const PivotTable& t, const PivotCell& cell, const std::string& plus_minus) {
    if (!cell.present) return {};
    std::string text = format_fixed(cell.mean, t.decimals);
    if (cell.n > 1) text += plus_minus + format_fixed(cell.std, t.decimals);
    return text;
}

std::string csv_field(const std::string& text) {
    const bool quote = text.find_first_of(",\"\n\r") != std::string::npos ||
                       (!text.empty() && (text.front() == ' ' || text.back() == ' '));
    if (!quote) return text;
    std::string out = "\"";
    for (char c : text)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string latex_escape(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (text.compare(i, 2, "\xC2\xB1") == 0) { // ±
            out += "$\\pm$";
            ++i;
            continue;
        }
        switch (c) {
        case '&':
        case '%':
        case '$':
        case '#':
        case '_':
        case '{':
        case '}':
            out += '\\';
            out += c;
            break;
        case '~':
            out += "\\textasciitilde{}";
            break;
        case '^':
            out += "\\textasciicircum{}";
            break;
        case '\\':
            out += "\\textbackslash{}";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

TableFormat parse_table_format(const std::string& name) {
    if (name == "md" || name == "markdown") return TableFormat::Markdown;
    if (name == "csv") return TableFormat::Csv;
    if (name == "latex" || name == "tex") return TableFormat::Latex;
    if (name == "json") return TableFormat::Json;
    throw Error("unknown table format \"" + name + "\" (expected md, csv, latex or json)");
}

const char* file_extension(TableFormat format) {
    switch (format) {
    case TableFormat::Markdown:
        return "md";
    case TableFormat::Csv:
        return "csv";
    case TableFormat::Latex:
        return "tex";
    case TableFormat::Json:
        return "json";
    }
    return "txt";
}

std::string write_markdown(const PivotTable& t) {
    std::vector<std::vector<std::string>> grid;
    std::vector<std::string> header = {t.row_header};
    header.insert(header.end(), t.column_labels.begin(), t.column_labels.end());
    grid.push_back(header);
    for (size_t r = 0; r < t.row_labels.size(); ++r) {
        std::vector<std::string> line = {t.row_labels[r]};
        for (const auto& cell : t.cells[r]) {
            std::string text = cell.present ? cell_text(t, cell, " \xC2\xB1 ") : "-";
            if (cell.best) text = "**" + text + "**";
            line.push_back(text);
        }
        grid.push_back(line);
    }
    std::vector<size_t> width(header.size(), 0);
    for (const auto& line : grid) {
        for (size_t c = 0; c < line.size(); ++c)
            width[c] = std::max(width[c], display_width(line[c]));
    }
    std::ostringstream out;
    for (size_t i = 0; i < grid.size(); ++i) {
        out << '|';
        for (size_t c = 0; c < grid[i].size(); ++c)
            out << ' ' << pad(grid[i][c], width[c]) << " |";
        out << '\n';
        if (i == 0) {
            out << '|';
            for (size_t w : width)
                out << std::string(w + 2, '-') << '|';
            out << '\n';
        }
    }
    if (!t.footer.empty()) out << '\n' << t.footer << '\n';
    return out.str();
}

std::string write_csv(const PivotTable& t) {
    const bool spread = t.has_spread();
    std::ostringstream out;
    out << csv_field(t.row_header);
    for (const auto& label : t.column_labels) {
        out << ',' << csv_field(label);
        if (spread) out << ',' << csv_field(label + " std");
    }
    out << '\n';
    for (size_t r = 0; r < t.row_labels.size(); ++r) {
        out << csv_field(t.row_labels[r]);
        for (const auto& cell : t.cells[r]) {
            out << ',' << (cell.present ? shortest_number(cell.mean) : "");
            if (spread) out << ',' << (cell.present && cell.n > 1 ? shortest_number(cell.std) : "");
        }
        out << '\n';
    }
    if (!t.footer.empty()) out << "# " << t.footer << '\n';
    return out.str();
}

std::string write_latex(const PivotTable& t) {
    const size_t columns = t.column_labels.size() + 1;
    std::ostringstream out;
    out << "\\begin{tabular}{l" << std::string(columns - 1, 'r') << "}\n\\toprule\n";
    out << latex_escape(t.row_header);
    for (const auto& label : t.column_labels)
        out << " & " << latex_escape(label);
    out << " \\\\\n\\midrule\n";
    for (size_t r = 0; r < t.row_labels.size(); ++r) {
        out << latex_escape(t.row_labels[r]);
        for (const auto& cell : t.cells[r]) {
            std::string text = cell.present ? cell_text(t, cell, " $\\pm$ ") : "--";
            if (cell.best) text = "\\textbf{" + text + "}";
            out << " & " << text;
        }
        out << " \\\\\n";
    }
    out << "\\bottomrule\n";
    if (!t.footer.empty()) {
        out << "\\multicolumn{" << columns << "}{l}{\\footnotesize " << latex_escape(t.footer) << "} \\\\\n";
    }
    out << "\\end{tabular}\n";
    return out.str();
}

std::string write_json(const PivotTable& t) {
    using nlohmann::json;
    json columns = json::array();
    for (size_t c = 0; c < t.column_keys.size(); ++c) {
        columns.push_back({{"key", t.column_keys[c]},
                           {"label", t.column_labels[c]},
                           {"average", bool(t.column_is_average[c])}});
    }
    json rows = json::array();
    for (size_t r = 0; r < t.row_keys.size(); ++r) {
        json cells = json::array();
        for (const auto& cell : t.cells[r]) {
            if (!cell.present) {
                cells.push_back(nullptr);
                continue;
            }
            cells.push_back({{"mean", cell.mean}, {"std", cell.std}, {"n", cell.n}, {"best", cell.best}});
        }
        rows.push_back({{"key", t.row_keys[r]}, {"label", t.row_labels[r]}, {"cells", cells}});
    }
    json doc = {{"format_version", 1},        {"metric", t.metric}, {"lower_is_better", t.lower_is_better},
                {"row_header", t.row_header}, {"columns", columns}, {"rows", rows},
                {"protocol", t.footer}};
    return doc.dump(2) + "\n";
}

std::string write_table(const PivotTable& table, TableFormat format) {
    switch (format) {
    case TableFormat::Markdown:
        return write_markdown(table);
    case TableFormat::Csv:
        return write_csv(table);
    case TableFormat::Latex:
        return write_latex(table);
    case TableFormat::Json:
        return write_json(table);
    }
    return {};
}

} // namespace rilq::report
