// MMLU k-shot exactly as IR-QLoRA's evaluate_mmlu.py runs it (shared/data/mmlu/PROTOCOL.md,
// blob 363603b4, line numbers there):
//   data      DIR/dev/<s>_dev.csv and DIR/test/<s>_test.csv read as pandas 2.x reads them
//             (pandas_csv.h); subjects = sorted names of the test files (l. 375-381); the shots
//             are the first k dev rows, the same for every question of a subject (l. 395-400)
//   prompt    "The following are multiple choice questions (with answers) about" + " w1 w2 ..."
//             + ".\n\n" (two spaces), then per shot question + "\nA. " A ... "\nD. " D +
//             "\nAnswer: " letter + "\n\n", then the question ending in "\nAnswer:" (l. 282-323)
//   length    BOS + prompt; while longer than max_length = min(2048, model context) tokens, the
//             last shot is dropped (l. 327-333). Where even 0 shots are too long (a model with a
//             short context: stories260K has 512) the last max_length tokens are kept and the
//             item is counted as truncated (the script would loop forever there).
//   score     one forward; softmax over the last position's logits of the ids
//             tokenizer("A")[-1] .. tokenizer("D")[-1]; prediction = argmax, first on ties
//             (l. 337-357)
//   metrics   micro accuracy over all questions (the "MMLU" number), per subject, per
//             subcategory and per category of categories.py (l. 361, 422-434)
// Fast path: every question of a subject with the same number of shots starts with the same
// header + shots; those tokens run once and each question continues from their keys/values,
// in right-padded batches (prefix_cache.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/tasks/task.h"

namespace rilq {

// One CSV row: question, A, B, C, D, answer, as "{}".format prints them.
struct MmluRow {
    std::vector<std::string> cells;
    int64_t line = 0; // where the record starts in its file
    int64_t row = 0;  // 0-based data row
};

struct MmluSubject {
    std::string name;               // "abstract_algebra"
    std::vector<MmluRow> shots;     // the first k dev rows
    std::vector<MmluRow> questions; // test rows (the first `limit`)
    int64_t gold(size_t question) const { return questions[question].cells[5][0] - 'A'; }
};

struct MmluData {
    std::vector<MmluSubject> subjects;
    std::vector<std::pair<std::string, std::string>> files; // ("dev/x_dev.csv", sha256), ...
};

// Sorted subject names of DIR/test/*_test.csv; Error when the folder has none.
std::vector<std::string> mmlu_subject_names(const std::string& dir);
// Reads and checks the subjects (all when `subjects` is empty): 6 fields per row, answers A-D,
// a dev file with at least `shots` rows for every subject, a question cell that is not NaN.
MmluData read_mmlu(const std::string& dir, int64_t shots, int64_t limit,
                   const std::vector<std::string>& subjects);

std::string mmlu_header(const std::string& subject);
std::string mmlu_format_example(const MmluRow& row, bool include_answer);
// header + the first k shots (the prefix every question of the subject shares at k shots).
std::string mmlu_prefix(const MmluSubject& subject, int64_t k);

struct MmluPrompt {
    std::vector<int64_t> ids; // what the model is fed (BOS included by the rule)
    int64_t shots = 0;
    bool truncated = false;
};
MmluPrompt fit_mmlu_prompt(const Tokenizer& tokenizer, const MmluSubject& subject, size_t question,
                           int64_t shots, int64_t max_length, bool bos);

// tokenizer("A").input_ids[-1] .. ("D"): 319, 350, 315, 360 for Llama-2 (the "▁A" pieces).
std::vector<int64_t> mmlu_letter_ids(const Tokenizer& tokenizer);

// IR-QLoRA uses 2048; models with a shorter context use theirs.
constexpr int64_t kMmluMaxLength = 2048;

std::unique_ptr<Task> make_mmlu_task(const TaskInfo& info, const TaskSpec& spec);

} // namespace rilq
