#include "core/finetune/alpaca_data.h"

#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace rilq {

namespace {

// `where` is "record 17 ($[17])" or "line 18 ($)": the JSON path of the record's object.
AlpacaRecord record_from_json(const nlohmann::json& j, const std::string& source, const std::string& where,
                              const std::string& path) {
    if (!j.is_object())
        throw Error(source + ": " + where + " (" + path +
                    "): expected an object with instruction, input and output, "
                    "found " +
                    std::string(j.type_name()));
    auto text = [&](const char* key, bool required) -> std::string {
        const auto it = j.find(key);
        if (it == j.end()) {
            if (required)
                throw Error(source + ": " + where + " (" + path + "): missing field \"" + key + "\"");
            return {};
        }
        if (!it->is_string())
            throw Error(source + ": " + where + " (" + path + "." + key + "): expected a string, found " +
                        json_excerpt(*it, 60));
        return it->get<std::string>();
    };
    AlpacaRecord r;
    r.instruction = text("instruction", true);
    r.input = text("input", false);
    r.output = text("output", true);
    return r;
}

std::vector<AlpacaRecord> parse_array(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = parse_json(text, source); // nesting depth bounded (core/util/json_read.h)
    } catch (const JsonParseError& e) {
        throw Error(source + ": not valid JSON: " + e.detail());
    }
    if (!j.is_array()) throw Error(source + ": expected a JSON array of Alpaca records");
    std::vector<AlpacaRecord> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
        const std::string index = std::to_string(i);
        out.push_back(record_from_json(j[i], source, "record " + index, "$[" + index + "]"));
    }
    return out;
}

std::vector<AlpacaRecord> parse_lines(const std::string& text, const std::string& source) {
    std::vector<AlpacaRecord> out;
    std::istringstream in(text);
    std::string line;
    for (size_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j;
        try {
            j = parse_json(line, source);
        } catch (const JsonParseError& e) {
            throw Error(source + ": line " + std::to_string(number) + ": not valid JSON: " + e.detail());
        }
        out.push_back(record_from_json(j, source, "line " + std::to_string(number), "$"));
    }
    return out;
}

} // namespace

std::vector<AlpacaRecord> parse_alpaca_text(const std::string& text, const std::string& source_name) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) throw Error(source_name + ": empty file, expected Alpaca records");
    std::vector<AlpacaRecord> records;
    if (text[first] == '[')
        records = parse_array(text, source_name);
    else if (text[first] == '{')
        records = parse_lines(text, source_name);
    else
        throw Error(source_name +
                    ": expected a JSON array of Alpaca records or JSON Lines, found a file starting with '" +
                    std::string(1, text[first]) + "'");
    if (records.empty()) throw Error(source_name + ": no Alpaca records");
    return records;
}

std::vector<AlpacaRecord> read_alpaca_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open Alpaca data file " + path);
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw Error("cannot read Alpaca data file " + path);
    return parse_alpaca_text(content.str(), path);
}

} // namespace rilq
