// Reading task data files: a folder resolved to the task's standard file name, JSON Lines
// with every error naming the file and line, typed field access, and the data hash recorded
// in the protocol.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rilq {

// A file is returned as is; a folder resolves to folder/default_file. Error naming the task
// and the path when neither exists.
std::string resolve_task_file(const std::string& task, const std::string& path,
                              const std::string& default_file);

struct JsonlRecord {
    std::string file;
    int64_t line = 0; // 1-based
    nlohmann::json value;

    // The member at a dotted path ("question.stem") with the given type; Error "file:line: ..."
    // when it is missing or of another type.
    const nlohmann::json& field(const std::string& dotted, nlohmann::json::value_t type) const;
    std::string string_field(const std::string& dotted) const;
    [[noreturn]] void fail(const std::string& message) const;
};

// The file's lines (without "\n"; a final line without one included) with their 1-based numbers.
std::vector<std::pair<int64_t, std::string>> read_lines(const std::string& file);

// One JSON object per non-blank line.
std::vector<JsonlRecord> read_jsonl(const std::string& file);

// The whole file as bytes; Error naming it when unreadable.
std::string read_task_file(const std::string& file);

// One file: its sha256; several: the sha256 of their "sha256  name\n" lines (sha256sum's format).
std::string combined_sha256(const std::vector<std::pair<std::string, std::string>>& files_with_sha);

} // namespace rilq
