// Entropy of the codes in a group, H = -sum_k p_k log2 p_k with p_k = count_k / length.
//
// Two arithmetics for the ICQ searches (which keep a candidate only on a strict improvement):
//  - fp32 as the official IR-QLoRA code: f = count / length in fp32, term = (-f) * log2(f) with
//    torch's fp32 log2 (not always correctly rounded, so the terms are taken from torch itself),
//    0 for f = 0, summed in code order 0..K-1 in fp32. Two histograms that are permutations of
//    each other can then differ in the last bit, which the official search treats as a gain;
//  - exact ties: sum_k c_k log2(length / c_k) in 2^-40 fixed point, so histograms with the same
//    multiset of counts compare equal and the first candidate wins real ties.
// Metrics use fp64 (entropy_bits).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace rilq {

struct EntropyTable {
    int64_t length = 0;
    std::vector<float> f32;     // (length + 1) fp32 term per count
    std::vector<int64_t> fixed; // (length + 1) c*log2(length/c) * 2^40, rounded
};

EntropyTable make_entropy_table(int64_t length);

// The ICQ searches work on a group sorted ascending, where the codes of every candidate are
// monotone in x and each code boundary is one split point. Copies x[0..len) sorted into
// buffer[1..len], with -inf at buffer[0] and +inf at buffer[len + 1], so walks of the split points
// need no bounds checks; returns buffer + 1 (the sorted values). buffer holds len + 2 floats.
inline float* sorted_with_sentinels(const float* x, int64_t len, float* buffer) {
    float* sorted = buffer + 1;
    std::copy(x, x + len, sorted);
    std::sort(sorted, sorted + len);
    buffer[0] = -std::numeric_limits<float>::infinity();
    sorted[len] = std::numeric_limits<float>::infinity();
    return sorted;
}

// fp32 search entropy: terms summed in code order.
inline float entropy_f32(const int32_t* counts, int levels, const EntropyTable& t) {
    float h = 0.0f;
    for (int k = 0; k < levels; ++k)
        h += t.f32[static_cast<size_t>(counts[k])];
    return h;
}

// Exact-ties search entropy (fixed point, larger = more entropy).
inline int64_t entropy_fixed(const int32_t* counts, int levels, const EntropyTable& t) {
    int64_t h = 0;
    for (int k = 0; k < levels; ++k)
        h += t.fixed[static_cast<size_t>(counts[k])];
    return h;
}

// Bits, from the fixed-point sum.
double fixed_entropy_to_bits(int64_t fixed, int64_t length);

// fp64 entropy in bits of a histogram whose counts sum to `length`.
double entropy_bits(const int64_t* counts, int levels, int64_t length);

} // namespace rilq
