// BoolQ (SuperGLUE BoolQ/val.jsonl: question, passage, idx, label true/false) as lm-eval's
// super_glue/boolq/default.yaml builds it:
//   context  passage + "\nQuestion: " + question + "?\nAnswer:"
//   choices  "no", "yes", each continued as " " + choice
//   gold     label: false -> 0, true -> 1 (a JSON boolean, as the original file has it)
// Only acc is reported, as lm-eval does.
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/sha256.h"

#include <filesystem>

namespace rilq {

McData read_boolq(const std::string& file) {
    McData data;
    data.files.emplace_back(std::filesystem::path(file).filename().string(), sha256_file(file));
    int64_t index = 0;
    for (const JsonlRecord& r : read_jsonl(file)) {
        McDoc doc;
        doc.id = r.value.contains("idx") ? r.value["idx"].dump() : std::to_string(index);
        ++index;
        const std::string context =
            r.string_field("passage") + "\nQuestion: " + r.string_field("question") + "?\nAnswer:";
        for (const char* choice : {"no", "yes"}) {
            doc.choices.emplace_back(choice);
            doc.requests.push_back({context, std::string(" ") + choice});
        }
        doc.gold = r.field("label", nlohmann::json::value_t::boolean).get<bool>() ? 1 : 0;
        data.docs.push_back(std::move(doc));
    }
    return data;
}

} // namespace rilq
