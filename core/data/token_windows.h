// Equal-length token windows cut from a dataset, kept as a plain row-major buffer so that
// headers stay free of torch; to_tensor() makes the (n, seqlen) int64 tensor.
#pragma once
#include <cstdint>
#include <vector>

namespace at {
class Tensor;
}

namespace rilq {

// Where one window came from; lets tests and run records replay the sampling.
struct WindowOrigin {
    int64_t source = 0;    // index of the dataset in a calibration mix (0 otherwise)
    int64_t document = -1; // c4: index of the document in the file; -1 for one token stream
    int64_t offset = 0;    // first token of the window in the document / stream
    int64_t draws = 0;     // c4: documents drawn for this window, rejected ones included
};

struct TokenWindows {
    int64_t seqlen = 0;
    std::vector<int64_t> ids;          // (n, seqlen), row-major
    std::vector<WindowOrigin> origins; // (n)

    int64_t count() const { return static_cast<int64_t>(origins.size()); }
    const int64_t* row(int64_t index) const { return ids.data() + index * seqlen; }
    std::vector<int64_t> row_vector(int64_t index) const {
        return std::vector<int64_t>(row(index), row(index) + seqlen);
    }
    // Appends ids[begin, begin + seqlen) of `tokens` as a new window.
    void append(const std::vector<int64_t>& tokens, int64_t begin, const WindowOrigin& origin);
};

// (n, seqlen) int64 CPU tensor holding a copy of the ids; (0, seqlen) when there are none.
at::Tensor to_tensor(const TokenWindows& windows);

} // namespace rilq
