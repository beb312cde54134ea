#include "core/lora/init/qera.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <limits>

namespace rilq {

InputGram::InputGram(int64_t features) : sum_(torch::zeros({features, features}, torch::kFloat64)) {}

void InputGram::add(const torch::Tensor& x) {
    if (!sum_.defined()) throw Error("InputGram: add on a Gram without features");
    if (x.dim() < 1 || x.size(-1) != sum_.size(0))
        throw Error("InputGram: inputs must be (..., " + std::to_string(sum_.size(0)) + ")");
    torch::NoGradGuard no_grad;
    const auto rows = x.detach().reshape({-1, x.size(-1)}).to(torch::kFloat32); // (n, I)
    sum_.add_(rows.t().matmul(rows).to(torch::kCPU, torch::kFloat64));
    rows_ += rows.size(0);
}

torch::Tensor InputGram::mean() const {
    if (rows_ == 0) throw Error("InputGram: no inputs were added");
    return sum_ / static_cast<double>(rows_);
}

namespace {

// S = R^(1/2) and its pseudo-inverse, from the eigendecomposition of the symmetric PSD R.
void sqrt_and_pinv(const torch::Tensor& R, torch::Tensor& S, torch::Tensor& S_pinv) {
    const auto [lambda, V] = torch::linalg_eigh((R + R.t()) / 2.0); // ascending, V orthonormal
    const auto root = torch::sqrt(torch::clamp_min(lambda, 0.0));   // (I)
    // Directions below rounding of the largest are the null space (numpy pinv's rcond rule).
    const double tol =
        root.max().item<double>() * static_cast<double>(R.size(0)) * std::numeric_limits<double>::epsilon();
    const auto inv = torch::where(root > tol, 1.0 / root, torch::zeros_like(root));
    S = (V * root.unsqueeze(0)).matmul(V.t());
    S_pinv = (V * inv.unsqueeze(0)).matmul(V.t());
}

} // namespace

torch::Tensor gram_root(const torch::Tensor& gram) {
    if (gram.dim() != 2 || gram.size(0) != gram.size(1))
        throw Error("gram_root: expected a square (I, I) Gram");
    torch::NoGradGuard no_grad;
    torch::Tensor S, S_pinv;
    sqrt_and_pinv(gram.detach().to(torch::kCPU, torch::kFloat64), S, S_pinv);
    return S;
}

LowRankFactors calibrated_factors(const torch::Tensor& error, const torch::Tensor& gram, int64_t rank,
                                  double scale, CalibratedScaling scaling) {
    if (error.dim() != 2 || gram.dim() != 2 || gram.size(0) != error.size(1) || gram.size(1) != error.size(1))
        throw Error("calibrated init: the Gram must be (in, in) for an (out, in) error");
    if (rank < 1) throw Error("calibrated init: rank must be >= 1, found " + std::to_string(rank));
    if (!(scale > 0.0)) throw Error("calibrated init: the LoRA scale must be > 0");
    torch::NoGradGuard no_grad;
    const auto E = error.detach().to(torch::kCPU, torch::kFloat64); // (O, I)
    const auto R = gram.detach().to(torch::kCPU, torch::kFloat64);  // (I, I)
    torch::Tensor SE, S_pinv; // S E^T (I, O), S^+ (I, I) or its diagonal
    if (scaling == CalibratedScaling::Exact) {
        torch::Tensor S;
        sqrt_and_pinv(R, S, S_pinv);
        SE = S.matmul(E.t());
    } else {
        const auto s = torch::sqrt(torch::clamp_min(torch::diag(R), 0.0)); // (I)
        S_pinv = torch::where(s > 0, 1.0 / s, torch::zeros_like(s));
        SE = s.unsqueeze(1) * E.t();
    }
    const auto [U, Sigma, Vh] = torch::linalg_svd(SE, /*full_matrices=*/false); // U (I, k), Vh (k, O)
    const int64_t k = std::min<int64_t>(rank, Sigma.size(0));
    const auto root = torch::sqrt(Sigma.slice(0, 0, k) / scale); // (k)
    // A^T solves S A^T = U_r sqrt(Sigma_r / s) (through S^+).
    const auto Ur = U.slice(1, 0, k);
    const auto At =
        scaling == CalibratedScaling::Exact ? S_pinv.matmul(Ur) : S_pinv.unsqueeze(1) * Ur; // (I, k)
    LowRankFactors f;
    f.A = torch::zeros({rank, E.size(1)}, torch::kFloat32);
    f.B = torch::zeros({E.size(0), rank}, torch::kFloat32);
    f.A.slice(0, 0, k).copy_(root.unsqueeze(1) * At.t());
    f.B.slice(1, 0, k).copy_(Vh.slice(0, 0, k).t() * root.unsqueeze(0));
    return f;
}

double calibrated_objective(const torch::Tensor& error, const torch::Tensor& gram,
                            const LowRankFactors& factors, double scale) {
    torch::NoGradGuard no_grad;
    const auto E = error.detach().to(torch::kCPU, torch::kFloat64);
    const auto R = gram.detach().to(torch::kCPU, torch::kFloat64);
    const auto M = factors.B.to(torch::kFloat64).matmul(factors.A.to(torch::kFloat64)) * scale;
    const auto D = E - M;
    return (D.matmul(R) * D).sum().item<double>();
}

} // namespace rilq
