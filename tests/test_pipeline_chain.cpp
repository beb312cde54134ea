// The whole downstream chain in one run on the real stories260K: ICQ-NF 2-bit -> RILQ
// compensation (r 4) -> IR-QLoRA SFT on the Alpaca demo rows continuing from those adapters ->
// perplexity and tasks (MMLU 5-shot, ARC-Easy) at every stage. The recorded numbers must equal
// what the tasks code and the perplexity code compute independently on the run's saved outputs
// (quantized/ + adapter/ or finetuned_adapter/); the two trainings' curves stay apart (t_loss vs
// sft.t_loss); a cancel during the SFT ends KILLED and a resume finishes with the same numbers as
// an uninterrupted run.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_errors.h"
#include "tests/support/test_support.h"

#include "core/data/eval_windows.h"
#include "core/data/text_sources.h"
#include "core/eval/perplexity.h"
#include "core/eval/tasks/task.h"
#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/run/experiment_config.h"
#include "core/run/runner.h"
#include "core/store/run_store.h"
#include "core/tokenize/tokenizer.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// Small enough for CI on one thread: 8 RILQ updates, 6 SFT updates of 4 examples, 3 MMLU
// subjects x 2 questions and 12 ARC-Easy items per stage.
nlohmann::json chain_experiment() {
    return nlohmann::json::parse(R"({
      "format_version": 1,
      "name": "chain-test",
      "seed": 42,
      "datasets": {
        "calib": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.0, 0.5]},
        "heldout": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.5, 1.0],
                    "max_windows": 4}
      },
      "rilq": {
        "base_model": "stories260K/stories260K.bin",
        "tokenizer": "stories260K/tok512.model",
        "lora_r": 4,
        "lora_alpha": 16,
        "dtype": "fp32",
        "output_dir": "out/{run}",
        "calib_dataset": "calib",
        "calib_num_samples": 10,
        "calib_val_ratio": 0.2,
        "calib_max_length": 64,
        "approx_total_steps": 16,
        "approx_lr": 3e-3,
        "approx_batch_size": 2,
        "gradient_accumulation_steps": 2,
        "approx_eval_steps": 4,
        "approx_early_stop": false
      },
      "quant": {"method": "icq-nf", "bits": 2, "group_size": 64},
      "eval": {
        "datasets": ["heldout"],
        "seqlen": 128,
        "tasks": {
          "mmlu": {"path": "mmlu", "shots": 5, "limit": 2,
                   "subjects": ["abstract_algebra", "high_school_geography", "world_religions"]},
          "arc_easy": {"path": "tasks/arc", "limit": 12}
        }
      },
      "finetune": {
        "data": "alpaca/alpaca_en_demo.json",
        "eval_dataset_size": 16,
        "max_eval_samples": 8,
        "max_train_samples": 48,
        "source_max_len": 96,
        "target_max_len": 32,
        "approx_total_steps": 6,
        "approx_lr": 3e-3,
        "approx_batch_size": 4,
        "approx_eval_steps": 3,
        "eval_batch_size": 4
      }
    })");
}

run::ExperimentConfig chain_parse(const nlohmann::json& doc) {
    run::ParseOptions options;
    options.data_root_override = test::shared_data();
    return run::parse_experiment(doc, options);
}

const store::TaskScore* chain_score(const std::vector<store::TaskScore>& scores, const std::string& task,
                                    const std::string& stage) {
    for (const auto& s : scores)
        if (s.task == task && s.stage == stage) return &s;
    return nullptr;
}

double chain_ppl(const std::vector<store::EvalResult>& evals, const std::string& stage) {
    for (const auto& e : evals)
        if (e.stage == stage) return e.ppl;
    return std::nan("");
}

// What the tasks code and the perplexity code compute on `model`, without the runner.
struct ChainEvaluation {
    std::map<std::string, TaskResult> tasks;
    double ppl = 0.0;
};

ChainEvaluation chain_evaluate(const LlamaModel& model, const run::RunConfig& config) {
    const auto tokenizer = load_tokenizer(test::shared_data("stories260K/tok512.model"));
    ChainEvaluation out;
    for (const TaskSpec& spec : config.task_specs())
        out.tasks[spec.name] = load_task(spec)->evaluate(model, *tokenizer, {});
    rilq::DatasetSpec data;
    data.kind = DatasetKind::Text;
    data.path = test::shared_data("tinystories/tinystories_val.txt");
    data.range_begin = 0.5;
    EvalWindowOptions windows;
    windows.seqlen = 128;
    windows.max_windows = 4;
    out.ppl =
        evaluate_perplexity(model, to_tensor(build_eval_windows(data, *tokenizer, windows).windows)).ppl;
    return out;
}

// The recorded stage equals the independent evaluation: accuracies exactly (the same items scored
// the same way; the saved adapters differ from the trained ones by the IEC fold's rounding only),
// perplexity to 1e-5 relative.
void chain_expect_stage(const run::RunOutcome& outcome, const std::string& stage,
                        const ChainEvaluation& fresh) {
    for (const auto& [task, result] : fresh.tasks) {
        const store::TaskScore* recorded = chain_score(outcome.tasks, task, stage);
        QVERIFY2(recorded != nullptr, (task + " " + stage).c_str());
        QCOMPARE(recorded->n, result.n);
        QCOMPARE(recorded->acc, result.acc);
        if (!std::isnan(result.acc_norm)) QCOMPARE(recorded->acc_norm, result.acc_norm);
        QCOMPARE(recorded->data_sha256, result.protocol.data_sha256);
        QCOMPARE(recorded->shots, result.protocol.shots);
    }
    const double recorded = chain_ppl(outcome.evals, stage);
    QVERIFY2(std::abs(recorded - fresh.ppl) < 1e-5 * fresh.ppl,
             (stage + ": " + std::to_string(recorded) + " vs " + std::to_string(fresh.ppl)).c_str());
}

} // namespace

class TestPipelineChain : public QObject {
    Q_OBJECT

    std::string dir_;
    run::RunOutcome finished_; // the uninterrupted chain, for the resume's comparison

  private Q_SLOTS:
    void initTestCase() {
        torch::set_num_threads(1);
        dir_ = test::make_temp_dir("pipeline-chain");
    }

    void chainIsRecordedAndOutputsReproduceIt() {
        run::RunnerOptions options;
        options.store_path = dir_ + "/runs.db";
        options.output_base = dir_;
        std::vector<run::RunStage> stages;
        options.on_event = [&](const run::RunnerEvent& e) {
            if (e.kind == run::RunnerEvent::Kind::Stage) stages.push_back(e.stage);
        };
        const run::ExperimentConfig experiment = chain_parse(chain_experiment());
        const auto outcomes = run::Runner(options).run_experiment(experiment);
        QCOMPARE(outcomes.size(), size_t{1});
        const run::RunOutcome& o = outcomes[0];
        QVERIFY2(o.status == store::RunStatus::Finished, o.message.c_str());
        finished_ = o;
        QCOMPARE(o.train.updates, int64_t{8});
        QCOMPARE(o.finetune.updates, int64_t{6});
        QVERIFY(std::isfinite(o.finetune_eval_loss));
        // The stages ran in the chain's order.
        const auto position_of = [&](run::RunStage s) {
            return std::find(stages.begin(), stages.end(), s) - stages.begin();
        };
        QVERIFY(position_of(run::RunStage::Train) < position_of(run::RunStage::EvalCompensated));
        QVERIFY(position_of(run::RunStage::EvalCompensated) < position_of(run::RunStage::Finetune));
        QVERIFY(position_of(run::RunStage::Finetune) < position_of(run::RunStage::EvalFinetuned));
        QVERIFY(position_of(run::RunStage::EvalFinetuned) < position_of(run::RunStage::Save));

        // Every stage has its perplexity and both tasks, with the protocol.
        store::RunStore db(options.store_path);
        QCOMPARE(db.eval_results(o.uuid).size(), size_t{4});
        const auto scores = db.task_scores(o.uuid);
        QCOMPARE(scores.size(), size_t{8});
        for (const char* stage : {"fp", "quantized", "compensated", "finetuned"}) {
            const store::TaskScore* mmlu = chain_score(scores, "mmlu", stage);
            QVERIFY2(mmlu != nullptr, stage);
            QCOMPARE(mmlu->n, int64_t{6});
            QCOMPARE(mmlu->shots, int64_t{5});
            QCOMPARE(nlohmann::json::parse(mmlu->protocol_json)["subjects"].size(), size_t{3});
            QVERIFY(mmlu->groups.size() >= 3 + 3); // categories, subcategories, the three subjects
            QCOMPARE(chain_score(scores, "arc_easy", stage)->n, int64_t{12});
        }

        // The two trainings' curves live under their own keys: RILQ's 8 updates and 3
        // validations (0, 4, 8); the SFT's 6 updates, validations at 0, 3, 6, and its final loss.
        QCOMPARE(db.metric_history(o.uuid, "t_loss").size(), size_t{8});
        QCOMPARE(db.metric_history(o.uuid, "v_loss").size(), size_t{3});
        QCOMPARE(db.metric_history(o.uuid, "sft.t_loss").size(), size_t{6});
        QCOMPARE(db.metric_history(o.uuid, "sft.grad_norm").size(), size_t{6});
        QCOMPARE(db.metric_history(o.uuid, "sft.v_loss").size(), size_t{3});
        const auto final_loss = db.metric_history(o.uuid, "sft.final_eval_loss");
        QCOMPARE(final_loss.size(), size_t{1});
        QCOMPARE(final_loss[0].value, o.finetune_eval_loss);
        const auto sft_v = db.metric_history(o.uuid, "sft.v_loss");
        QVERIFY(sft_v.back().value < sft_v.front().value); // the SFT moved its own loss

        // Artifacts: RILQ's adapter and the fine-tuned one, beside the quantized base.
        std::set<std::string> kinds;
        for (const auto& a : db.artifacts(o.uuid))
            kinds.insert(a.kind);
        QCOMPARE(kinds, (std::set<std::string>{"quantized_model", "adapter", "finetuned_adapter",
                                               "quant_stats", "run_summary"}));
        QVERIFY(!fs::exists(o.output_dir + ".checkpoint")); // removed once finished
        const auto summary = nlohmann::json::parse(test::read_file(o.output_dir + "/run.json"));
        QCOMPARE(summary["finetune"]["updates"].get<int64_t>(), int64_t{6});
        QCOMPARE(summary["tasks"].size(), size_t{8});

        // Independently: the saved quantized base alone, with RILQ's adapter, and with the
        // fine-tuned adapter give back the quantized, compensated and fine-tuned results.
        const run::RunConfig& config = experiment.runs[0];
        {
            LlamaModel base = load_model(o.output_dir + "/quantized");
            chain_expect_stage(o, "quantized", chain_evaluate(base, config));
            load_peft_adapter(o.output_dir + "/adapter", base);
            chain_expect_stage(o, "compensated", chain_evaluate(base, config));
        }
        {
            LlamaModel base = load_model(o.output_dir + "/quantized");
            load_peft_adapter(o.output_dir + "/finetuned_adapter", base);
            chain_expect_stage(o, "finetuned", chain_evaluate(base, config));
        }
        chain_expect_stage(
            o, "fp", chain_evaluate(load_model(test::shared_data("stories260K/stories260K.bin")), config));
        QVERIFY(chain_ppl(o.evals, "finetuned") != chain_ppl(o.evals, "compensated"));
    }

    // A missing Alpaca file stops the experiment before any point starts (not after RILQ).
    void missingFinetuneDataFailsBeforeAnyWork() {
        const std::string dir = test::make_temp_dir("pipeline-missing");
        nlohmann::json doc = chain_experiment();
        doc["finetune"]["data"] = "alpaca/no_such_file.json";
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        test::expect_error(
            [&] { run::Runner(options).run_experiment(chain_parse(doc)); },
            {"run chain-test: finetune.data: no file " +
             fs::path(test::shared_data("alpaca/no_such_file.json")).lexically_normal().string()});
        QVERIFY(!fs::exists(options.store_path) || store::RunStore(options.store_path).list_runs({}).empty());
    }

    void cancelDuringFinetuneResumesToTheSameResult() {
        QVERIFY2(!finished_.uuid.empty(), "needs chainIsRecordedAndOutputsReproduceIt");
        const std::string dir = test::make_temp_dir("pipeline-cancel");
        CancelToken cancel;
        run::RunnerOptions options;
        options.store_path = dir + "/runs.db";
        options.output_base = dir;
        options.cancel = &cancel;
        options.on_event = [&](const run::RunnerEvent& e) {
            if (e.kind == run::RunnerEvent::Kind::Train && e.stage == run::RunStage::Finetune &&
                e.train.kind == TrainEventKind::Update && e.train.update_step == 4)
                cancel.cancel();
        };
        const auto killed = run::Runner(options).run_experiment(chain_parse(chain_experiment()));
        QCOMPARE(killed.size(), size_t{1});
        QVERIFY2(killed[0].status == store::RunStatus::Killed, killed[0].message.c_str());
        QVERIFY(fs::exists(killed[0].output_dir + ".checkpoint/sft/checkpoint.json"));
        QVERIFY(fs::exists(killed[0].output_dir + "/adapter/adapter_model.safetensors"));
        {
            store::RunStore db(options.store_path);
            QVERIFY(chain_score(db.task_scores(killed[0].uuid), "mmlu", "compensated") != nullptr);
            QVERIFY(chain_score(db.task_scores(killed[0].uuid), "mmlu", "finetuned") == nullptr);
        }

        run::RunnerOptions again = options;
        again.cancel = nullptr;
        again.on_event = {};
        const auto resumed = run::Runner(again).resume(killed[0].uuid);
        QVERIFY2(resumed.status == store::RunStatus::Finished, resumed.message.c_str());
        QCOMPARE(resumed.finetune.updates, int64_t{6});
        store::RunStore db(options.store_path);
        QVERIFY(db.get_run(resumed.uuid).summary.status == store::RunStatus::Finished);
        // RILQ was not trained again (its curve has one point per update), and the resumed SFT
        // ends where the uninterrupted one did.
        QCOMPARE(db.metric_history(resumed.uuid, "t_loss").size(), size_t{8});
        const double expected = chain_ppl(finished_.evals, "finetuned");
        QVERIFY2(std::abs(chain_ppl(resumed.evals, "finetuned") - expected) < 1e-6 * expected,
                 (std::to_string(chain_ppl(resumed.evals, "finetuned")) + " vs " + std::to_string(expected))
                     .c_str());
        for (const char* task : {"mmlu", "arc_easy"})
            QCOMPARE(chain_score(resumed.tasks, task, "finetuned")->acc,
                     chain_score(finished_.tasks, task, "finetuned")->acc);
        QVERIFY(fs::exists(resumed.output_dir + "/finetuned_adapter/adapter_model.safetensors"));
        QVERIFY(fs::exists(resumed.output_dir + "/adapter/adapter_model.safetensors"));
        QVERIFY(!fs::exists(resumed.output_dir + ".checkpoint"));
    }
};

RILQ_TEST_APPLESS_MAIN(TestPipelineChain)
#include "test_pipeline_chain.moc"
