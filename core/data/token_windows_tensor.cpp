// The one place token windows become a tensor; the rest of core/data stays torch-free.
#include "core/data/token_windows.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "core/util/error.h"

namespace rilq {

at::Tensor to_tensor(const TokenWindows& windows) {
    const int64_t n = windows.count();
    if (static_cast<int64_t>(windows.ids.size()) != n * windows.seqlen)
        throw Error("TokenWindows: " + std::to_string(windows.ids.size()) + " ids do not fill " +
                    std::to_string(n) + " windows of " + std::to_string(windows.seqlen));
    at::Tensor out = torch::empty({n, windows.seqlen}, torch::kInt64); // (n, seqlen)
    if (n > 0) std::copy(windows.ids.begin(), windows.ids.end(), out.data_ptr<int64_t>());
    return out;
}

} // namespace rilq
