#include "core/finetune/sft_objective.h"

#include "core/finetune/length_grouped_order.h"
#include "core/finetune/sft_batch.h"
#include "core/finetune/sft_loss.h"
#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

SftObjective::SftObjective(const LlamaModel& student, std::vector<SftExample> train,
                           std::vector<SftExample> eval, SftObjectiveOptions options)
    : student_(student), train_(std::move(train)), eval_(std::move(eval)), options_(std::move(options)) {
    if (train_.empty()) throw Error("SFT: no training examples");
    if (eval_.empty()) throw Error("SFT: no evaluation examples");
    const int64_t context = student_.config().max_position_embeddings;
    for (const auto* set : {&train_, &eval_})
        for (const auto& e : *set)
            if (static_cast<int64_t>(e.ids.size()) > context)
                throw Error("SFT: an example has " + std::to_string(e.ids.size()) +
                            " tokens, more than the model's " + std::to_string(context) +
                            "-token context (lower source_max_len + target_max_len)");
    if (options_.pad_id < 0 || options_.pad_id >= student_.config().vocab_size)
        throw Error("SFT: pad id " + std::to_string(options_.pad_id) + " is not in the model's vocabulary");
    train_lengths_.reserve(train_.size());
    for (const auto& e : train_)
        train_lengths_.push_back(e.length_chars);
    if (options_.pad_class) pad_row_ = pad_class_row(student_);
}

torch::Tensor SftObjective::rows(int64_t n) {
    return torch::arange(n, torch::kLong).unsqueeze(1);
}

LossParts SftObjective::loss(DataSplit split, const torch::Tensor& ids, int64_t /*first*/) {
    const auto& set = examples(split);
    const auto numbers = ids.reshape({-1}).contiguous();
    const auto* n = numbers.data_ptr<int64_t>();
    std::vector<const SftExample*> batch_examples;
    batch_examples.reserve(static_cast<size_t>(numbers.numel()));
    for (int64_t i = 0; i < numbers.numel(); ++i) {
        if (n[i] < 0 || n[i] >= static_cast<int64_t>(set.size()))
            throw Error("SFT: example number " + std::to_string(n[i]) + " out of range");
        batch_examples.push_back(&set[static_cast<size_t>(n[i])]);
    }
    const auto batch = collate_sft_batch(batch_examples, options_.pad_id, options_.train_on_source);
    LossParts parts;
    parts.gt_loss = sft_loss(student_, batch, pad_row_, options_.checkpoint_layers);
    parts.total = parts.gt_loss;
    parts.weight = static_cast<double>(batch_examples.size());
    parts.tokens = batch.input_ids.numel();
    return parts;
}

torch::Tensor SftObjective::train_order(int64_t epoch, int64_t rows) {
    if (rows != static_cast<int64_t>(train_.size()))
        throw Error("SFT: the trainer has " + std::to_string(rows) + " training rows, the objective " +
                    std::to_string(train_.size()) + " examples");
    auto order = epoch_order(train_lengths_, options_.group_batch_size, options_.data_seed, epoch,
                             options_.group_by_length);
    return torch::tensor(order, torch::kLong);
}

} // namespace rilq
