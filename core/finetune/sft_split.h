// Which Alpaca records train and which evaluate, as irlora.py splits them (l. 657-667):
// datasets' train_test_split(test_size=eval_dataset_size, shuffle=True, seed=42) draws
// p = numpy.random.default_rng(42).permutation(n) (core/data/numpy_random.h); the held-out rows
// are p[:eval_dataset_size] and the training rows p[eval_dataset_size:], both in that order.
// Then max_eval_samples keeps the first held-out rows, max_train_samples the first training rows.
#pragma once
#include <cstdint>
#include <vector>

#include "core/finetune/sft_config.h"

namespace rilq {

struct SftSplit {
    std::vector<int64_t> train_rows; // record indices, in training-set order
    std::vector<int64_t> eval_rows;  // record indices, in evaluation order
    int64_t held_out = 0;            // eval_dataset_size: rows kept out of training
};

// Error when eval_dataset_size is not below the record count (datasets refuses it too).
SftSplit split_train_eval(int64_t records, const SftDataConfig& config);

} // namespace rilq
