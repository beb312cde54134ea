#include "core/eval/tasks/multiple_choice.h"

#include "core/eval/tasks/prefix_cache.h"
#include "core/eval/tasks/python_text.h"
#include "core/eval/tasks/task_scoring.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace rilq {

EncodedPair encode_pair(const Tokenizer& tokenizer, const std::string& context,
                        const std::string& continuation, bool bos) {
    // lm_eval/api/model.py _encode_pair: trailing context whitespace moves to the continuation.
    std::string ctx = py::rstrip(context);
    const std::string cont = context.substr(ctx.size()) + continuation;
    EncodedPair pair;
    if (ctx.empty()) { // lm-eval: context_enc = [prefix_token_id] (BOS)
        pair.context = {tokenizer.bos_id()};
        pair.continuation = tokenizer.encode(cont, false);
        return pair;
    }
    const std::vector<int64_t> whole = tokenizer.encode(ctx + cont, bos);
    pair.context = tokenizer.encode(ctx, bos);
    if (whole.size() > pair.context.size())
        pair.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(pair.context.size()),
                                 whole.end());
    return pair;
}

namespace {

// Text for the protocol record: which reference this follows.
const char* const kMultipleChoiceScoring =
    "lm-evaluation-harness (EleutherAI, 0.4.x) multiple_choice: one (context, ' ' + choice) loglikelihood "
    "request per choice, _encode_pair tokenization, input (context + continuation)[-(max_length+1):][:-1], "
    "score = sum of continuation log-softmax; acc = argmax, acc_norm = argmax(ll / len(choice chars)), first "
    "index on ties";

class MultipleChoiceTask : public Task {
  public:
    MultipleChoiceTask(TaskInfo info, TaskSpec spec, McData data)
        : info_(std::move(info)), spec_(std::move(spec)), data_(std::move(data)) {}

    const TaskInfo& info() const override { return info_; }
    int64_t item_count() const override { return static_cast<int64_t>(data_.docs.size()); }

    TaskResult evaluate(const LlamaModel& model, const Tokenizer& tokenizer, const TaskRunOptions& options,
                        const ProgressSink& progress) const override;

  private:
    ItemRecord score_doc(const LlamaModel& model, const Tokenizer& tokenizer, const TaskRunOptions& options,
                         const McDoc& doc, bool bos) const;

    TaskInfo info_;
    TaskSpec spec_;
    McData data_;
};

ItemRecord MultipleChoiceTask::score_doc(const LlamaModel& model, const Tokenizer& tokenizer,
                                         const TaskRunOptions& options, const McDoc& doc, bool bos) const {
    const int64_t max_length = model.config().max_position_embeddings;
    const size_t n = doc.requests.size();
    ItemRecord item;
    item.id = doc.id;
    item.gold = doc.gold;
    std::vector<std::vector<int64_t>> inputs(n), targets(n);
    for (size_t j = 0; j < n; ++j) {
        const EncodedPair pair =
            encode_pair(tokenizer, doc.requests[j].context, doc.requests[j].continuation, bos);
        if (pair.continuation.empty())
            throw Error(info_.name + " doc " + doc.id + ", choice " + std::to_string(j) +
                        ": the continuation encodes to no token");
        if (j == 0) item.prompt_tokens = static_cast<int64_t>(pair.context.size());
        std::vector<int64_t> whole = pair.context;
        whole.insert(whole.end(), pair.continuation.begin(), pair.continuation.end());
        const size_t keep = std::min(whole.size(), static_cast<size_t>(max_length) + 1);
        inputs[j].assign(whole.end() - static_cast<std::ptrdiff_t>(keep), whole.end() - 1);
        targets[j] = pair.continuation;
        // A continuation longer than the context (stories260K's 512 tokens; never at Llama's
        // 2048+, where lm-eval's logits[inplen - contlen : inplen] would wrap around) keeps its
        // last max_length tokens: exactly the ones the input window predicts. Counted per item.
        if (static_cast<int64_t>(targets[j].size()) > max_length) {
            targets[j].erase(targets[j].begin(), targets[j].end() - max_length);
            item.truncated = true;
        }
        item.continuation_tokens.push_back(static_cast<int64_t>(targets[j].size()));
    }
    // The tokens every request starts with, short of each one's first scored position.
    size_t shared = 0;
    if (options.prefix_reuse) {
        shared = inputs[0].size();
        for (size_t j = 0; j < n; ++j) {
            shared = std::min(shared, common_prefix_length(inputs[0], inputs[j]));
            shared = std::min(shared, inputs[j].size() - targets[j].size());
        }
    }
    KvCache prefix;
    if (shared > 0)
        prefix =
            run_prefix(model, std::vector<int64_t>(inputs[0].begin(),
                                                   inputs[0].begin() + static_cast<std::ptrdiff_t>(shared)));

    std::vector<std::vector<int64_t>> rows(n), positions(n);
    std::vector<size_t> lengths(n);
    for (size_t j = 0; j < n; ++j) {
        rows[j].assign(inputs[j].begin() + static_cast<std::ptrdiff_t>(shared), inputs[j].end());
        const auto len = static_cast<int64_t>(rows[j].size()), c = static_cast<int64_t>(targets[j].size());
        for (int64_t p = len - c; p < len; ++p)
            positions[j].push_back(p);
        lengths[j] = rows[j].size();
    }
    item.scores.assign(n, 0.0);
    item.is_greedy.assign(n, true);
    for (const auto& batch : plan_batches(lengths, options.batch_size, options.batch_tokens)) {
        std::vector<std::vector<int64_t>> batch_rows, batch_positions;
        std::vector<int64_t> target_ids;
        for (size_t j : batch) {
            batch_rows.push_back(rows[j]);
            batch_positions.push_back(positions[j]);
            target_ids.insert(target_ids.end(), targets[j].begin(), targets[j].end());
        }
        const auto hidden =
            hidden_at(model, shared > 0 ? &prefix : nullptr, batch_rows, batch_positions);           // (N, C)
        const auto logp = torch::log_softmax(model.lm_head_forward(hidden).to(torch::kFloat32), -1); // (N, V)
        const auto target = torch::tensor(target_ids, torch::kInt64).to(logp.device());
        const auto picked = logp.gather(1, target.unsqueeze(1)).squeeze(1).to(torch::kCPU); // (N)
        const auto greedy = logp.argmax(-1).eq(target).to(torch::kCPU);                     // (N)
        const auto picked_a = picked.accessor<float, 1>();
        const auto greedy_a = greedy.accessor<bool, 1>();
        int64_t at = 0;
        for (size_t j : batch) {
            double sum = 0.0;
            for (size_t t = 0; t < targets[j].size(); ++t, ++at) {
                sum += static_cast<double>(picked_a[at]);
                if (!greedy_a[at]) item.is_greedy[j] = false;
            }
            item.scores[j] = sum;
        }
    }
    item.pred = argmax_first(item.scores);
    if (info_.has_acc_norm) {
        std::vector<double> normalized(n);
        for (size_t j = 0; j < n; ++j)
            normalized[j] = item.scores[j] / static_cast<double>(py::length(doc.choices[j]));
        item.pred_norm = argmax_first(normalized);
    }
    return item;
}

TaskResult MultipleChoiceTask::evaluate(const LlamaModel& model, const Tokenizer& tokenizer,
                                        const TaskRunOptions& options, const ProgressSink& progress) const {
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const bool bos = spec_.bos.value_or(info_.default_bos);
    TaskResult result;
    result.protocol = base_protocol(info_, spec_, data_.files, tokenizer, 0, item_count(),
                                    model.config().max_position_embeddings, kMultipleChoiceScoring);

    std::vector<double> acc, acc_norm;
    const auto total = static_cast<int64_t>(data_.docs.size());
    for (int64_t i = 0; i < total; ++i) {
        progress.check_cancel();
        ItemRecord item = score_doc(model, tokenizer, options, data_.docs[static_cast<size_t>(i)], bos);
        if (item.truncated) ++result.protocol.n_truncated;
        acc.push_back(item.pred == item.gold ? 1.0 : 0.0);
        if (info_.has_acc_norm) acc_norm.push_back(item.pred_norm == item.gold ? 1.0 : 0.0);
        result.items.push_back(std::move(item));
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.report({info_.name, i + 1, total, "items", elapsed,
                         elapsed / static_cast<double>(i + 1) * static_cast<double>(total - i - 1)});
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    result.n = total;
    result.acc = mean_of(acc);
    result.acc_stderr = mean_stderr(acc);
    result.acc_norm = info_.has_acc_norm ? mean_of(acc_norm) : nan;
    result.acc_norm_stderr = info_.has_acc_norm ? mean_stderr(acc_norm) : nan;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.items_per_s = result.seconds > 0 ? static_cast<double>(total) / result.seconds : 0.0;
    return result;
}

} // namespace

std::unique_ptr<Task> make_multiple_choice_task(const TaskInfo& info, const TaskSpec& spec, McData data) {
    if (spec.limit > 0 && static_cast<int64_t>(data.docs.size()) > spec.limit)
        data.docs.resize(static_cast<size_t>(spec.limit));
    for (const McDoc& doc : data.docs)
        if (doc.requests.empty() || doc.requests.size() != doc.choices.size() || doc.gold < 0 ||
            doc.gold >= static_cast<int64_t>(doc.choices.size()))
            throw Error(info.name + " doc " + doc.id + ": inconsistent choices or gold index");
    return std::make_unique<MultipleChoiceTask>(info, spec, std::move(data));
}

} // namespace rilq
