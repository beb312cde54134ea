#include "core/eval/tasks/task_files.h"

#include "core/util/error.h"
#include "core/util/json_read.h"
#include "core/util/sha256.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace rilq {

std::string resolve_task_file(const std::string& task, const std::string& path,
                              const std::string& default_file) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const std::string file = (fs::path(path) / default_file).string();
        if (!fs::is_regular_file(file, ec))
            throw Error(task + ": " + path + " is a folder without " + default_file +
                        " (give the file itself)");
        return file;
    }
    if (!fs::exists(path, ec)) throw Error(task + ": " + path + ": no such file or folder");
    return path;
}

const nlohmann::json& JsonlRecord::field(const std::string& dotted, nlohmann::json::value_t type) const {
    const nlohmann::json* node = &value;
    size_t start = 0;
    while (true) {
        const size_t dot = dotted.find('.', start);
        const std::string key =
            dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!node->is_object() || !node->contains(key)) fail("no field \"" + dotted + "\"");
        node = &(*node)[key];
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    const bool number_ok = type == nlohmann::json::value_t::number_integer && node->is_number_integer();
    if (node->type() != type && !number_ok) {
        nlohmann::json expected(type);
        fail("field \"" + dotted + "\" is " + node->type_name() + ", expected " + expected.type_name());
    }
    return *node;
}

std::string JsonlRecord::string_field(const std::string& dotted) const {
    return field(dotted, nlohmann::json::value_t::string).get<std::string>();
}

void JsonlRecord::fail(const std::string& message) const {
    throw Error(file + ":" + std::to_string(line) + ": " + message);
}

std::string read_task_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(file + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(file + ": read error");
    return ss.str();
}

std::vector<std::pair<int64_t, std::string>> read_lines(const std::string& file) {
    const std::string bytes = read_task_file(file);
    std::vector<std::pair<int64_t, std::string>> lines;
    size_t start = 0;
    while (start < bytes.size()) {
        size_t end = bytes.find('\n', start);
        if (end == std::string::npos) end = bytes.size();
        lines.emplace_back(static_cast<int64_t>(lines.size()) + 1, bytes.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::vector<JsonlRecord> read_jsonl(const std::string& file) {
    std::vector<JsonlRecord> records;
    for (const auto& [line, text] : read_lines(file)) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        JsonlRecord r;
        r.file = file;
        r.line = line;
        try {
            r.value = parse_json(text, file); // nesting depth bounded (core/util/json_read.h)
        } catch (const JsonParseError& e) {
            r.fail("not valid JSON: " + e.detail());
        }
        if (!r.value.is_object()) r.fail("expected a JSON object");
        records.push_back(std::move(r));
    }
    if (records.empty()) throw Error(file + ": no JSON lines in the file");
    return records;
}

std::string combined_sha256(const std::vector<std::pair<std::string, std::string>>& files_with_sha) {
    if (files_with_sha.size() == 1) return files_with_sha.front().second;
    std::string listing;
    for (const auto& [file, sha] : files_with_sha)
        listing += sha + "  " + file + "\n";
    return sha256_hex(listing);
}

} // namespace rilq
