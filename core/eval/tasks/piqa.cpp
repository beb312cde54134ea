// PIQA as lm-eval's piqa.yaml builds it:
//   context  "Question: " + goal + "\nAnswer:"
//   choices  sol1, sol2 (used as they are: some end in a space), each continued as " " + sol
//   gold     the label: a "label" field of the line when present, else line i of the labels file
//            published beside the data (valid.jsonl -> valid-labels.lst, dev.jsonl -> dev-labels.lst)
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

namespace {

// One 0/1 label per line.
std::vector<int64_t> read_labels(const std::string& file) {
    std::vector<int64_t> labels;
    for (auto [line, text] : read_lines(file)) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text != "0" && text != "1")
            throw Error(file + ":" + std::to_string(line) + ": expected a label 0 or 1, found \"" + text +
                        "\"");
        labels.push_back(text == "1" ? 1 : 0);
    }
    return labels;
}

} // namespace

McData read_piqa(const std::string& file) {
    const std::vector<JsonlRecord> records = read_jsonl(file);
    McData data;
    data.files.emplace_back(fs::path(file).filename().string(), sha256_file(file));
    const bool inline_labels = records.front().value.contains("label");
    std::vector<int64_t> labels;
    if (!inline_labels) {
        const fs::path p(file);
        const std::string labels_file = (p.parent_path() / (p.stem().string() + "-labels.lst")).string();
        if (!fs::exists(labels_file))
            throw Error("piqa: " + file + " has no \"label\" fields and its labels file " + labels_file +
                        " is missing");
        labels = read_labels(labels_file);
        if (labels.size() != records.size())
            throw Error("piqa: " + labels_file + " has " + std::to_string(labels.size()) + " labels for " +
                        std::to_string(records.size()) + " lines of " + file);
        data.files.emplace_back(fs::path(labels_file).filename().string(), sha256_file(labels_file));
    }
    for (size_t i = 0; i < records.size(); ++i) {
        const JsonlRecord& r = records[i];
        McDoc doc;
        doc.id = std::to_string(i);
        const std::string context = "Question: " + r.string_field("goal") + "\nAnswer:";
        for (const char* key : {"sol1", "sol2"}) {
            const std::string sol = r.string_field(key);
            doc.choices.push_back(sol);
            doc.requests.push_back({context, " " + sol});
        }
        if (inline_labels) {
            doc.gold = r.field("label", nlohmann::json::value_t::number_integer).get<int64_t>();
            if (doc.gold != 0 && doc.gold != 1) r.fail("label must be 0 or 1");
        } else {
            doc.gold = labels[i];
        }
        data.docs.push_back(std::move(doc));
    }
    return data;
}

} // namespace rilq
