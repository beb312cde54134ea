// rilq pretrain's loop: it learns a structured stream, follows its lr schedule, resumes
// from a checkpoint to exactly the weights of an uninterrupted run, and stops on cancel.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <torch/torch.h>

#include "core/pretrain/pretrain_record.h"
#include "core/pretrain/pretrainer.h"
#include "core/store/run_store.h"
#include "tests/support/test_support.h"

#include <cmath>
#include <filesystem>

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

    // The whole job on real text (tokenizer trained on TinyStories, then the model), recorded
    // in the run store with its curves and model folder; a cancelled job is recorded KILLED.
    void recordedJobLandsInTheStore() {
        const std::string dir = test::make_temp_dir("pretrain-record");
        const std::string text = test::read_file(test::shared_data("tinystories/tinystories_val.txt"));
        test::write_file(dir + "/train.txt", text.substr(0, 300000));
        test::write_file(dir + "/val.txt", text.substr(300000, 40000));
        PretrainJob job;
        job.train_text = dir + "/train.txt";
        job.val_text = dir + "/val.txt";
        job.out_dir = dir + "/model";
        job.vocab_size = 512; // byte fallback + the text's 323 distinct characters need room
        job.config = tiny();
        job.config.max_steps = 20;
        job.config.eval_every = 10;
        store::RunStore store(dir + "/runs.db");
        const auto r = run_recorded_pretrain_job(store, "pretrain", job, {});
        QCOMPARE(r.training.steps, int64_t(20));
        QVERIFY(std::filesystem::exists(dir + "/model/config.json"));
        const auto runs = store.list_runs({});
        QCOMPARE(runs.size(), size_t(1));
        QVERIFY(runs[0].status == store::RunStatus::Finished);
        QCOMPARE(runs[0].experiment, std::string("pretrain"));
        QCOMPARE(store.metric_history(runs[0].uuid, "train_loss").size(), size_t(20));
        const auto val = store.metric_history(runs[0].uuid, "val_loss");
        QVERIFY(!val.empty());
        QCOMPARE(val.back().value, r.training.final_val_loss);
        QCOMPARE(store.params(runs[0].uuid).at("hidden_size"), std::string("32"));
        QCOMPARE(store.artifacts(runs[0].uuid).at(0).kind, std::string("pretrained_model"));

        CancelToken cancel;
        cancel.cancel();
        ProgressSink sink;
        sink.cancel = &cancel;
        job.out_dir = dir + "/cancelled";
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_recorded_pretrain_job(store, "pretrain", job, {}, sink));
        store::RunFilter killed;
        killed.status = store::RunStatus::Killed;
        QCOMPARE(store.list_runs(killed).size(), size_t(1));
    }

    void rejectsTooShortText() {
        const auto c = tiny();
        auto model = LlamaModel::random(pretrain_model_config(c, 16, 0, 1), 1);
        QVERIFY_THROWS_EXCEPTION(Error, pretrain(model, {1, 2, 3}, counting_stream(2000, 2), c, "", {}));
    }
};

RILQ_TEST_APPLESS_MAIN(TestPretrain)
#include "test_pretrain.moc"
