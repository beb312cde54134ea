#include "core/lora/iec.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

void check_iec_shape(const std::string& linear_name, int64_t in_features, int64_t out_features, int64_t r) {
    if (r <= 0 || in_features % r != 0 || out_features % r != 0)
        throw Error("IEC on " + linear_name + " needs the rank to divide both dimensions: in " +
                    std::to_string(in_features) + ", out " + std::to_string(out_features) + ", r " + std::to_string(r));
}

torch::Tensor iec_group_mean(const torch::Tensor& x, int64_t r) {
    auto shape = x.sizes().vec();
    const int64_t in = shape.back();
    shape.back() = r;
    shape.push_back(in / r);
    return x.reshape(shape).mean(-1);                               // (..., r, g1) -> (..., r)
}

torch::Tensor iec_repeat(const torch::Tensor& u, int64_t out_features) {
    auto shape = u.sizes().vec();
    const int64_t r = shape.back();
    auto expanded = shape;
    expanded.push_back(out_features / r);
    shape.back() = out_features;
    return u.unsqueeze(-1).expand(expanded).reshape(shape);         // (..., r, g2) -> (..., out)
}

torch::Tensor iec_group_mean_matrix(int64_t r, int64_t in_features) {
    const int64_t g1 = in_features / r;
    // Row j averages columns [j*g1, (j+1)*g1).
    auto group_of_column = torch::arange(in_features, torch::kLong).div(g1, "floor");   // (in)
    auto rows = torch::arange(r, torch::kLong).unsqueeze(1);                           // (r, 1)
    return rows.eq(group_of_column.unsqueeze(0)).to(torch::kFloat32) / static_cast<double>(g1);
}

torch::Tensor iec_repeat_matrix(int64_t out_features, int64_t r) {
    const int64_t g2 = out_features / r;
    auto group_of_row = torch::arange(out_features, torch::kLong).div(g2, "floor");    // (out)
    auto cols = torch::arange(r, torch::kLong).unsqueeze(0);                           // (1, r)
    return group_of_row.unsqueeze(1).eq(cols).to(torch::kFloat32);
}

} // namespace rilq
