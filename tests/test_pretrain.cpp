// rilq pretrain's loop: it learns a structured stream, follows its lr schedule, resumes
// from a checkpoint to exactly the weights of an uninterrupted run, and stops on cancel.
#include <QtTest/QtTest>
#include <torch/torch.h>

#include "core/pretrain/pretrainer.h"
#include "tests/support/test_support.h"

#include <cmath>

using namespace rilq;

namespace {

// A stream with learnable structure: counting runs 0..k-1 of varying length over 16 ids.
std::vector<int64_t> counting_stream(int64_t n, uint64_t seed) {
    std::vector<int64_t> out;
    auto gen = at::detail::createCPUGenerator(seed);
    while (static_cast<int64_t>(out.size()) < n) {
        const int64_t k = 4 + torch::randint(12, {1}, gen, torch::kInt64).item<int64_t>();
        for (int64_t i = 0; i < k; ++i) out.push_back(i);
    }
    out.resize(static_cast<size_t>(n));
    return out;
}

PretrainConfig tiny() {
    PretrainConfig c;
    c.hidden_size = 32;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.intermediate_size = 64;
    c.seqlen = 32;
    c.batch_size = 8;
    c.max_steps = 60;
    c.lr = 1e-2;
    c.min_lr = 1e-3;
    c.warmup_steps = 5;
    c.eval_every = 20;
    c.eval_windows = 8;
    return c;
}

} // namespace

class TestPretrain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scheduleWarmsUpThenDecays() {
        auto c = tiny();
        QCOMPARE(pretrain_lr(c, 0), c.lr / 5);
        QCOMPARE(pretrain_lr(c, 4), c.lr);
        QVERIFY(std::abs(pretrain_lr(c, c.max_steps) - c.min_lr) < 1e-12);
        QVERIFY(pretrain_lr(c, 30) < c.lr && pretrain_lr(c, 30) > c.min_lr);
    }

    void learnsTheStream() {
        const auto c = tiny();
        auto model = LlamaModel::random(pretrain_model_config(c, 16, 0, 1), 1);
        std::vector<double> val;
        const auto r = pretrain(model, counting_stream(20000, 1), counting_stream(2000, 2), c, "",
                                [&](const PretrainEvent& e) {
                                    if (e.kind == PretrainEvent::Kind::Validation) val.push_back(e.val_loss);
                                });
        QCOMPARE(r.steps, int64_t(60));
        QCOMPARE(val.size(), size_t(3));
        // Uniform guessing over 16 ids costs ln 16 = 2.77 nats; counting runs are mostly predictable.
        QVERIFY2(r.final_val_loss < 1.2, qPrintable(QString::number(r.final_val_loss)));
        QVERIFY(val.back() < val.front());
        for (const auto& p : model.parameters()) QVERIFY(!p.requires_grad());
    }

    void resumeReproducesUninterruptedRun() {
        auto c = tiny();
        c.max_steps = 40;
        const auto cfg = pretrain_model_config(c, 16, 0, 1);
        const auto train = counting_stream(20000, 3), val = counting_stream(2000, 4);

        auto full = LlamaModel::random(cfg, 7);
        pretrain(full, train, val, c, "", {});

        const std::string dir = test::make_temp_dir("pretrain-ckpt");
        auto first = LlamaModel::random(cfg, 7);
        // Stop at step 20 by cancel (not by a smaller max_steps, which would change the lr schedule).
        CancelToken cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, pretrain(first, train, val, c, dir, [&](const PretrainEvent& e) {
                                     if (e.kind == PretrainEvent::Kind::Validation && e.step == 20) cancel.cancel();
                                 }, &cancel));
        auto resumed = LlamaModel::random(cfg, 99);   // different init: everything must come from the checkpoint
        const auto r = pretrain(resumed, train, val, c, dir, {});
        QVERIFY(r.resumed);
        QCOMPARE(r.steps, int64_t(40));
        const auto a = full.hf_state(), b = resumed.hf_state();
        for (const auto& [name, t] : a) {
            const double d = test::max_abs_diff(t, b.at(name));
            QVERIFY2(d < 1e-5, qPrintable(QString::fromStdString(name) + " differs by " + QString::number(d)));
        }
    }

    void rejectsTooShortText() {
        const auto c = tiny();
        auto model = LlamaModel::random(pretrain_model_config(c, 16, 0, 1), 1);
        QVERIFY_THROWS_EXCEPTION(Error, pretrain(model, {1, 2, 3}, counting_stream(2000, 2), c, "", {}));
    }
};

QTEST_APPLESS_MAIN(TestPretrain)
#include "test_pretrain.moc"
