// Checksums of calibration / evaluation windows, compared against the Python reference's.
#pragma once
#include "core/data/token_windows.h"

#include <cstdint>

namespace rilq::test {

// Sum of the token ids of window `i`.
inline int64_t row_sum(const rilq::TokenWindows& w, int64_t i) {
    int64_t sum = 0;
    for (int64_t t = 0; t < w.seqlen; ++t)
        sum += w.row(i)[t];
    return sum;
}

} // namespace rilq::test
