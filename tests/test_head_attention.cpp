// The fused training kernels of the Llama forward against the plain ATen compositions they
// replace, in fp32 (to rounding: 1e-5 relative) and bf16 (to bf16 rounding), values and
// gradients: head-parallel causal attention (core/model/head_attention.h; MHA and GQA, windows
// that end inside a 128-query block) and the fused RMSNorm (core/model/rms_norm.h; input and
// weight gradients).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include "tests/support/test_support.h"

#include "core/model/head_attention.h"
#include "core/model/rms_norm.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

using namespace rilq;

namespace {

// softmax(q k^T / sqrt(HD) + causal mask) v, GQA by repeating key/value heads, as (B, T, NH*HD).
torch::Tensor head_attention_composition(const torch::Tensor& q, const torch::Tensor& k,
                                         const torch::Tensor& v) {
    const int64_t B = q.size(0), NH = q.size(1), T = q.size(2), HD = q.size(3), rep = NH / k.size(1);
    const auto kk = k.repeat_interleave(rep, 1), vv = v.repeat_interleave(rep, 1);
    auto scores =
        torch::matmul(q, kk.transpose(-1, -2)).to(torch::kFloat32) / std::sqrt(static_cast<double>(HD));
    scores = scores.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY);
    const auto probs = torch::softmax(scores, -1).to(q.scalar_type());
    return torch::matmul(probs, vv).transpose(1, 2).reshape({B, T, NH * HD});
}

torch::Tensor rms_norm_composition(const torch::Tensor& x, const torch::Tensor& w, double eps) {
    auto xf = x.to(torch::kFloat32);
    xf = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return w * xf.to(x.scalar_type());
}

double head_relative_error(const torch::Tensor& got, const torch::Tensor& want) {
    return (got.to(torch::kFloat32) - want.to(torch::kFloat32)).abs().max().item<double>() /
           want.to(torch::kFloat32).abs().max().item<double>();
}

void check_head_attention(int64_t B, int64_t NH, int64_t NKV, int64_t T, int64_t HD, torch::Dtype dtype,
                          double tolerance) {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(T * 31 + NKV));
    const auto q0 = torch::randn({B, NH, T, HD}, gen).to(dtype),
               k0 = torch::randn({B, NKV, T, HD}, gen).to(dtype),
               v0 = torch::randn({B, NKV, T, HD}, gen).to(dtype);
    const auto r = torch::randn({B, T, NH * HD}, gen).to(dtype);
    const std::string label = "B" + std::to_string(B) + " NH" + std::to_string(NH) + " NKV" +
                              std::to_string(NKV) + " T" + std::to_string(T) + " " +
                              std::string(c10::toString(dtype));
    auto q1 = q0.clone().requires_grad_(true), k1 = k0.clone().requires_grad_(true),
         v1 = v0.clone().requires_grad_(true);
    auto q2 = q0.to(torch::kFloat32).requires_grad_(true), k2 = k0.to(torch::kFloat32).requires_grad_(true),
         v2 = v0.to(torch::kFloat32).requires_grad_(true);
    const auto got = head_parallel_causal_attention(q1, k1, v1);
    const auto want = head_attention_composition(q2, k2, v2); // fp32: the reference for both dtypes
    QCOMPARE(got.scalar_type(), dtype);
    QCOMPARE(got.sizes(), want.sizes());
    const double e = head_relative_error(got, want);
    QVERIFY2(e < tolerance, (label + " output " + std::to_string(e)).c_str());
    (got.to(torch::kFloat32) * r.to(torch::kFloat32)).sum().backward();
    (want * r.to(torch::kFloat32)).sum().backward();
    for (auto [a, b, name] :
         {std::make_tuple(q1, q2, "dq"), std::make_tuple(k1, k2, "dk"), std::make_tuple(v1, v2, "dv")}) {
        QCOMPARE(a.grad().scalar_type(), dtype);
        const double ge = head_relative_error(a.grad(), b.grad());
        QVERIFY2(ge < 4 * tolerance, (label + " " + name + " " + std::to_string(ge)).c_str());
    }
}

} // namespace

class TestHeadAttention : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void attentionMatchesComposition() {
        check_head_attention(2, 4, 4, 300, 16, torch::kFloat32, 1e-5); // 3 blocks, the last one partial
        check_head_attention(1, 8, 2, 130, 8, torch::kFloat32, 1e-5);  // GQA, 4 query heads per kv head
        check_head_attention(1, 2, 2, 5, 4, torch::kFloat32, 1e-5);    // shorter than one block
        // bf16 keeps 8 significant bits: errors of a few units of 2^-8 of the largest value.
        check_head_attention(2, 4, 2, 200, 16, torch::kBFloat16, 3e-2);
    }

    void rmsNormMatchesComposition() {
        auto gen = at::detail::createCPUGenerator(5);
        for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
            const double tolerance = dtype == torch::kFloat32 ? 1e-5 : 3e-2;
            const auto x0 = (torch::randn({3, 37, 96}, gen) * 3.0).to(dtype);
            const auto w0 = (1.0 + 0.1 * torch::randn({96}, gen)).to(dtype);
            const auto r = torch::randn({3, 37, 96}, gen);
            auto x1 = x0.clone().requires_grad_(true), w1 = w0.clone().requires_grad_(true);
            auto x2 = x0.to(torch::kFloat32).requires_grad_(true),
                 w2 = w0.to(torch::kFloat32).requires_grad_(true);
            const auto got = fused_rms_norm(x1, w1, 1e-5);
            const auto want = rms_norm_composition(x2, w2, 1e-5);
            QCOMPARE(got.scalar_type(), dtype);
            QVERIFY2(head_relative_error(got, want) < tolerance, c10::toString(dtype));
            (got.to(torch::kFloat32) * r).sum().backward();
            (want * r).sum().backward();
            QVERIFY2(head_relative_error(x1.grad(), x2.grad()) < 4 * tolerance, c10::toString(dtype));
            QVERIFY2(head_relative_error(w1.grad(), w2.grad()) < 4 * tolerance, c10::toString(dtype));
        }
        // A frozen weight (RILQ): no weight gradient is computed, the input gradient still is.
        auto x = torch::randn({4, 32}, gen).requires_grad_(true);
        fused_rms_norm(x, torch::ones({32}), 1e-6).sum().backward();
        QVERIFY(x.grad().defined() && x.grad().abs().sum().item<double>() > 0.0);
    }
};

RILQ_TEST_APPLESS_MAIN(TestHeadAttention)
#include "test_head_attention.moc"
