// ARC-Easy / ARC-Challenge (AI2 release JSON Lines) as lm-eval's arc_easy.yaml builds them:
//   context  "Question: " + question.stem + "\nAnswer:"
//   choices  question.choices[*].text in file order, each continued as " " + text
//   gold     the index of answerKey among question.choices[*].label (labels are A-E or 1-5)
// HF allenai/ai2_arc, which lm-eval reads, maps these fields one to one.
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/sha256.h"

#include <filesystem>

namespace rilq {

McData read_arc(const std::string& file) {
    McData data;
    data.files.emplace_back(std::filesystem::path(file).filename().string(), sha256_file(file));
    for (const JsonlRecord& r : read_jsonl(file)) {
        McDoc doc;
        doc.id = r.string_field("id");
        const std::string context = "Question: " + r.string_field("question.stem") + "\nAnswer:";
        const auto& choices = r.field("question.choices", nlohmann::json::value_t::array);
        const std::string answer = r.string_field("answerKey");
        doc.gold = -1;
        for (size_t i = 0; i < choices.size(); ++i) {
            if (!choices[i].is_object() || !choices[i].contains("text") || !choices[i]["text"].is_string() ||
                !choices[i].contains("label") || !choices[i]["label"].is_string())
                r.fail("question.choices[" + std::to_string(i) +
                       "] needs string fields \"text\" and \"label\"");
            const std::string text = choices[i]["text"].get<std::string>();
            doc.choices.push_back(text);
            doc.requests.push_back({context, " " + text});
            if (choices[i]["label"].get<std::string>() == answer && doc.gold < 0)
                doc.gold = static_cast<int64_t>(i);
        }
        if (doc.choices.size() < 2) r.fail("question.choices has fewer than 2 entries");
        if (doc.gold < 0) r.fail("answerKey \"" + answer + "\" is not one of the choice labels");
        data.docs.push_back(std::move(doc));
    }
    return data;
}

} // namespace rilq
