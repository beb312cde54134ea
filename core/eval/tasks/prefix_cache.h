// The forwards task scoring runs: a shared prefix once (its keys/values kept), then many short
// rows continuing it in right-padded batches. Padding goes after each row's last token, so by
// causality it never changes the positions a row is scored at; a past of batch 1 serves every
// row (core/model/kv_cache.h). Without a past the rows start at position 0.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/model/kv_cache.h"

namespace rilq {

class LlamaModel;

// Runs `ids` (one sequence, not empty) and returns its keys/values.
KvCache run_prefix(const LlamaModel& model, const std::vector<int64_t>& ids);

// Tokens a and b share at their start.
size_t common_prefix_length(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Final hidden states (after the last RMSNorm) of `rows` continuing `past` (nullptr: none) at
// the listed positions of each row (indices into the row): (sum of positions sizes, C), row by row.
torch::Tensor hidden_at(const LlamaModel& model, const KvCache* past,
                        const std::vector<std::vector<int64_t>>& rows,
                        const std::vector<std::vector<int64_t>>& positions);

// Batches of row indices [0, n): at most max_rows rows and, beyond the first row, at most
// max_tokens padded tokens (rows x longest row). `lengths` in the order the rows will be run.
std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& lengths, int64_t max_rows,
                                              int64_t max_tokens);

} // namespace rilq
