// "[4096, 11008]": a tensor shape in an error message. A template, so this header stays free of
// torch: it takes at::IntArrayRef and std::vector<int64_t> alike.
#pragma once
#include <string>

namespace rilq {

template <class Dims> std::string shape_text(const Dims& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i)
        s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

} // namespace rilq
