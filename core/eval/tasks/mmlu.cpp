#include "core/eval/tasks/mmlu.h"

#include "core/eval/tasks/mmlu_categories.h"
#include "core/eval/tasks/pandas_csv.h"
#include "core/eval/tasks/prefix_cache.h"
#include "core/eval/tasks/task_scoring.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/did_you_mean.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

namespace fs = std::filesystem;

namespace rilq {

// ----------------------------------------------------------------------------
// data

std::vector<std::string> mmlu_subject_names(const std::string& dir) {
    const fs::path test_dir = fs::path(dir) / "test";
    std::error_code ec;
    if (!fs::is_directory(test_dir, ec))
        throw Error("mmlu: " + dir + " has no test/ folder (expected MMLU's data.tar layout: dev/, test/)");
    std::vector<std::string> names;
    const std::string suffix = "_test.csv";
    for (const auto& entry : fs::directory_iterator(test_dir)) {
        // evaluate_mmlu.py l. 375-381: f.split("_test.csv")[0] for files containing "_test.csv".
        const std::string file = entry.path().filename().string();
        const size_t at = file.find(suffix);
        if (at != std::string::npos) names.push_back(file.substr(0, at));
    }
    std::sort(names.begin(), names.end());
    if (names.empty()) throw Error("mmlu: " + test_dir.string() + " holds no <subject>_test.csv file");
    return names;
}

namespace {

std::vector<MmluRow> read_mmlu_rows(const std::string& file) {
    const CsvTable table = read_csv_like_pandas(file, 6);
    std::vector<MmluRow> rows;
    for (size_t i = 0; i < table.rows.size(); ++i) {
        MmluRow row{table.rows[i], table.lines[i], static_cast<int64_t>(i)};
        const std::string where = file + ":" + std::to_string(row.line);
        const std::string& answer = row.cells[5];
        if (answer.size() != 1 || answer[0] < 'A' || answer[0] > 'D')
            throw Error(where + ": answer \"" + answer + "\" is not one of A, B, C, D");
        // pandas reads an NA question as NaN, and the script's `prompt += ...` then fails.
        if (row.cells[0] == "nan") throw Error(where + ": the question cell is empty or an NA string");
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace

MmluData read_mmlu(const std::string& dir, int64_t shots, int64_t limit,
                   const std::vector<std::string>& subjects) {
    const std::vector<std::string> all = mmlu_subject_names(dir);
    // Sorted and once each, as the script walks them.
    std::vector<std::string> chosen = subjects.empty() ? all : subjects;
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (const std::string& s : chosen) {
        if (std::find(all.begin(), all.end(), s) != all.end()) continue;
        const std::string close = closest_match(s, all);
        throw Error("mmlu: no subject \"" + s + "\" in " + dir + "/test" +
                    (close.empty() ? std::string() : " (did you mean \"" + close + "\"?)"));
    }
    MmluData data;
    for (const std::string& name : chosen) {
        MmluSubject subject;
        subject.name = name;
        const std::string dev_rel = "dev/" + name + "_dev.csv", test_rel = "test/" + name + "_test.csv";
        const std::string dev_file = (fs::path(dir) / dev_rel).string(),
                          test_file = (fs::path(dir) / test_rel).string();
        if (!fs::exists(dev_file))
            throw Error("mmlu: " + dev_file +
                        " is missing (the shots of every test subject come from its dev file)");
        subject.shots = read_mmlu_rows(dev_file);
        if (static_cast<int64_t>(subject.shots.size()) < shots)
            throw Error("mmlu: " + dev_file + " has " + std::to_string(subject.shots.size()) +
                        " rows, fewer than " + std::to_string(shots) + " shots");
        subject.shots.resize(static_cast<size_t>(shots));
        subject.questions = read_mmlu_rows(test_file);
        if (subject.questions.empty()) throw Error("mmlu: " + test_file + " has no rows");
        if (limit > 0 && static_cast<int64_t>(subject.questions.size()) > limit)
            subject.questions.resize(static_cast<size_t>(limit));
        data.files.emplace_back(dev_rel, sha256_file(dev_file));
        data.files.emplace_back(test_rel, sha256_file(test_file));
        data.subjects.push_back(std::move(subject));
    }
    return data;
}

// ----------------------------------------------------------------------------
// prompt

std::string mmlu_header(const std::string& subject) {
    // format_subject (l. 282-287): " " before each word of the name, so "about" + " " + " abstract algebra".
    std::string words;
    size_t start = 0;
    while (true) {
        const size_t underscore = subject.find('_', start);
        words += " " + subject.substr(start, underscore == std::string::npos ? std::string::npos
                                                                             : underscore - start);
        if (underscore == std::string::npos) break;
        start = underscore + 1;
    }
    return "The following are multiple choice questions (with answers) about " + words + ".\n\n";
}

std::string mmlu_format_example(const MmluRow& row, bool include_answer) {
    static const char* const letters[] = {"A", "B", "C", "D"};
    std::string prompt = row.cells[0];
    for (size_t j = 0; j < 4; ++j)
        prompt += std::string("\n") + letters[j] + ". " + row.cells[j + 1];
    prompt += "\nAnswer:";
    if (include_answer) prompt += " " + row.cells[5] + "\n\n";
    return prompt;
}

std::string mmlu_prefix(const MmluSubject& subject, int64_t k) {
    std::string prompt = mmlu_header(subject.name);
    for (int64_t i = 0; i < k; ++i)
        prompt += mmlu_format_example(subject.shots[static_cast<size_t>(i)], true);
    return prompt;
}

MmluPrompt fit_mmlu_prompt(const Tokenizer& tokenizer, const MmluSubject& subject, size_t question,
                           int64_t shots, int64_t max_length, bool bos) {
    const std::string ending = mmlu_format_example(subject.questions[question], false);
    MmluPrompt p;
    p.shots = shots;
    while (true) {
        p.ids = tokenizer.encode(mmlu_prefix(subject, p.shots) + ending, bos);
        if (static_cast<int64_t>(p.ids.size()) <= max_length) return p;
        if (p.shots == 0) break;
        --p.shots; // l. 327-333: drop the last shot and re-tokenize
    }
    p.truncated = true;
    p.ids.erase(p.ids.begin(), p.ids.end() - max_length);
    return p;
}

std::vector<int64_t> mmlu_letter_ids(const Tokenizer& tokenizer) {
    std::vector<int64_t> ids;
    for (const char* letter : {"A", "B", "C", "D"}) {
        const auto encoded = tokenizer.encode(letter, true);
        if (encoded.empty())
            throw Error(std::string("mmlu: the tokenizer encodes \"") + letter + "\" to nothing");
        ids.push_back(encoded.back());
    }
    return ids;
}

// ----------------------------------------------------------------------------
// evaluation

namespace {

const char* const kMmluScoring =
    "IR-QLoRA evaluate_mmlu.py (htqin/IR-QLoRA e6fef4ac, hendrycks/test prompt): header + k dev shots + "
    "question, CSV cells as pandas 2.x prints them, shots dropped from the end while the prompt exceeds "
    "max_length tokens (0-shot prompts still too long keep their last max_length tokens), softmax over the "
    "last-position logits of tokenizer('A'..'D')[-1], argmax (first on ties); micro accuracy over questions";

class MmluTask : public Task {
  public:
    MmluTask(TaskInfo info, TaskSpec spec, MmluData data, int64_t shots)
        : info_(std::move(info)), spec_(std::move(spec)), data_(std::move(data)), shots_(shots) {}

    const TaskInfo& info() const override { return info_; }
    int64_t item_count() const override {
        int64_t n = 0;
        for (const auto& s : data_.subjects)
            n += static_cast<int64_t>(s.questions.size());
        return n;
    }
    TaskResult evaluate(const LlamaModel& model, const Tokenizer& tokenizer, const TaskRunOptions& options,
                        const ProgressSink& progress) const override;

  private:
    TaskInfo info_;
    TaskSpec spec_;
    MmluData data_;
    int64_t shots_;
};

// The questions of one subject that share (shots, reused prefix length), in a run order.
struct QuestionGroup {
    int64_t shots = 0;
    size_t shared = 0; // tokens taken from the prefix cache (0: none)
    std::vector<size_t> questions;
};

// Scores one subject's questions; fills items[q].scores / pred.
void score_subject(const LlamaModel& model, const Tokenizer& tokenizer, const TaskRunOptions& options,
                   const MmluSubject& subject, const std::vector<MmluPrompt>& prompts, bool bos,
                   const torch::Tensor& letter_head, std::vector<ItemRecord>& items,
                   const std::function<void(int64_t)>& on_scored) {
    // Prefix ids per shot count, and how many of them each question can reuse.
    std::map<int64_t, std::vector<int64_t>> prefix_ids;
    std::map<std::pair<int64_t, size_t>, QuestionGroup> groups;
    std::map<int64_t, size_t> longest_shared;
    for (size_t q = 0; q < prompts.size(); ++q) {
        const MmluPrompt& p = prompts[q];
        size_t shared = 0;
        if (options.prefix_reuse && !p.truncated) {
            auto it = prefix_ids.find(p.shots);
            if (it == prefix_ids.end())
                it = prefix_ids.emplace(p.shots, tokenizer.encode(mmlu_prefix(subject, p.shots), bos)).first;
            // The scored position (the last) must run in the question's own row.
            shared = std::min(common_prefix_length(it->second, p.ids), p.ids.size() - 1);
        }
        QuestionGroup& g = groups[{shared > 0 ? p.shots : -1, shared}];
        g.shots = p.shots;
        g.shared = shared;
        g.questions.push_back(q);
        if (shared > 0) longest_shared[p.shots] = std::max(longest_shared[p.shots], shared);
    }
    std::map<int64_t, KvCache> caches;
    for (const auto& [shots, longest] : longest_shared) {
        const auto& ids = prefix_ids[shots];
        caches[shots] = run_prefix(
            model, std::vector<int64_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(longest)));
    }
    for (auto& [key, group] : groups) {
        KvCache past;
        if (group.shared > 0) past = caches[group.shots].first(static_cast<int64_t>(group.shared));
        // Shortest rows first, so a batch pads little.
        std::stable_sort(group.questions.begin(), group.questions.end(),
                         [&](size_t a, size_t b) { return prompts[a].ids.size() < prompts[b].ids.size(); });
        std::vector<size_t> lengths;
        for (size_t q : group.questions)
            lengths.push_back(prompts[q].ids.size() - group.shared);
        // Rows continuing a cached prefix run one per forward: a batch expands the batch-1 past into
        // every row, and measured slower (`rilq bench tasks`, random dim-512, 2 subjects x 25
        // questions, 1 thread: 13.1 questions/s one by one, 7.3 in batches of 16).
        const int64_t rows_per_forward = group.shared > 0 ? 1 : options.batch_size;
        for (const auto& batch : plan_batches(lengths, rows_per_forward, options.batch_tokens)) {
            std::vector<std::vector<int64_t>> rows, positions;
            for (size_t b : batch) {
                const auto& ids = prompts[group.questions[b]].ids;
                rows.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(group.shared), ids.end());
                positions.push_back({static_cast<int64_t>(rows.back().size()) - 1});
            }
            const auto hidden =
                hidden_at(model, group.shared > 0 ? &past : nullptr, rows, positions); // (B, C)
            // Only the four letter columns of the logits are needed: (B, C) x (C, 4).
            const auto logits = torch::matmul(hidden, letter_head.t()).to(torch::kFloat32); // (B, 4)
            const auto probs = torch::softmax(logits, -1).to(torch::kCPU).contiguous();
            const auto pa = probs.accessor<float, 2>();
            for (size_t b = 0; b < batch.size(); ++b) {
                ItemRecord& item = items[group.questions[batch[b]]];
                item.scores.assign(4, 0.0);
                for (int64_t j = 0; j < 4; ++j)
                    item.scores[static_cast<size_t>(j)] = pa[static_cast<int64_t>(b)][j];
                item.pred = argmax_first(item.scores);
            }
            on_scored(static_cast<int64_t>(batch.size()));
        }
    }
}

std::vector<GroupScore> mmlu_group_scores(const std::vector<std::string>& order,
                                          const std::map<std::string, std::vector<double>>& cors) {
    std::vector<GroupScore> out;
    for (const std::string& name : order) {
        const auto it = cors.find(name);
        if (it == cors.end() || it->second.empty()) continue;
        out.push_back({name, static_cast<int64_t>(it->second.size()), mean_of(it->second)});
    }
    return out;
}

TaskResult MmluTask::evaluate(const LlamaModel& model, const Tokenizer& tokenizer,
                              const TaskRunOptions& options, const ProgressSink& progress) const {
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const bool bos = spec_.bos.value_or(info_.default_bos);
    const int64_t max_length = std::min(kMmluMaxLength, model.config().max_position_embeddings);
    const auto letters = mmlu_letter_ids(tokenizer);
    for (int64_t id : letters)
        if (id < 0 || id >= model.config().vocab_size)
            throw Error("mmlu: letter token id " + std::to_string(id) +
                        " is outside the model's vocabulary of " + std::to_string(model.config().vocab_size) +
                        " (tokenizer and model do not belong together)");
    const auto letter_head = model.lm_head_weight().index_select(
        0, torch::tensor(letters, torch::kInt64).to(model.lm_head_weight().device()));

    TaskResult result;
    result.protocol =
        base_protocol(info_, spec_, data_.files, tokenizer, shots_, item_count(), max_length, kMmluScoring);
    TaskProtocol& p = result.protocol;

    const int64_t total = item_count();
    int64_t done = 0;
    std::map<std::string, std::vector<double>> by_subject, by_subcategory, by_category;
    std::vector<double> all;
    std::vector<std::string> subject_order;
    for (const MmluSubject& subject : data_.subjects) {
        p.subjects.push_back(subject.name);
        subject_order.push_back(subject.name);
        const std::string stage = "mmlu " + subject.name;
        std::vector<MmluPrompt> prompts;
        std::vector<ItemRecord> items(subject.questions.size());
        for (size_t q = 0; q < subject.questions.size(); ++q) {
            progress.check_cancel();
            prompts.push_back(fit_mmlu_prompt(tokenizer, subject, q, shots_, max_length, bos));
            ItemRecord& item = items[q];
            item.id = subject.name + "/" + std::to_string(subject.questions[q].row);
            item.shots = prompts.back().shots;
            item.prompt_tokens = static_cast<int64_t>(prompts.back().ids.size());
            item.truncated = prompts.back().truncated;
            item.gold = subject.gold(q);
            if (item.shots < shots_) ++p.n_fewer_shots;
            if (item.truncated) ++p.n_truncated;
        }
        score_subject(model, tokenizer, options, subject, prompts, bos, letter_head, items, [&](int64_t n) {
            progress.check_cancel();
            done += n;
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            progress.report({stage, done, total, "questions", elapsed,
                             elapsed / static_cast<double>(done) * static_cast<double>(total - done)});
        });
        const std::string subcategory = mmlu_subcategory(subject.name);
        const std::string category = mmlu_category(subcategory);
        for (ItemRecord& item : items) {
            const double correct = item.pred == item.gold ? 1.0 : 0.0;
            all.push_back(correct);
            by_subject[subject.name].push_back(correct);
            if (!subcategory.empty()) by_subcategory[subcategory].push_back(correct);
            if (!category.empty()) by_category[category].push_back(correct);
            result.items.push_back(std::move(item));
        }
    }
    std::vector<std::string> subcategory_order, category_order;
    for (const auto& [category, subs] : mmlu_categories()) {
        category_order.push_back(category);
        for (const auto& s : subs)
            subcategory_order.push_back(s);
    }
    result.n = total;
    result.acc = mean_of(all);
    result.acc_stderr = mean_stderr(all);
    result.acc_norm = result.acc_norm_stderr = std::numeric_limits<double>::quiet_NaN();
    result.subjects = mmlu_group_scores(subject_order, by_subject);
    result.subcategories = mmlu_group_scores(subcategory_order, by_subcategory);
    result.categories = mmlu_group_scores(category_order, by_category);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.items_per_s = result.seconds > 0 ? static_cast<double>(total) / result.seconds : 0.0;
    return result;
}

} // namespace

std::unique_ptr<Task> make_mmlu_task(const TaskInfo& info, const TaskSpec& spec) {
    const int64_t shots = spec.shots < 0 ? info.default_shots : spec.shots;
    std::error_code ec;
    if (!fs::is_directory(spec.path, ec))
        throw Error("mmlu: " + spec.path +
                    " is not a folder (give MMLU's data folder, holding dev/ and test/)");
    return std::make_unique<MmluTask>(info, spec, read_mmlu(spec.path, shots, spec.limit, spec.subjects),
                                      shots);
}

} // namespace rilq
