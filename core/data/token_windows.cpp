#include "core/data/token_windows.h"

#include <string>

#include "core/util/error.h"

namespace rilq {

void TokenWindows::append(const std::vector<int64_t>& tokens, int64_t begin, const WindowOrigin& origin) {
    if (seqlen <= 0)
        throw Error("TokenWindows::append: seqlen must be positive, got " + std::to_string(seqlen));
    if (begin < 0 || begin + seqlen > static_cast<int64_t>(tokens.size()))
        throw Error("TokenWindows::append: window [" + std::to_string(begin) + ", " +
                    std::to_string(begin + seqlen) + ") lies outside a sequence of " +
                    std::to_string(tokens.size()) + " tokens");
    ids.insert(ids.end(), tokens.begin() + begin, tokens.begin() + begin + seqlen);
    origins.push_back(origin);
}

} // namespace rilq
