#include "core/eval/tasks/pandas_csv.h"

#include "core/eval/tasks/python_text.h"
#include "core/util/error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace rilq {

const std::vector<std::string>& pandas_na_strings() {
    static const std::vector<std::string> strings = {
        "",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
        "<NA>", "N/A",  "NA",       "NULL", "NaN",     "None",     "n/a",  "nan",  "null"};
    return strings;
}

namespace {

struct RawRecord {
    std::vector<std::string> fields;
    int64_t line = 0;
};

bool is_line_end(char c) {
    return c == '\n' || c == '\r';
}

// Index after the line terminator at `i` (CRLF counts as one).
size_t skip_line_end(const std::string& s, size_t i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    return i + 1;
}

// pandas' C tokenizer (tokenizer.c tokenize_bytes) for the default dialect.
std::vector<RawRecord> tokenize(const std::string& s, const std::string& file) {
    std::vector<RawRecord> records;
    size_t i = s.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    int64_t line = 1;
    enum class State { StartField, InField, InQuoted, QuoteInQuoted };
    while (i < s.size()) {
        // START_RECORD: blank and whitespace-only lines are skipped (skip_blank_lines=True).
        size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t'))
            ++j;
        if (j == s.size()) break;
        if (is_line_end(s[j])) {
            i = skip_line_end(s, j);
            ++line;
            continue;
        }
        RawRecord record;
        record.line = line;
        std::string cell;
        State state = State::StartField;
        bool ended = false;
        while (i < s.size() && !ended) {
            const char c = s[i];
            switch (state) {
            case State::StartField:
                if (c == '"') {
                    state = State::InQuoted;
                    ++i;
                    continue;
                }
                state = State::InField;
                continue; // the same character, as part of an unquoted field
            case State::InField:
                if (c == ',') {
                    record.fields.push_back(std::move(cell));
                    cell.clear();
                    state = State::StartField;
                } else if (is_line_end(c)) {
                    record.fields.push_back(std::move(cell));
                    i = skip_line_end(s, i);
                    ++line;
                    ended = true;
                    continue;
                } else {
                    cell += c;
                }
                ++i;
                continue;
            case State::InQuoted:
                if (c == '"') {
                    state = State::QuoteInQuoted;
                } else {
                    cell += c; // CR and LF inside quotes are kept verbatim
                    if (c == '\n' || (c == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++line;
                }
                ++i;
                continue;
            case State::QuoteInQuoted:
                if (c == '"') { // "" inside quotes is one quote
                    cell += '"';
                    state = State::InQuoted;
                    ++i;
                } else {
                    state = State::InField; // ',' or a line end closes the field there
                }
                continue;
            }
        }
        if (!ended) {
            if (state == State::InQuoted)
                throw Error(
                    file + ":" + std::to_string(record.line) +
                    ": a quoted field opened in this record is not closed before the end of the file");
            record.fields.push_back(std::move(cell));
        }
        records.push_back(std::move(record));
    }
    return records;
}

bool is_c_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim_c_space(std::string_view t) {
    while (!t.empty() && is_c_space(t.front()))
        t.remove_prefix(1);
    while (!t.empty() && is_c_space(t.back()))
        t.remove_suffix(1);
    return t;
}

// str_to_int64 / str_to_uint64: [space][sign]digits[space]. Returns the canonical digits with
// '-' for negatives, and whether the value fits int64 and uint64.
struct IntCell {
    std::string text;
    bool fits_int64 = false;
    bool fits_uint64 = false;
};

std::optional<IntCell> parse_int(std::string_view t) {
    t = trim_c_space(t);
    bool negative = false;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
        negative = t[0] == '-';
        t.remove_prefix(1);
    }
    if (t.empty() || !std::all_of(t.begin(), t.end(), is_digit)) return std::nullopt;
    while (t.size() > 1 && t[0] == '0')
        t.remove_prefix(1);
    IntCell cell;
    const bool zero = t == "0";
    cell.text = (negative && !zero ? "-" : "") + std::string(t);
    auto fits = [&](const std::string& limit) {
        return t.size() < limit.size() || (t.size() == limit.size() && t <= limit);
    };
    cell.fits_int64 = fits(negative ? "9223372036854775808" : "9223372036854775807");
    cell.fits_uint64 = (!negative || zero) && fits("18446744073709551615");
    return cell;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// precise_xstrtod's syntax: [space][sign]digits[.digits][(e|E)[sign]digits][space], at least one
// mantissa digit, and a value that does not overflow; or one of the infinity spellings.
std::optional<double> parse_float(std::string_view raw) {
    for (const char* inf : {"inf", "+inf", "infinity", "+infinity"})
        if (iequals(raw, inf)) return std::numeric_limits<double>::infinity();
    for (const char* inf : {"-inf", "-infinity"})
        if (iequals(raw, inf)) return -std::numeric_limits<double>::infinity();
    const std::string_view t = trim_c_space(raw);
    size_t p = 0, mantissa_digits = 0;
    if (p < t.size() && (t[p] == '+' || t[p] == '-')) ++p;
    while (p < t.size() && is_digit(t[p]))
        ++p, ++mantissa_digits;
    if (p < t.size() && t[p] == '.') {
        ++p;
        while (p < t.size() && is_digit(t[p]))
            ++p, ++mantissa_digits;
    }
    if (mantissa_digits == 0) return std::nullopt;
    if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
        size_t q = p + 1, exp_digits = 0;
        if (q < t.size() && (t[q] == '+' || t[q] == '-')) ++q;
        while (q < t.size() && is_digit(t[q]))
            ++q, ++exp_digits;
        if (exp_digits == 0) return std::nullopt;
        p = q;
    }
    if (p != t.size()) return std::nullopt;
    const std::string text(t);
    errno = 0;
    const double value = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && std::abs(value) > 1.0) return std::nullopt; // overflow stays text in pandas
    return value;
}

std::optional<bool> parse_bool(const std::string& t) {
    if (t == "True" || t == "TRUE" || t == "true") return true;
    if (t == "False" || t == "FALSE" || t == "false") return false;
    return std::nullopt;
}

bool is_na(const std::string& t) {
    const auto& na = pandas_na_strings();
    return std::find(na.begin(), na.end(), t) != na.end();
}

// Replaces one column's raw texts by what "{}".format(cell) prints (see the header).
void print_column(std::vector<RawRecord>& records, size_t col) {
    bool any_value = false, has_na = false, all_int64 = true, all_uint64 = true, all_float = true,
         all_bool = true;
    for (const RawRecord& r : records) {
        const std::string& t = r.fields[col];
        if (is_na(t)) {
            has_na = true;
            continue;
        }
        any_value = true;
        const auto i = parse_int(t);
        all_int64 = all_int64 && i && i->fits_int64;
        all_uint64 = all_uint64 && i && i->fits_uint64;
        all_float = all_float && parse_float(t).has_value();
        all_bool = all_bool && parse_bool(t).has_value();
    }
    const bool integer = any_value && (all_int64 || all_uint64);
    for (RawRecord& r : records) {
        std::string& t = r.fields[col];
        if (is_na(t)) {
            t = "nan";
        } else if (integer && !has_na) {
            t = parse_int(t)->text;
        } else if (integer || all_float) { // an integer column with NaN is float64
            t = py::float_repr(integer ? std::strtod(parse_int(t)->text.c_str(), nullptr) : *parse_float(t));
        } else if (all_bool) {
            t = *parse_bool(t) ? "True" : "False";
        }
    }
}

} // namespace

CsvTable parse_csv_like_pandas(const std::string& bytes, const std::string& file, size_t columns) {
    std::vector<RawRecord> records = tokenize(bytes, file);
    for (const RawRecord& r : records) {
        if (r.fields.size() != columns)
            throw Error(file + ":" + std::to_string(r.line) + ": " + std::to_string(r.fields.size()) +
                        " fields, expected " + std::to_string(columns));
        for (const std::string& f : r.fields)
            if (!py::valid_utf8(f)) throw Error(file + ":" + std::to_string(r.line) + ": invalid UTF-8");
    }
    for (size_t c = 0; c < columns; ++c)
        print_column(records, c);
    CsvTable table;
    table.file = file;
    for (RawRecord& r : records) {
        table.rows.push_back(std::move(r.fields));
        table.lines.push_back(r.line);
    }
    return table;
}

CsvTable read_csv_like_pandas(const std::string& path, size_t columns) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(path + ": read error");
    return parse_csv_like_pandas(ss.str(), path, columns);
}

} // namespace rilq
