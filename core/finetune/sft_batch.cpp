#include "core/finetune/sft_batch.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

SftBatch collate_sft_batch(const std::vector<const SftExample*>& examples, int64_t pad_id,
                           bool train_on_source) {
    if (examples.empty()) throw Error("collate_sft_batch: no examples");
    size_t width = 0;
    for (const auto* e : examples)
        width = std::max(width, e->ids.size());
    const auto rows = static_cast<int64_t>(examples.size());
    auto ids = torch::full({rows, static_cast<int64_t>(width)}, pad_id, torch::kLong);
    auto labels = torch::full({rows, static_cast<int64_t>(width)}, kIgnoreIndex, torch::kLong);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto labels_a = labels.accessor<int64_t, 2>();
    SftBatch batch;
    for (int64_t r = 0; r < rows; ++r) {
        const auto& e = *examples[static_cast<size_t>(r)];
        const auto row_labels = e.labels(train_on_source);
        for (size_t t = 0; t < e.ids.size(); ++t) {
            ids_a[r][static_cast<int64_t>(t)] = e.ids[t];
            labels_a[r][static_cast<int64_t>(t)] = row_labels[t];
            // Position 0 is never predicted: the loss shifts labels left by one.
            if (t > 0 && row_labels[t] != kIgnoreIndex) ++batch.label_count;
        }
    }
    batch.input_ids = ids;
    batch.labels = labels;
    return batch;
}

} // namespace rilq
