// Reads tests/data/quant/reference.json, written by tests/reference/quant_reference.py (an
// independent PyTorch implementation of METHODS.md §1 and §5). Tensors are stored as
// {"dtype": "f32"|"u8"|"i64", "shape": [...], "hex": little-endian bytes in hex}.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/support/test_support.h"

namespace rilq::test {

inline const nlohmann::json& quant_reference() {
    static const nlohmann::json j = [] {
        std::ifstream in(test_data("quant/reference.json"));
        if (!in)
            throw std::runtime_error(
                "missing tests/data/quant/reference.json (run tests/reference/quant_reference.py)");
        nlohmann::json parsed;
        in >> parsed;
        return parsed;
    }();
    return j;
}

inline torch::Tensor decode_tensor(const nlohmann::json& j) {
    const std::string dtype = j.at("dtype");
    const std::string hex = j.at("hex");
    std::vector<int64_t> shape = j.at("shape").get<std::vector<int64_t>>();
    std::vector<uint8_t> bytes(hex.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    torch::Dtype t = dtype == "f32" ? torch::kFloat32 : dtype == "u8" ? torch::kUInt8 : torch::kInt64;
    auto out = torch::empty(shape, t);
    if (static_cast<size_t>(out.nbytes()) != bytes.size())
        throw std::runtime_error("fixture tensor size mismatch");
    std::memcpy(out.data_ptr(), bytes.data(), bytes.size()); // little-endian host
    return out;
}

// Number of elements where a and b differ (exact comparison, NaN == NaN).
inline int64_t count_differences(const torch::Tensor& a, const torch::Tensor& b) {
    auto x = a.reshape({-1}), y = b.reshape({-1}).to(a.scalar_type());
    if (x.numel() != y.numel()) return std::max(x.numel(), y.numel());
    auto same = torch::eq(x, y);
    if (x.is_floating_point()) same = same.logical_or(torch::isnan(x).logical_and(torch::isnan(y)));
    return x.numel() - same.sum().item<int64_t>();
}

// Raw fp32 tensors of a llama2.c checkpoint (stories260K.bin), read without the HF q/k row
// permutation: the quantizers see exactly the matrix the Python reference reads.
inline torch::Tensor read_llama2c_tensor(const std::string& path, const std::string& which) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    int32_t h[7];
    in.read(reinterpret_cast<char*>(h), sizeof h);
    const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv = h[4], vocab = h[5];
    const int64_t kv_dim = kv * (dim / heads);
    const std::vector<std::pair<std::string, int64_t>> sizes = {
        {"tok", vocab * dim},          {"rms_att", layers * dim},     {"wq", layers * dim * dim},
        {"wk", layers * kv_dim * dim}, {"wv", layers * kv_dim * dim}, {"wo", layers * dim * dim},
        {"rms_ffn", layers * dim},     {"w1", layers * hidden * dim}};
    int64_t offset = 28;
    for (const auto& [name, n] : sizes) {
        if (name == which) {
            const int64_t rows = which == "wq" ? dim : hidden;
            auto t = torch::empty({rows, dim}, torch::kFloat32);
            in.seekg(offset);
            in.read(reinterpret_cast<char*>(t.data_ptr<float>()), static_cast<std::streamsize>(t.nbytes()));
            if (!in) throw std::runtime_error("short read of " + which + " in " + path);
            return t;
        }
        offset += 4 * n;
    }
    throw std::runtime_error("unknown tensor " + which);
}

} // namespace rilq::test
