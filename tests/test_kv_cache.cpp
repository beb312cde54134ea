// The Llama forward continuing from cached keys/values (core/model/kv_cache.h): the logits of a
// sequence run in two parts - a prefix whose keys/values are kept, then the rest - must equal
// the logits of the whole sequence run at once, for every split point, across attention blocks,
// with grouped-query attention and LoRA adapters, and when one cached prefix serves a batch of
// right-padded continuations. This is what task evaluation's prefix reuse relies on.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

using namespace rilq;

namespace {

constexpr double kKvCacheTolerance = 1e-5;

// Runs ids from position 0; returns their logits and fills `cache` with their keys/values.
torch::Tensor run_keeping(const LlamaModel& model, const torch::Tensor& ids, KvCache& cache) {
    ForwardOptions opts;
    opts.present = &cache;
    return model.forward(ids, opts).logits;
}

// Runs ids continuing `cache`.
torch::Tensor run_after(const LlamaModel& model, const torch::Tensor& ids, const KvCache& cache) {
    ForwardOptions opts;
    opts.past = &cache;
    return model.forward(ids, opts).logits;
}

// Logits of ids[:, split:] continuing the keys/values of ids[:, :split].
torch::Tensor continued_logits(const LlamaModel& model, const torch::Tensor& ids, int64_t split) {
    KvCache cache;
    const auto head = run_keeping(model, ids.slice(1, 0, split), cache);
    return torch::cat({head, run_after(model, ids.slice(1, split), cache)}, 1);
}

} // namespace

class TestKvCache : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void cachedEqualsWholeAtEverySplit() {
        LlamaConfig c = test::tiny_llama_config(); // 4 query heads over 2 KV heads
        c.max_position_embeddings = 512;
        const auto model = test::structured_random_model(c, 61);
        const auto ids = test::random_windows(2, 300, c.vocab_size, 62);
        torch::NoGradGuard no_grad;
        const auto whole = model.logits(ids);
        for (const int64_t split : {1, 37, 127, 128, 129, 200, 299}) {
            const double d = test::max_abs_diff(continued_logits(model, ids, split), whole);
            QVERIFY2(d < kKvCacheTolerance, (std::to_string(split) + ": " + std::to_string(d)).c_str());
        }
        // Not vacuous: the cached part matters to the rest.
        KvCache other;
        run_keeping(model, test::random_windows(2, 100, c.vocab_size, 63), other);
        QVERIFY(test::max_abs_diff(run_after(model, ids.slice(1, 100), other), whole.slice(1, 100)) > 1e-2);
    }

    void presentHoldsPastAndNew() {
        const LlamaConfig c = test::tiny_llama_config();
        const auto model = LlamaModel::random(c, 64);
        const auto ids = test::random_windows(1, 30, c.vocab_size, 65);
        torch::NoGradGuard no_grad;
        KvCache a, ab, whole;
        run_keeping(model, ids.slice(1, 0, 10), a);
        ForwardOptions both;
        both.past = &a;
        both.present = &ab;
        model.forward(ids.slice(1, 10), both);
        run_keeping(model, ids, whole);
        QCOMPARE(a.length(), int64_t{10});
        QCOMPARE(ab.length(), int64_t{30});
        QCOMPARE(static_cast<int64_t>(ab.layers.size()), c.num_hidden_layers);
        QCOMPARE(ab.layers[0].keys.sizes().vec(),
                 (std::vector<int64_t>{1, c.num_key_value_heads, 30, c.head_dim}));
        for (size_t l = 0; l < whole.layers.size(); ++l) {
            QVERIFY(test::max_abs_diff(ab.layers[l].keys, whole.layers[l].keys) < kKvCacheTolerance);
            QVERIFY(test::max_abs_diff(ab.layers[l].values, whole.layers[l].values) < kKvCacheTolerance);
        }
        // first(n) is the cache of the first n tokens.
        const KvCache cut = whole.first(10);
        QCOMPARE(cut.length(), int64_t{10});
        QVERIFY(test::max_abs_diff(cut.layers[1].keys, a.layers[1].keys) < kKvCacheTolerance);
    }

    void onePrefixServesAPaddedBatch() {
        LlamaConfig c = test::tiny_llama_config();
        c.max_position_embeddings = 256;
        const auto model = test::structured_random_model(c, 66);
        const auto prefix = test::random_windows(1, 40, c.vocab_size, 67);
        const std::vector<int64_t> lengths = {5, 17, 1};
        const auto tails = test::random_windows(3, 17, c.vocab_size, 68);
        torch::NoGradGuard no_grad;
        KvCache cache;
        run_keeping(model, prefix, cache);
        // Row r holds its tokens then padding (id 0) up to 17.
        auto batch = torch::zeros({3, 17}, torch::kInt64);
        for (int64_t r = 0; r < 3; ++r)
            batch[r].slice(0, 0, lengths[static_cast<size_t>(r)]) =
                tails[r].slice(0, 0, lengths[static_cast<size_t>(r)]);
        const auto batched = run_after(model, batch, cache); // batch 1 past, batch 3 rows
        for (int64_t r = 0; r < 3; ++r) {
            const int64_t n = lengths[static_cast<size_t>(r)];
            const auto alone = model.logits(torch::cat({prefix, tails[r].slice(0, 0, n).unsqueeze(0)}, 1));
            const double d = test::max_abs_diff(batched[r].slice(0, 0, n), alone[0].slice(0, 40));
            QVERIFY2(d < kKvCacheTolerance, (std::to_string(r) + ": " + std::to_string(d)).c_str());
        }
    }

    void adaptersApplyToContinuedTokens() {
        const LlamaConfig c = test::tiny_llama_config();
        auto model = test::structured_random_model(c, 69);
        LoraConfig lc;
        lc.r = 4;
        const LoraSet lora = attach_lora(model, lc);
        auto gen = at::detail::createCPUGenerator(71);
        for (const auto& adapter : lora.adapters()) // B = 0 would make the adapters a no-op
            adapter->set_parameter("lora_B", torch::randn(adapter->B().sizes(), gen) * 0.05);
        const auto ids = test::random_windows(1, 50, c.vocab_size, 72);
        torch::NoGradGuard no_grad;
        QVERIFY(test::max_abs_diff(continued_logits(model, ids, 23), model.logits(ids)) < kKvCacheTolerance);
    }

    void errorsNameTheLimits() {
        LlamaConfig c = test::tiny_llama_config(); // context 64
        const auto model = LlamaModel::random(c, 73);
        torch::NoGradGuard no_grad;
        KvCache cache;
        run_keeping(model, test::random_windows(2, 40, c.vocab_size, 74), cache);
        try {
            run_after(model, test::random_windows(2, 30, c.vocab_size, 75), cache);
            QFAIL("expected an error past the context");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("70 exceeds max_position_embeddings 64") != std::string::npos,
                     e.what());
        }
        try {
            run_after(model, test::random_windows(3, 5, c.vocab_size, 76), cache); // past of batch 2, 3 rows
            QFAIL("expected a batch mismatch error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("batch 2") != std::string::npos, e.what());
        }
    }
};

RILQ_TEST_APPLESS_MAIN(TestKvCache)
#include "test_kv_cache.moc"
