#include "core/finetune/length_grouped_order.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

std::vector<int64_t> length_grouped_indices(const std::vector<int64_t>& lengths, int64_t batch_size,
                                            const std::vector<int64_t>& permutation) {
    const auto n = static_cast<int64_t>(lengths.size());
    if (batch_size < 1)
        throw Error("length grouping: batch size must be >= 1, found " + std::to_string(batch_size));
    if (static_cast<int64_t>(permutation.size()) != n)
        throw Error("length grouping: the permutation has " + std::to_string(permutation.size()) +
                    " rows, not " + std::to_string(n));
    if (n == 0) return {};
    const int64_t mega_batch_mult = std::max<int64_t>(1, std::min<int64_t>(n / (batch_size * 4), 50));
    const int64_t size = mega_batch_mult * batch_size;
    std::vector<int64_t> out = permutation;
    const auto longer = [&](int64_t a, int64_t b) {
        return lengths[static_cast<size_t>(a)] > lengths[static_cast<size_t>(b)];
    };
    // sorted(megabatch, key=length, reverse=True) is stable, as std::stable_sort with "longer".
    int64_t max_start = 0;
    for (int64_t start = 0; start < n; start += size) {
        const auto begin = out.begin() + start, end = out.begin() + std::min(n, start + size);
        std::stable_sort(begin, end, longer);
        if (lengths[static_cast<size_t>(*begin)] >
            lengths[static_cast<size_t>(out[static_cast<size_t>(max_start)])])
            max_start = start;
    }
    std::swap(out[0], out[static_cast<size_t>(max_start)]);
    return out;
}

std::vector<int64_t> epoch_order(const std::vector<int64_t>& lengths, int64_t batch_size, uint64_t seed,
                                 int64_t epoch, bool group_by_length) {
    if (epoch < 0) throw Error("epoch_order: epoch must be >= 0, found " + std::to_string(epoch));
    const auto n = static_cast<int64_t>(lengths.size());
    auto gen = at::detail::createCPUGenerator(seed); // as torch.Generator().manual_seed(seed)
    torch::Tensor draw;
    for (int64_t e = 0; e <= epoch; ++e)
        draw = torch::randperm(n, gen, torch::kLong);
    std::vector<int64_t> permutation(draw.data_ptr<int64_t>(), draw.data_ptr<int64_t>() + n);
    return group_by_length ? length_grouped_indices(lengths, batch_size, permutation) : permutation;
}

} // namespace rilq
