// Perplexity protocol: checked against a second computation (log-softmax and gather in
// float64, one window at a time), batch-size independence, progress and cancellation.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <torch/torch.h>

#include "core/eval/perplexity.h"
#include "core/model/llama_model.h"
#include "tests/support/test_support.h"

#include <cmath>

using namespace rilq;

namespace {
LlamaConfig tiny_config() {
    LlamaConfig c;
    c.hidden_size = 16;
    c.intermediate_size = 40;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 4;
    c.vocab_size = 37;
    c.max_position_embeddings = 64;
    return c;
}

// exp(mean over windows of the mean next-token NLL), computed in float64 with explicit loops.
double reference_ppl(const LlamaModel& model, const torch::Tensor& windows) {
    double sum_of_means = 0.0;
    for (int64_t w = 0; w < windows.size(0); ++w) {
        auto ids = windows.narrow(0, w, 1);
        auto logp = torch::log_softmax(model.logits(ids).to(torch::kFloat64), -1).squeeze(0);  // (T, V)
        double nll = 0.0;
        const int64_t T = ids.size(1);
        for (int64_t t = 0; t + 1 < T; ++t) nll -= logp[t][ids[0][t + 1].item<int64_t>()].item<double>();
        sum_of_means += nll / static_cast<double>(T - 1);
    }
    return std::exp(sum_of_means / static_cast<double>(windows.size(0)));
}
} // namespace

class TestPerplexity : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesIndependentComputation() {
        torch::NoGradGuard g;
        const auto model = LlamaModel::random(tiny_config(), 3);
        auto gen = at::detail::createCPUGenerator(11);
        auto windows = torch::randint(37, {5, 24}, gen, torch::kInt64);
        const auto r = evaluate_perplexity(model, windows);
        const double ref = reference_ppl(model, windows);
        QVERIFY2(std::abs(r.ppl - ref) / ref < 1e-6, qPrintable(QString("ppl %1 vs %2").arg(r.ppl).arg(ref)));
        QCOMPARE(r.n_windows, int64_t(5));
        QCOMPARE(r.n_tokens, int64_t(5 * 24));
        QCOMPARE(r.n_predicted, int64_t(5 * 23));
        QCOMPARE(r.seqlen, int64_t(24));
        QVERIFY(std::abs(std::log(r.ppl) - r.mean_nll) < 1e-12);
        // A random model is close to uniform over 37 tokens: PPL near 37, not near 1.
        QVERIFY(r.ppl > 20 && r.ppl < 60);
    }

    void batchSizeDoesNotChangeResult() {
        const auto model = LlamaModel::random(tiny_config(), 4);
        auto gen = at::detail::createCPUGenerator(12);
        auto windows = torch::randint(37, {6, 16}, gen, torch::kInt64);
        const auto a = evaluate_perplexity(model, windows, {}, 1);
        const auto b = evaluate_perplexity(model, windows, {}, 4);
        QVERIFY(std::abs(a.ppl - b.ppl) / a.ppl < 1e-5);
    }

    void reportsProgressAndHonoursCancel() {
        const auto model = LlamaModel::random(tiny_config(), 5);
        auto windows = torch::zeros({4, 8}, torch::kInt64);
        std::vector<int64_t> seen;
        ProgressSink sink;
        sink.on_progress = [&](const ProgressInfo& p) { seen.push_back(p.done); };
        evaluate_perplexity(model, windows, sink);
        QCOMPARE(seen, (std::vector<int64_t>{8, 16, 24, 32}));

        CancelToken cancel;
        ProgressSink cancelling;
        cancelling.cancel = &cancel;
        cancelling.on_progress = [&](const ProgressInfo& p) {
            if (p.done >= 16) cancel.cancel();
        };
        QVERIFY_THROWS_EXCEPTION(Cancelled, evaluate_perplexity(model, windows, cancelling));
    }

    void rejectsBadWindows() {
        const auto model = LlamaModel::random(tiny_config(), 6);
        QVERIFY_THROWS_EXCEPTION(Error, evaluate_perplexity(model, torch::zeros({3}, torch::kInt64)));
        QVERIFY_THROWS_EXCEPTION(Error, evaluate_perplexity(model, torch::full({1, 4}, 99, torch::kInt64)));
    }
};

RILQ_TEST_APPLESS_MAIN(TestPerplexity)
#include "test_perplexity.moc"
