// The Runner end to end on the real stories260K: a two-point rank sweep recorded in the store
// (PPL per stage, curves, layer stats, artifacts), outputs that load back and reproduce the
// recorded compensated PPL through the PEFT adapter, cancel -> KILLED with its adapters and
// checkpoint kept, resume -> FINISHED, and a bad model path -> FAILED with the path named.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/stories_experiment.h"
#include "tests/support/test_support.h"

#include "core/data/eval_windows.h"
#include "core/data/text_sources.h"
#include "core/eval/perplexity.h"
#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/run/experiment_config.h"
#include "core/run/runner.h"
#include "core/store/run_store.h"
#include "core/tokenize/tokenizer.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

nlohmann::json tiny_experiment() {
    return test::stories260k_tiny_experiment();
}

run::ExperimentConfig parse(const nlohmann::json& doc) {
    return test::parse_with_shared_data(doc);
}

double ppl_of(const std::vector<store::EvalResult>& evals, const std::string& stage) {
    for (const auto& e : evals)
        if (e.stage == stage) return e.ppl;
    return std::nan("");
}

// PPL of `model` on the held-out windows, computed here without the runner.
double heldout_ppl(const LlamaModel& model) {
    const auto tokenizer = load_tokenizer(test::shared_data("stories260K/tok512.bin"));
    rilq::DatasetSpec spec;
    spec.kind = DatasetKind::Text;
    spec.path = test::shared_data("tinystories/tinystories_val.txt");
    spec.range_begin = 0.5;
    EvalWindowOptions options;
    options.seqlen = 128;
    options.max_windows = 12;
    const EvalWindows windows = build_eval_windows(spec, *tokenizer, options);
    return evaluate_perplexity(model, to_tensor(windows.windows)).ppl;
}

} // namespace

class TestRunner : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void sweepIsRecordedAndOutputsReproduceIt() {
        const std::string dir = test::make_temp_dir("runner-sweep");
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        std::vector<run::RunnerEvent> events;
        options.on_event = [&](const run::RunnerEvent& e) { events.push_back(e); };
        const auto outcomes = run::Runner(options).run_experiment(parse(tiny_experiment()));

        QCOMPARE(outcomes.size(), size_t{2});
        for (const auto& o : outcomes)
            QVERIFY2(o.status == store::RunStatus::Finished, o.message.c_str());
        const auto& r0 = outcomes[0];
        const auto& r4 = outcomes[1];

        // The FP PPL is the one computed here independently; both points share it.
        const double fp = heldout_ppl(load_model(test::shared_data("stories260K/stories260K.bin")));
        QVERIFY(std::abs(ppl_of(r0.evals, "fp") - fp) < 1e-9 * fp);
        QCOMPARE(ppl_of(r4.evals, "fp"), ppl_of(r0.evals, "fp"));
        QCOMPARE(ppl_of(r4.evals, "quantized"), ppl_of(r0.evals, "quantized"));
        // 2-bit breaks the model; rank 0 compensates nothing; rank 4 recovers part of it.
        QVERIFY(ppl_of(r0.evals, "quantized") > 3.0 * fp);
        QVERIFY(std::isnan(ppl_of(r0.evals, "compensated")));
        QVERIFY(ppl_of(r4.evals, "compensated") < ppl_of(r4.evals, "quantized"));

        store::RunStore db(options.store_path);
        // Curves: one t_loss point per update (12), validations at updates 0, 3, ..., 12.
        QCOMPARE(db.metric_history(r4.uuid, "t_loss").size(), size_t{12});
        QCOMPARE(db.metric_history(r4.uuid, "v_loss").size(), size_t{5});
        QCOMPARE(db.metric_history(r0.uuid, "v_loss").size(), size_t{1});
        QCOMPARE(db.eval_results(r4.uuid).size(), size_t{3});
        // Layer stats: 5 layers x 7 projections per stage and metric.
        const auto quantized = db.layer_stats(r4.uuid, "quantized");
        const auto compensated = db.layer_stats(r4.uuid, "compensated");
        const auto count = [](const std::vector<store::LayerStat>& rows, const std::string& metric) {
            return std::count_if(rows.begin(), rows.end(), [&](const auto& s) { return s.metric == metric; });
        };
        QCOMPARE(count(quantized, "rel_error"), 35L);
        QCOMPARE(count(quantized, "output_error"), 35L);
        QCOMPARE(count(quantized, "code_count_3"), 35L);
        QCOMPARE(count(compensated, "rel_error"), 35L);
        QCOMPARE(count(compensated, "output_error"), 35L);
        QVERIFY(db.layer_stats(r0.uuid, "compensated").empty());

        // Outputs: the quantized base reloads with the quantized PPL, and PEFT adapter on top of
        // it gives back the compensated PPL that was recorded.
        QVERIFY(fs::exists(r4.output_dir + "/run.json"));
        QVERIFY(!fs::exists(r4.output_dir + ".checkpoint")); // removed once finished
        LlamaModel base = load_model(r4.output_dir + "/quantized");
        QVERIFY(std::abs(heldout_ppl(base) - ppl_of(r4.evals, "quantized")) <
                1e-6 * ppl_of(r4.evals, "quantized"));
        load_peft_adapter(r4.output_dir + "/adapter", base);
        const double reloaded = heldout_ppl(base);
        QVERIFY2(
            std::abs(reloaded - ppl_of(r4.evals, "compensated")) < 1e-6 * reloaded,
            (std::to_string(reloaded) + " vs " + std::to_string(ppl_of(r4.evals, "compensated"))).c_str());
        QVERIFY(!fs::exists(r0.output_dir + "/adapter"));
        QCOMPARE(db.artifacts(r4.uuid).size(), size_t{4}); // quantized, adapter, quant_stats, run.json

        // Events: every point starts and finishes; training reported its updates.
        const auto kinds = [&](run::RunnerEvent::Kind k) {
            return std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; });
        };
        QCOMPARE(kinds(run::RunnerEvent::Kind::RunStarted), 2L);
        QCOMPARE(kinds(run::RunnerEvent::Kind::RunFinished), 2L);
        QVERIFY(kinds(run::RunnerEvent::Kind::Train) >= 12 + 5);
    }

    void cancelKeepsAdaptersAndResumeFinishes() {
        const std::string dir = test::make_temp_dir("runner-cancel");
        nlohmann::json doc = tiny_experiment();
        doc["rilq"]["lora_r"] = 4;
        CancelToken cancel;
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        options.cancel = &cancel;
        options.on_event = [&](const run::RunnerEvent& e) {
            if (e.kind == run::RunnerEvent::Kind::Train && e.train.kind == TrainEventKind::Validation &&
                e.train.update_step == 6)
                cancel.cancel();
        };
        const auto killed = run::Runner(options).run_experiment(parse(doc));
        QCOMPARE(killed.size(), size_t{1});
        QVERIFY(killed[0].status == store::RunStatus::Killed);
        QVERIFY(fs::exists(killed[0].output_dir + "/adapter/adapter_model.safetensors"));
        QVERIFY(fs::exists(killed[0].output_dir + ".checkpoint/checkpoint.json"));
        {
            store::RunStore db(options.store_path);
            QVERIFY(db.get_run(killed[0].uuid).summary.status == store::RunStatus::Killed);
            QVERIFY(db.metric_history(killed[0].uuid, "t_loss").size() >= 6); // nothing lost
        }

        run::RunnerOptions again = options;
        again.cancel = nullptr;
        again.on_event = {};
        const auto resumed = run::Runner(again).resume(killed[0].uuid.substr(0, 8));
        QVERIFY2(resumed.status == store::RunStatus::Finished, resumed.message.c_str());
        QCOMPARE(resumed.uuid, killed[0].uuid);
        QCOMPARE(resumed.train.micro_steps, int64_t{24});
        store::RunStore db(options.store_path);
        QVERIFY(db.get_run(resumed.uuid).summary.status == store::RunStatus::Finished);
        const auto t_loss = db.metric_history(resumed.uuid, "t_loss");
        QCOMPARE(t_loss.back().step, int64_t{12});
        QCOMPARE(db.eval_results(resumed.uuid).size(), size_t{3}); // fp and quantized kept once
        // A finished run cannot be resumed again.
        QVERIFY_THROWS_EXCEPTION(Error, run::Runner(again).resume(resumed.uuid));
    }

    void settingsTheQuantizerRejectsFailBeforeAnyWork() {
        const std::string dir = test::make_temp_dir("runner-reject");
        nlohmann::json doc = tiny_experiment();
        doc["quant"] = {{"method", "nf"}, {"bits", 2}, {"group_size", 0}}; // NF needs absmax blocks
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        try {
            run::Runner(options).run_experiment(parse(doc));
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("group_size") != std::string::npos, e.what());
        }
        QVERIFY(!fs::exists(dir + "/out")); // nothing ran
    }

    void badModelPathFailsNamingIt() {
        const std::string dir = test::make_temp_dir("runner-bad");
        nlohmann::json doc = tiny_experiment();
        doc["rilq"]["lora_r"] = 4;
        doc["rilq"]["base_model"] = "stories260K/no-such-model.bin";
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        const auto outcomes = run::Runner(options).run_experiment(parse(doc));
        QVERIFY(outcomes[0].status == store::RunStatus::Failed);
        QVERIFY2(outcomes[0].message.find("no-such-model.bin") != std::string::npos,
                 outcomes[0].message.c_str());
        store::RunStore db(options.store_path);
        const auto summary = db.get_run(outcomes[0].uuid).summary;
        QVERIFY(summary.status == store::RunStatus::Failed);
        QCOMPARE(summary.status_message, outcomes[0].message);
    }
};

RILQ_TEST_APPLESS_MAIN(TestRunner)
#include "test_runner.moc"
