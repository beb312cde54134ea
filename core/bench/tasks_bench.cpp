#include "core/bench/tasks_bench.h"

#include "core/eval/tasks/task.h"
#include "core/io/model_loader.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"

#include <algorithm>
#include <cmath>

namespace rilq {

namespace {

TasksBenchRow measure_mmlu_speed(const std::string& name, const LlamaModel& model, const Tokenizer& tokenizer,
                                 const TasksBenchOptions& o, const ProgressSink& progress) {
    TaskSpec spec;
    spec.name = "mmlu";
    spec.path = o.mmlu_dir;
    spec.subjects = o.subjects;
    spec.limit = o.limit;
    spec.shots = o.shots;
    const auto task = load_task(spec);
    TaskRunOptions plain;
    plain.prefix_reuse = false;
    plain.batch_size = 1;
    const TaskRunOptions reuse;
    const TaskResult a = task->evaluate(model, tokenizer, plain, progress);
    const TaskResult b = task->evaluate(model, tokenizer, reuse, progress);
    TasksBenchRow row;
    row.model = name;
    row.questions = a.n;
    row.plain_questions_per_s = a.items_per_s;
    row.reuse_questions_per_s = b.items_per_s;
    row.speedup = a.items_per_s > 0 ? b.items_per_s / a.items_per_s : 0.0;
    double tokens = 0.0;
    for (size_t i = 0; i < a.items.size(); ++i) {
        tokens += static_cast<double>(a.items[i].prompt_tokens);
        for (size_t j = 0; j < a.items[i].scores.size(); ++j)
            row.max_prob_diff =
                std::max(row.max_prob_diff, std::abs(a.items[i].scores[j] - b.items[i].scores[j]));
    }
    row.mean_prompt_tokens = a.items.empty() ? 0.0 : tokens / static_cast<double>(a.items.size());
    return row;
}

} // namespace

std::vector<TasksBenchRow> run_tasks_bench(const TasksBenchOptions& o, const ProgressSink& progress) {
    std::vector<TasksBenchRow> rows;
    {
        LlamaConfig c; // the `rilq bench eval` shape, Llama-2's vocabulary and MMLU's 2048 limit
        c.hidden_size = 512;
        c.intermediate_size = 1376;
        c.num_hidden_layers = 8;
        c.num_attention_heads = 8;
        c.num_key_value_heads = 8;
        c.head_dim = 64;
        c.vocab_size = 32000;
        c.max_position_embeddings = 2048;
        const LlamaModel model = LlamaModel::random(c, 1234);
        const auto tokenizer = load_tokenizer(o.llama2_tokenizer);
        rows.push_back(measure_mmlu_speed("random dim-512", model, *tokenizer, o, progress));
    }
    if (!o.stories_model.empty()) {
        const LlamaModel model = load_model(o.stories_model);
        const auto tokenizer = find_tokenizer(o.stories_model);
        rows.push_back(measure_mmlu_speed("stories260K", model, *tokenizer, o, progress));
    }
    return rows;
}

} // namespace rilq
