// Dataset specs, data-root resolution and the three text readers (see text_sources.h for
// the exact strings each one builds and why).
#include "core/data/text_sources.h"

#include <zlib.h> // gzopen/gzread: reads gzip and plain files alike

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/util/error.h"

namespace fs = std::filesystem;

namespace rilq {

// ---------------------------------------------------------------------------------------
// Specs and data roots
// ---------------------------------------------------------------------------------------

const std::vector<std::pair<DatasetKind, std::string>>& dataset_kind_names() {
    static const std::vector<std::pair<DatasetKind, std::string>> names = {
        {DatasetKind::WikiText2, "wikitext2"}, {DatasetKind::C4, "c4"}, {DatasetKind::Text, "text"}};
    return names;
}

std::string dataset_kind_name(DatasetKind kind) {
    for (const auto& [k, name] : dataset_kind_names())
        if (k == kind) return name;
    return "unknown";
}

DatasetKind parse_dataset_kind(const std::string& name) {
    std::string known;
    for (const auto& [kind, text] : dataset_kind_names()) {
        if (text == name) return kind;
        known += (known.empty() ? "" : ", ") + text;
    }
    throw Error("unknown dataset name '" + name + "': expected one of " + known);
}

DatasetSpec parse_dataset_spec(const std::string& spec) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos)
        throw Error("dataset spec '" + spec + "': expected NAME=PATH with NAME one of wikitext2, c4, text");
    DatasetSpec out;
    try {
        out.kind = parse_dataset_kind(spec.substr(0, eq));
    } catch (const Error& e) {
        throw Error("dataset spec '" + spec + "': " + e.what());
    }
    out.path = spec.substr(eq + 1);
    if (out.path.empty()) throw Error("dataset spec '" + spec + "': the path after '=' is empty");
    std::error_code ec;
    if (!fs::exists(out.path, ec))
        throw Error("dataset spec '" + spec + "': " + dataset_kind_name(out.kind) + " path '" + out.path +
                    "' does not exist");
    return out;
}

std::vector<DatasetSpec> parse_dataset_specs(const std::string& comma_separated) {
    std::vector<DatasetSpec> specs;
    std::stringstream in(comma_separated);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t first = item.find_first_not_of(" \t");
        const size_t last = item.find_last_not_of(" \t");
        if (first == std::string::npos) throw Error("dataset list '" + comma_separated + "': empty entry");
        specs.push_back(parse_dataset_spec(item.substr(first, last - first + 1)));
    }
    if (specs.empty()) throw Error("dataset list is empty: expected NAME=PATH[,NAME=PATH...]");
    return specs;
}

std::string format_dataset_spec(const DatasetSpec& spec) {
    std::string text = dataset_kind_name(spec.kind) + "=" + spec.path;
    if (!spec.whole()) {
        std::ostringstream range;
        range << "[" << spec.range_begin << "," << spec.range_end << "]";
        text += range.str();
    }
    return text;
}

namespace {

void check_range(double begin, double end) {
    if (!(begin >= 0.0 && end <= 1.0 && begin < end)) {
        std::ostringstream message;
        message << "dataset range [" << begin << ", " << end << ") must satisfy 0 <= begin < end <= 1";
        throw Error(message.str());
    }
}

} // namespace

std::string slice_text(const std::string& text, double begin, double end) {
    check_range(begin, end);
    const auto cut = [&](double f) -> size_t {
        if (f <= 0.0) return 0;
        if (f >= 1.0) return text.size();
        const size_t at = static_cast<size_t>(f * static_cast<double>(text.size()));
        if (at > 0 && text[at - 1] == '\n') return at;
        const size_t newline = text.find('\n', at);
        return newline == std::string::npos ? text.size() : newline + 1;
    };
    const size_t first = cut(begin), last = cut(end);
    return text.substr(first, last - first);
}

std::pair<size_t, size_t> slice_indices(size_t count, double begin, double end) {
    check_range(begin, end);
    const auto at = [&](double f) { return static_cast<size_t>(f * static_cast<double>(count)); };
    return {at(begin), end >= 1.0 ? count : at(end)};
}

std::vector<std::string> standard_file_names(DatasetKind kind, DataUse use) {
    const bool eval = use == DataUse::Evaluation;
    switch (kind) {
    case DatasetKind::WikiText2: {
        const std::string split = eval ? "test" : "train";
        return {"wiki." + split + ".raw",
                "wikitext-2-raw/wiki." + split + ".raw",
                "wikitext-2-raw-v1/wiki." + split + ".raw",
                split + ".txt",
                "wiki." + split + ".tokens",
                "wikitext-2/" + split + ".txt",
                "wikitext-2/wiki." + split + ".tokens"};
    }
    case DatasetKind::C4: {
        const std::string shard = eval ? "c4-validation.00000-of-00008.json" : "c4-train.00000-of-01024.json";
        std::vector<std::string> names;
        for (const char* folder : {"", "en/", "c4/", "c4/en/"}) {
            names.push_back(std::string(folder) + shard + ".gz");
            names.push_back(std::string(folder) + shard);
        }
        names.push_back("c4_demo.jsonl");
        names.push_back("c4/c4_demo.jsonl");
        return names;
    }
    case DatasetKind::Text:
        return {};
    }
    return {};
}

std::string resolve_dataset_file(const DatasetSpec& spec, DataUse use) {
    std::error_code ec;
    const std::string name = dataset_kind_name(spec.kind);
    if (!fs::exists(spec.path, ec)) throw Error(name + " path '" + spec.path + "' does not exist");
    if (!fs::is_directory(spec.path, ec)) return spec.path;
    const std::vector<std::string> candidates = standard_file_names(spec.kind, use);
    if (candidates.empty())
        throw Error(name + " path '" + spec.path + "' is a folder; a " + name + " dataset must name a file");
    for (const std::string& candidate : candidates) {
        const fs::path file = fs::path(spec.path) / candidate;
        if (fs::is_regular_file(file, ec)) return file.string();
    }
    std::string tried;
    for (const std::string& candidate : candidates)
        tried += (tried.empty() ? "" : ", ") + candidate;
    throw Error(name + " data root '" + spec.path + "' has none of the standard " +
                (use == DataUse::Evaluation ? "evaluation" : "calibration") + " files: " + tried);
}

// ---------------------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------------------

std::string read_text_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error("cannot open text file '" + file + "': " + std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) throw Error("read error in text file '" + file + "'");
    return bytes.str();
}

namespace {

bool is_python_whitespace_only(const std::string& s) {
    // str.strip() on these rows: ASCII whitespace is all WikiText's blank lines contain.
    return s.find_first_not_of(" \t\n\r\v\f") == std::string::npos;
}

// "\r\n" and lone "\r" become "\n", as Python's universal-newline text mode reads them.
std::string normalize_newlines(const std::string& bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
        } else {
            out.push_back(bytes[i]);
        }
    }
    return out;
}

} // namespace

// ---- wikitext2 ----

std::vector<std::string> wikitext_rows_from_text(const std::string& text) {
    std::vector<std::string> rows;
    size_t start = 0;
    while (start < text.size()) {
        const size_t nl = text.find('\n', start);
        const size_t end = nl == std::string::npos ? text.size() : nl + 1;
        std::string line = text.substr(start, end - start);
        rows.push_back(is_python_whitespace_only(line) ? std::string() : std::move(line));
        start = end;
    }
    return rows;
}

int wikitext_heading_level(const std::string& row) {
    // " = T = \n", " = = T = = \n", ...: markers of equal depth on both sides of a title.
    std::string line = row;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.size() < 5 || line.front() != ' ' || line.back() != ' ') return 0;
    size_t lead = 0;
    size_t pos = 1;
    while (pos + 1 < line.size() && line[pos] == '=' && line[pos + 1] == ' ') {
        ++lead;
        pos += 2;
    }
    size_t trail = 0;
    size_t end = line.size() - 1; // index of the final space
    while (end >= 2 && line[end - 1] == '=' && line[end - 2] == ' ') {
        ++trail;
        end -= 2;
    }
    // The title lies in [pos, end): it must be non-empty, and the markers must not overlap.
    if (lead == 0 || lead != trail || end <= pos) return 0;
    return static_cast<int>(lead);
}

std::vector<std::string> rebuild_wikitext_layout(const std::vector<std::string>& nonblank_rows) {
    std::vector<std::string> rows;
    rows.reserve(nonblank_rows.size() * 2);
    for (size_t k = 0; k < nonblank_rows.size(); ++k) {
        const std::string& row = nonblank_rows[k];
        const int level = wikitext_heading_level(row);
        if (level == 0) {
            rows.push_back(row);
            continue;
        }
        if (level == 1 && k > 0) rows.emplace_back(); // articles are separated by two blank lines
        rows.emplace_back();
        rows.push_back(row);
        rows.emplace_back();
    }
    rows.emplace_back(); // the splits end with a blank line
    return rows;
}

WikiTextRows read_wikitext_rows(const std::string& file) {
    WikiTextRows out;
    out.rows = wikitext_rows_from_text(normalize_newlines(read_text_file(file)));
    if (out.rows.empty()) throw Error("wikitext2 file '" + file + "' is empty");
    bool any_blank = false;
    bool any_heading = false;
    for (const std::string& row : out.rows) {
        any_blank = any_blank || row.empty();
        any_heading = any_heading || wikitext_heading_level(row) > 0;
    }
    // Only a file with headings and not one blank line is a layout-dropping re-serialization;
    // anything else is taken as the split itself.
    if (!any_blank && any_heading) {
        out.rows = rebuild_wikitext_layout(out.rows);
        out.layout_rebuilt = true;
    }
    return out;
}

std::string wikitext_eval_text(const std::vector<std::string>& rows) {
    std::string text;
    size_t total = 0;
    for (const std::string& row : rows)
        total += row.size() + 2;
    text.reserve(total);
    for (size_t i = 0; i < rows.size(); ++i) {
        if (i > 0) text += "\n\n";
        text += rows[i];
    }
    return text;
}

std::string wikitext_calibration_text(const std::vector<std::string>& rows, size_t max_rows) {
    std::string text;
    const size_t n = std::min(max_rows, rows.size());
    for (size_t i = 0; i < n; ++i)
        text += rows[i].empty() ? std::string(" \n") : rows[i];
    return text;
}

// ---- c4 ----

void DocumentSet::add(std::string_view text) {
    bytes_.append(text.data(), text.size());
    ends_.push_back(bytes_.size());
}

std::string_view DocumentSet::view(size_t index) const {
    if (index >= ends_.size())
        throw Error("DocumentSet: document " + std::to_string(index) + " out of range (size " +
                    std::to_string(ends_.size()) + ")");
    const size_t begin = index == 0 ? 0 : ends_[index - 1];
    return std::string_view(bytes_).substr(begin, ends_[index] - begin);
}

namespace {

// One JSON Lines record: the document text, or an Error naming file and line.
void add_c4_line(DocumentSet& docs, const std::string& line, const std::string& file, size_t line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return; // blank lines carry no record
    const std::string where = "c4 file '" + file + "' line " + std::to_string(line_number);
    nlohmann::json record;
    try {
        record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!record.is_object()) throw Error(where + ": expected a JSON object, found " + record.type_name());
    const auto text = record.find("text");
    if (text == record.end()) throw Error(where + ": the object has no \"text\" field");
    if (!text->is_string())
        throw Error(where + ": \"text\" must be a string, found " + std::string(text->type_name()));
    docs.add(text->get_ref<const std::string&>());
}

struct GzFile {
    gzFile handle = nullptr;
    ~GzFile() {
        if (handle) gzclose(handle);
    }
};

} // namespace

DocumentSet read_c4_documents(const std::string& file) {
    GzFile in;
    in.handle = gzopen(file.c_str(), "rb");
    if (!in.handle) throw Error("cannot open c4 file '" + file + "': " + std::strerror(errno));
    gzbuffer(in.handle, 1 << 17);
    DocumentSet docs;
    std::string pending; // bytes of the current, unfinished line
    std::vector<char> buffer(1 << 18);
    size_t line_number = 0;
    for (;;) {
        const int got = gzread(in.handle, buffer.data(), static_cast<unsigned>(buffer.size()));
        if (got < 0) {
            int code = Z_OK;
            const char* message = gzerror(in.handle, &code);
            throw Error("c4 file '" + file + "': decompression failed after line " +
                        std::to_string(line_number) + " (" + message + ")");
        }
        if (got == 0) break;
        size_t start = 0;
        const size_t size = static_cast<size_t>(got);
        while (start < size) {
            const void* hit = std::memchr(buffer.data() + start, '\n', size - start);
            if (!hit) {
                pending.append(buffer.data() + start, size - start);
                break;
            }
            const size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - buffer.data());
            pending.append(buffer.data() + start, nl - start);
            add_c4_line(docs, pending, file, ++line_number);
            pending.clear();
            start = nl + 1;
        }
    }
    // gzread returns 0 both at a clean end and at a truncated stream; gzerror tells them apart.
    int code = Z_OK;
    const char* message = gzerror(in.handle, &code);
    if (code != Z_OK && code != Z_STREAM_END)
        throw Error("c4 file '" + file + "' is damaged or truncated after line " +
                    std::to_string(line_number) + " (" + message + ")");
    if (!pending.empty()) add_c4_line(docs, pending, file, ++line_number);
    if (docs.empty()) throw Error("c4 file '" + file + "' holds no documents");
    return docs;
}

std::string text_in_range(std::string text, const DatasetSpec& spec) {
    if (spec.whole()) return text;
    return slice_text(text, spec.range_begin, spec.range_end);
}

std::vector<std::string> rows_in_range(std::vector<std::string> rows, const DatasetSpec& spec) {
    if (spec.whole()) return rows;
    const auto [first, last] = slice_indices(rows.size(), spec.range_begin, spec.range_end);
    return {std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(first)),
            std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(last))};
}

DocumentSet documents_in_range(DocumentSet documents, const DatasetSpec& spec) {
    if (spec.whole()) return documents;
    const auto [first, last] = slice_indices(documents.size(), spec.range_begin, spec.range_end);
    DocumentSet part;
    for (size_t i = first; i < last; ++i) part.add(documents.view(i));
    return part;
}

} // namespace rilq
