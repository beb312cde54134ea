// HellaSwag (rowanz/hellaswag hellaswag_val.jsonl: activity_label, ctx_a, ctx_b, endings, label)
// as lm-eval's hellaswag/utils.py process_docs builds it:
//   ctx      ctx_a + " " + ctx_b.capitalize()
//   context  preprocess(activity_label + ": " + ctx)
//   choices  preprocess(ending) for the 4 endings, each continued as " " + choice
//   gold     int(label)
// preprocess: strip(); replace(" [title]", ". "); re.sub("\\[.*?\\]", ""); replace("  ", " ").
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/python_text.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/sha256.h"

#include <filesystem>

namespace rilq {

namespace {

// Python's str.replace: every non-overlapping occurrence, left to right, in one pass.
std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
    std::string out;
    size_t start = 0;
    while (true) {
        const size_t hit = text.find(from, start);
        if (hit == std::string::npos) break;
        out.append(text, start, hit - start);
        out += to;
        start = hit + from.size();
    }
    out.append(text, start, std::string::npos);
    return out;
}

// re.sub("\\[.*?\\]", "", text): '.' does not match a newline, so a '[' whose next ']' comes
// after a line break is kept (and the search goes on from the next character).
std::string remove_bracketed(const std::string& text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '[') {
            size_t j = i + 1;
            while (j < text.size() && text[j] != ']' && text[j] != '\n')
                ++j;
            if (j < text.size() && text[j] == ']') {
                i = j + 1;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

} // namespace

std::string hellaswag_preprocess(const std::string& text) {
    std::string t = py::strip(text);
    t = replace_all(t, " [title]", ". ");
    t = remove_bracketed(t);
    return replace_all(t, "  ", " ");
}

McData read_hellaswag(const std::string& file) {
    McData data;
    data.files.emplace_back(std::filesystem::path(file).filename().string(), sha256_file(file));
    int64_t index = 0;
    for (const JsonlRecord& r : read_jsonl(file)) {
        McDoc doc;
        doc.id = r.value.contains("ind") ? r.value["ind"].dump() : std::to_string(index);
        ++index;
        const std::string ctx = r.string_field("ctx_a") + " " + py::capitalize(r.string_field("ctx_b"));
        const std::string context = hellaswag_preprocess(r.string_field("activity_label") + ": " + ctx);
        const auto& endings = r.field("endings", nlohmann::json::value_t::array);
        for (size_t i = 0; i < endings.size(); ++i) {
            if (!endings[i].is_string()) r.fail("endings[" + std::to_string(i) + "] is not a string");
            const std::string choice = hellaswag_preprocess(endings[i].get<std::string>());
            doc.choices.push_back(choice);
            doc.requests.push_back({context, " " + choice});
        }
        if (doc.choices.size() < 2) r.fail("endings has fewer than 2 entries");
        // The original file stores label as a number; HF's copy as a string of digits.
        if (!r.value.contains("label")) r.fail("no field \"label\"");
        const auto& label = r.value["label"];
        if (label.is_number_integer()) {
            doc.gold = label.get<int64_t>();
        } else if (label.is_string() && !label.get<std::string>().empty() &&
                   label.get<std::string>().find_first_not_of("0123456789") == std::string::npos) {
            doc.gold = std::stoll(label.get<std::string>());
        } else {
            r.fail("label must be an integer (or a string of digits), found " + label.dump());
        }
        if (doc.gold < 0 || doc.gold >= static_cast<int64_t>(doc.choices.size()))
            r.fail("label " + std::to_string(doc.gold) + " is outside the " +
                   std::to_string(doc.choices.size()) + " endings");
        data.docs.push_back(std::move(doc));
    }
    return data;
}

} // namespace rilq
