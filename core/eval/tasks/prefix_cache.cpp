#include "core/eval/tasks/prefix_cache.h"

#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

KvCache run_prefix(const LlamaModel& model, const std::vector<int64_t>& ids) {
    if (ids.empty()) throw Error("run_prefix: empty prefix");
    torch::NoGradGuard no_grad;
    KvCache cache;
    ForwardOptions opts;
    opts.want_logits = false;
    opts.present = &cache;
    model.forward(torch::tensor(ids, torch::kInt64).unsqueeze(0), opts); // (1, P)
    return cache;
}

size_t common_prefix_length(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

torch::Tensor hidden_at(const LlamaModel& model, const KvCache* past,
                        const std::vector<std::vector<int64_t>>& rows,
                        const std::vector<std::vector<int64_t>>& positions) {
    if (rows.empty() || rows.size() != positions.size())
        throw Error("hidden_at: rows and positions differ in count");
    torch::NoGradGuard no_grad;
    const auto B = static_cast<int64_t>(rows.size());
    size_t longest = 0;
    for (const auto& r : rows)
        longest = std::max(longest, r.size());
    const auto T = static_cast<int64_t>(longest);
    auto ids = torch::zeros({B, T}, torch::kInt64); // (B, T), right padding with id 0
    auto flat = ids.accessor<int64_t, 2>();
    std::vector<int64_t> picks; // indices into the (B*T) positions
    for (int64_t b = 0; b < B; ++b) {
        const auto& row = rows[static_cast<size_t>(b)];
        if (row.empty()) throw Error("hidden_at: empty row");
        for (size_t t = 0; t < row.size(); ++t)
            flat[b][static_cast<int64_t>(t)] = row[t];
        for (int64_t p : positions[static_cast<size_t>(b)]) {
            if (p < 0 || p >= static_cast<int64_t>(row.size()))
                throw Error("hidden_at: position outside its row");
            picks.push_back(b * T + p);
        }
    }
    ForwardOptions opts;
    opts.want_logits = false;
    opts.want_hidden = true;
    opts.past = past;
    const auto hidden = model.forward(ids, opts).hidden; // (B, T, C)
    const auto index = torch::tensor(picks, torch::kInt64).to(hidden.device());
    return hidden.reshape({B * T, hidden.size(2)}).index_select(0, index); // (N, C)
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& lengths, int64_t max_rows,
                                              int64_t max_tokens) {
    std::vector<std::vector<size_t>> batches;
    std::vector<size_t> current;
    size_t longest = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
        const size_t grown = std::max(longest, lengths[i]);
        const bool full = static_cast<int64_t>(current.size()) >= max_rows ||
                          static_cast<int64_t>(grown * (current.size() + 1)) > max_tokens;
        if (!current.empty() && full) {
            batches.push_back(std::move(current));
            current.clear();
            longest = 0;
        }
        current.push_back(i);
        longest = std::max(longest, lengths[i]);
    }
    if (!current.empty()) batches.push_back(std::move(current));
    return batches;
}

} // namespace rilq
