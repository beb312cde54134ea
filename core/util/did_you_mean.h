// "did you mean ...?" for misspelt keys and names: the closest candidate by edit distance.
#pragma once
#include <string>
#include <vector>

namespace rilq {

// Levenshtein distance (insert, delete, substitute each cost 1), case-sensitive.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` when it is close enough to be a plausible typo (distance
// at most max(2, |word| / 3), equal ignoring case, or a prefix of it); "" when none is.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

} // namespace rilq
