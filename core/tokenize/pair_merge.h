// The merge loop shared by the BPE tokenizers: repeatedly replace the adjacent pair with the
// best priority by the token it forms, the leftmost pair winning ties, until no pair merges.
// That is tiktoken's _byte_pair_merge (priority = rank), HF's BPE word merge (priority =
// merge index) and llama2.c run.c's encode loop (priority = -score). Those rescan every pair
// after each merge (quadratic); this keeps candidates in a heap ordered by (priority, position)
// and drops stale ones when popped, which yields the same merges in the same order in
// O(n log n): positions keep their order as symbols merge, so "leftmost" is "smallest position".
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace rilq {

struct PairMerge {
    double priority = 0.0; // lower merges first
    int32_t token = 0;     // the token the pair becomes
};

// `pair_of(left, right)` -> std::optional<PairMerge>: whether two adjacent tokens merge.
// `symbols` holds the token ids on entry and the merged ids on return.
template <class PairOf> void merge_pairs(std::vector<int32_t>& symbols, PairOf&& pair_of) {
    const std::size_t n = symbols.size();
    if (n < 2) return;
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::vector<std::size_t> next(n);
    std::vector<std::size_t> prev(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
        next[i] = i + 1 < n ? i + 1 : kNone;
        prev[i] = i > 0 ? i - 1 : kNone;
    }

    struct Candidate {
        double priority;
        std::size_t left; // position of the left symbol
        int32_t left_token;
        int32_t right_token;
        int32_t merged;
    };
    auto later = [](const Candidate& a, const Candidate& b) { // min-heap on (priority, left)
        if (a.priority != b.priority) return a.priority > b.priority;
        return a.left > b.left;
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> heap(later);
    auto consider = [&](std::size_t left) {
        if (left == kNone || next[left] == kNone) return;
        const int32_t a = symbols[left];
        const int32_t b = symbols[next[left]];
        if (const std::optional<PairMerge> m = pair_of(a, b)) heap.push({m->priority, left, a, b, m->token});
    };
    for (std::size_t i = 0; i + 1 < n; ++i)
        consider(i);

    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        // Stale when either symbol has merged since: the pair is judged only by its two tokens,
        // so an entry whose tokens still match is a current candidate.
        if (!alive[c.left] || symbols[c.left] != c.left_token) continue;
        const std::size_t right = next[c.left];
        if (right == kNone || symbols[right] != c.right_token) continue;
        symbols[c.left] = c.merged;
        alive[right] = false;
        next[c.left] = next[right];
        if (next[right] != kNone) prev[next[right]] = c.left;
        consider(prev[c.left]);
        consider(c.left);
    }

    std::size_t out = 0;
    for (std::size_t i = 0; i != kNone; i = next[i])
        symbols[out++] = symbols[i];
    symbols.resize(out);
}

} // namespace rilq
