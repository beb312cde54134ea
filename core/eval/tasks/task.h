// Downstream accuracy tasks: what a caller (the CLI, a runner stage) asks for, what it gets
// back, the one list of tasks, and the interface each task implements.
//
//   mmlu                      IR-QLoRA's evaluate_mmlu.py, byte for byte (mmlu.h)
//   arc_easy, arc_challenge,  zero-shot multiple choice scored as lm-evaluation-harness
//   piqa, hellaswag,          scores it (multiple_choice.h; one reader file per task:
//   winogrande, boolq         arc.cpp, piqa.cpp, hellaswag.cpp, winogrande.cpp, boolq.cpp)
//
// Flow: parse_task_spec("arc_easy=FILE") -> load_task(spec) reads and checks every file before
// any model work (errors name the file and line) -> Task::evaluate(model, tokenizer, ...) ->
// TaskResult with the accuracies and the protocol they were measured under.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/util/progress.h"

namespace rilq {

class LlamaModel;
class Tokenizer;

enum class TaskFamily {
    Mmlu,           // k-shot, 4 letters scored at the last prompt position
    MultipleChoice, // zero-shot, log-likelihood of each choice's continuation
};

struct TaskInfo {
    std::string name; // "mmlu", "arc_easy", ...
    TaskFamily family = TaskFamily::MultipleChoice;
    std::string summary;      // one line for help texts
    std::string data_format;  // what PATH must be
    std::string default_file; // looked up when PATH is a folder ("" for mmlu: the folder itself)
    std::string shared_path;  // where ../shared/data keeps it ("" when it does not)
    int64_t default_shots = 0;
    bool has_acc_norm = true;
    bool default_bos = false; // mmlu: BOS (HF tokenizer default); lm-eval up to 0.4.9.1: none
};

// The one list of tasks; help texts, validation and exports read it.
const std::vector<TaskInfo>& task_infos();
// Error naming the value, the known names and the closest one.
const TaskInfo& task_info(const std::string& name);

// What to evaluate.
struct TaskSpec {
    std::string name;                  // a task_infos() name
    std::string path;                  // file or folder (see TaskInfo::data_format)
    int64_t shots = -1;                // -1: the task's default (mmlu 5, others 0)
    int64_t limit = 0;                 // first N items (mmlu: per subject); 0: all
    std::vector<std::string> subjects; // mmlu only; empty: all subjects of the folder
    std::optional<bool> bos;           // unset: the task's default
};

// "NAME=PATH"; errors for a missing '=', an unknown name, an empty path.
TaskSpec parse_task_spec(const std::string& arg);

// How to compute (never changes a result beyond float rounding).
struct TaskRunOptions {
    bool prefix_reuse = true;    // run a shared prefix once and reuse its keys/values
    int64_t batch_size = 16;     // mmlu questions / choice rows per forward
    int64_t batch_tokens = 8192; // and at most this many padded tokens (beyond a single row)
};

// One scored item, as lm-eval's --log_samples writes it.
struct ItemRecord {
    std::string id;            // mmlu "<subject>/<row>"; otherwise the doc's id or index
    int64_t shots = 0;         // mmlu: shots the prompt kept
    int64_t prompt_tokens = 0; // mmlu: tokens fed; multiple choice: context tokens (first request)
    bool truncated = false;    // mmlu: the 0-shot prompt was too long and lost its start
    int64_t gold = 0;
    int64_t pred = 0;                         // argmax of scores, first index on ties
    int64_t pred_norm = -1;                   // argmax of scores / choice length (-1 where not computed)
    std::vector<double> scores;               // mmlu: softmax of the A..D logits; otherwise log-likelihoods
    std::vector<int64_t> continuation_tokens; // multiple choice: tokens scored per choice
    std::vector<bool> is_greedy;              // multiple choice: every continuation token was the argmax
};

struct GroupScore {
    std::string name;
    int64_t n = 0;
    double acc = 0.0;
};

// Everything that decides a number, stored with it.
struct TaskProtocol {
    std::string task;
    std::string path;                                       // as given
    std::vector<std::pair<std::string, std::string>> files; // (file read, sha256), in reading order
    std::string data_sha256; // one file: its sha256; several: sha256 of "sha  file\n" lines
    int64_t shots = 0;
    int64_t limit = 0;
    std::vector<std::string> subjects; // mmlu: the subjects evaluated
    int64_t n_items = 0;
    std::string tokenizer_kind, tokenizer_path;
    std::string bos_rule;      // "bos" or "none"
    int64_t max_length = 0;    // tokens a prompt may have
    int64_t n_fewer_shots = 0; // mmlu: prompts that dropped shots to fit max_length
    int64_t n_truncated = 0;   // mmlu: 0-shot prompts cut to their last max_length tokens
    std::string scoring;       // one paragraph: the reference code followed
};

struct TaskResult {
    TaskProtocol protocol;
    int64_t n = 0;
    double acc = 0.0, acc_stderr = 0.0;
    double acc_norm = 0.0, acc_norm_stderr = 0.0;                // NaN for tasks without acc_norm
    std::vector<GroupScore> subjects, subcategories, categories; // mmlu only
    std::vector<ItemRecord> items;
    double seconds = 0.0;
    double items_per_s = 0.0;
};

// nlohmann hooks; a TaskResult's JSON leaves out the items (see sample_log.h for those).
void to_json(nlohmann::json& j, const TaskProtocol& protocol);
void to_json(nlohmann::json& j, const TaskResult& result);

class Task {
  public:
    virtual ~Task() = default;
    virtual const TaskInfo& info() const = 0;
    virtual int64_t item_count() const = 0;
    // Scores every item. Progress in items; the cancel flag is honoured between forwards
    // (rilq::Cancelled).
    virtual TaskResult evaluate(const LlamaModel& model, const Tokenizer& tokenizer,
                                const TaskRunOptions& options, const ProgressSink& progress = {}) const = 0;
};

// Reads and validates the task's data; nothing of the model is touched.
std::unique_ptr<Task> load_task(const TaskSpec& spec);

// For task implementations: the protocol fields every task fills alike (the rest - subjects,
// counts of shortened prompts - is the task's own).
TaskProtocol base_protocol(const TaskInfo& info, const TaskSpec& spec,
                           const std::vector<std::pair<std::string, std::string>>& files,
                           const Tokenizer& tokenizer, int64_t shots, int64_t n_items, int64_t max_length,
                           std::string scoring);

} // namespace rilq
