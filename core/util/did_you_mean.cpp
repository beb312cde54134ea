#include "core/util/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace rilq {

size_t edit_distance(const std::string& a, const std::string& b) {
    // One row of the dynamic-programming table at a time.
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

namespace {
std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
} // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    const std::string word_lower = lower(word);
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& candidate : candidates) {
        if (lower(candidate) == word_lower) return candidate;
        const size_t d = edit_distance(word, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    if (!best.empty() || word.size() < 3) return best;
    // A truncated key ("group" for "group_size") is far in edit distance but plainly meant.
    for (const auto& candidate : candidates) {
        if (lower(candidate).rfind(word_lower, 0) == 0) return candidate;
    }
    return best;
}

} // namespace rilq
