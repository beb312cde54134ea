// Lookup in the generated range tables (unicode_tables.cpp).
#include "core/tokenize/unicode_tables.h"

namespace rilq::unicode {

bool in_table(const CodepointTable& table, char32_t cp) {
    std::size_t lo = 0;
    std::size_t hi = table.count;
    while (lo < hi) { // first range whose `last` >= cp
        const std::size_t mid = lo + (hi - lo) / 2;
        if (table.ranges[mid].last < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < table.count && table.ranges[lo].first <= cp;
}

} // namespace rilq::unicode
