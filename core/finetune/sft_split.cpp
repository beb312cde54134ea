#include "core/finetune/sft_split.h"

#include "core/data/numpy_random.h"
#include "core/util/error.h"

namespace rilq {

SftSplit split_train_eval(int64_t records, const SftDataConfig& config) {
    config.validate();
    if (config.eval_dataset_size >= records)
        throw Error("eval_dataset_size " + std::to_string(config.eval_dataset_size) +
                    " leaves no training rows: the data has " + std::to_string(records) +
                    " records (hold out fewer)");
    const auto permutation = NumpyPcg64(config.split_seed).permutation(records);
    const auto held_out = static_cast<size_t>(config.eval_dataset_size);
    SftSplit s;
    s.held_out = config.eval_dataset_size;
    s.eval_rows.assign(permutation.begin(), permutation.begin() + static_cast<std::ptrdiff_t>(held_out));
    s.train_rows.assign(permutation.begin() + static_cast<std::ptrdiff_t>(held_out), permutation.end());
    if (config.max_eval_samples > 0 && static_cast<int64_t>(s.eval_rows.size()) > config.max_eval_samples)
        s.eval_rows.resize(static_cast<size_t>(config.max_eval_samples));
    if (config.max_train_samples > 0 && static_cast<int64_t>(s.train_rows.size()) > config.max_train_samples)
        s.train_rows.resize(static_cast<size_t>(config.max_train_samples));
    return s;
}

} // namespace rilq
