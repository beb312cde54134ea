// WinoGrande (winogrande_1.1 dev.jsonl: sentence, option1, option2, answer "1"/"2") as lm-eval's
// winogrande/preprocess_winogrande.py builds it - partial evaluation: the blank is filled with
// each option, and the model scores the same continuation (the rest of the sentence) under each:
//   idx          sentence.index("_")
//   contexts     sentence[:idx] + option1, sentence[:idx] + option2   (doc_to_choice)
//   continuation " " + sentence[idx + 1:].strip()                     (target_delimiter + doc_to_target)
//   gold         {"1": 0, "2": 1}[answer]
// Only acc is reported (no acc_norm), as lm-eval's default.yaml does.
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/python_text.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/sha256.h"

#include <filesystem>

namespace rilq {

McData read_winogrande(const std::string& file) {
    McData data;
    data.files.emplace_back(std::filesystem::path(file).filename().string(), sha256_file(file));
    int64_t index = 0;
    for (const JsonlRecord& r : read_jsonl(file)) {
        McDoc doc;
        doc.id = r.value.contains("qID") && r.value["qID"].is_string() ? r.value["qID"].get<std::string>()
                                                                       : std::to_string(index);
        ++index;
        const std::string sentence = r.string_field("sentence");
        const size_t blank = sentence.find('_');
        if (blank == std::string::npos) r.fail("sentence has no \"_\" blank");
        const std::string continuation = " " + py::strip(sentence.substr(blank + 1));
        for (const char* key : {"option1", "option2"}) {
            const std::string context = sentence.substr(0, blank) + r.string_field(key);
            doc.choices.push_back(context);
            doc.requests.push_back({context, continuation});
        }
        const std::string answer = r.string_field("answer");
        if (answer != "1" && answer != "2") r.fail("answer must be \"1\" or \"2\", found \"" + answer + "\"");
        doc.gold = answer == "1" ? 0 : 1;
        data.docs.push_back(std::move(doc));
    }
    return data;
}

} // namespace rilq
