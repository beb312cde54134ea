// The Llama forward computes causal attention by blocks of 128 queries (core/model). Causality
// gives an independent check across block boundaries: the outputs (and the gradients of a loss
// on them) for the first L positions of a long window must equal those of the L-token window
// alone, which for L <= 128 runs as a single block.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"

#include <torch/torch.h>

using namespace rilq;

class TestCausalAttention : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void prefixesMatchAcrossBlocks() {
        LlamaConfig c = test::tiny_llama_config();
        c.max_position_embeddings = 512;
        const auto model = LlamaModel::random(c, 51);
        const auto ids = test::random_windows(2, 300, 64, 52);   // blocks [0,128) [128,256) [256,300)
        torch::NoGradGuard no_grad;
        const auto full = model.logits(ids);
        for (const int64_t L : {1, 100, 128, 129, 255, 256, 257, 299}) {
            const double d = test::max_abs_diff(model.logits(ids.slice(1, 0, L)), full.slice(1, 0, L));
            QVERIFY2(d < 1e-5, (std::to_string(L) + ": " + std::to_string(d)).c_str());
        }
        // And later tokens really do matter (the check above is not vacuous).
        auto changed = ids.clone();
        changed[0][150] = (changed[0][150].item<int64_t>() + 1) % 64;
        QVERIFY(test::max_abs_diff(model.logits(changed).slice(1, 150), full.slice(1, 150)) > 1e-4);
        QCOMPARE(test::max_abs_diff(model.logits(changed).slice(1, 0, 150), full.slice(1, 0, 150)), 0.0);
    }

    void gradientsMatchAcrossBlocks() {
        LlamaConfig c = test::tiny_llama_config();
        c.max_position_embeddings = 512;
        auto model = LlamaModel::random(c, 53);
        LoraConfig lc;
        lc.r = 4;
        auto set = attach_lora(model, lc);
        auto gen = at::detail::createCPUGenerator(5);
        for (const auto& a : set.adapters()) a->set_parameter("lora_B", torch::randn(a->B().sizes(), gen) * 0.05);
        const auto ids = test::random_windows(1, 260, 64, 54);
        const int64_t L = 200;   // spans two blocks in the long window
        auto grads = [&](const torch::Tensor& input) {
            for (auto& p : set.parameters()) p.mutable_grad() = torch::Tensor();
            model.logits(input).slice(1, 0, L).pow(2).mean().backward();
            std::vector<torch::Tensor> g;
            for (const auto& p : set.parameters()) g.push_back(p.grad().clone());
            return g;
        };
        const auto long_window = grads(ids);
        const auto short_window = grads(ids.slice(1, 0, L));
        double worst = 0.0, scale = 0.0;
        for (size_t i = 0; i < long_window.size(); ++i) {
            worst = std::max(worst, test::max_abs_diff(long_window[i], short_window[i]));
            scale = std::max(scale, short_window[i].abs().max().item<double>());
        }
        QVERIFY(scale > 0.0);
        QVERIFY2(worst < 1e-5 * scale, (std::to_string(worst) + " vs " + std::to_string(scale)).c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestCausalAttention)
#include "test_causal_attention.moc"
