// The downstream pipeline's experiment blocks: `eval.tasks` (task name -> data, shots, limit,
// subjects, BOS rule; names from core's task list) and `finetune` (IR-QLoRA's SFT: data file,
// SftDataConfig's table, the trainer's table with finetune.sh's defaults). Round trips through
// the stored document, every error with its JSON path, sweeps over the new fields, what a point
// shares with another, the dry-run plan, and the shipped experiments.
#include "tests/support/test_support.h"

#include "core/finetune/sft_config.h"
#include "core/run/config_document.h"
#include "core/run/config_schema.h"
#include "core/run/experiment_config.h"
#include "core/run/sweep_plan.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>

#include <filesystem>

using nlohmann::json;
using namespace rilq::run;
namespace fs = std::filesystem;

namespace {

// A quantize-on-the-fly experiment with the two new blocks.
json pipeline_document() {
    return json::parse(R"({
        "name": "chain",
        "datasets": {"calib": {"type": "text", "path": "tinystories/tinystories_val.txt"}},
        "rilq": {"base_model": "stories260K/stories260K.bin", "lora_r": 4, "calib_dataset": "calib"},
        "quant": {"method": "icq-nf", "bits": 2},
        "eval": {"tasks": {"mmlu": {"path": "mmlu", "shots": 5, "limit": 3, "subjects": ["anatomy"]},
                           "arc_easy": {"path": "tasks/arc", "bos": true}}},
        "finetune": {"data": "alpaca/alpaca_en_demo.json", "eval_dataset_size": 64, "approx_total_steps": 60,
                     "approx_lr": 0.001}
    })");
}

std::string pipeline_issues(const json& doc) {
    std::string out;
    for (const auto& issue : validate_experiment(doc))
        out += (out.empty() ? "" : " | ") + issue.text();
    return out;
}

std::string pipeline_experiments_dir() {
    return fs::path(rilq::test::test_data("../../experiments")).lexically_normal().string();
}

} // namespace

class TestPipelineConfig : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // Unset fields take IR-QLoRA's recipe (finetune.sh) and the tasks' own defaults.
    void defaults_are_irqlora_recipe() {
        const RunConfig c = parse_experiment(pipeline_document()).runs[0];
        QVERIFY(c.finetunes());
        const rilq::TrainConfig& t = c.finetune.train;
        QCOMPARE(t.lora.r, int64_t{64});
        QCOMPARE(t.lora.alpha, 16.0);
        QVERIFY(t.lora.iec);
        QVERIFY(t.optimizer == rilq::OptimizerKind::AdamW);
        QCOMPARE(t.max_grad_norm, 0.3);
        QCOMPARE(t.approx_batch_size, int64_t{16});
        QCOMPARE(t.approx_eval_steps, int64_t{1000});
        QVERIFY(!t.approx_early_stop && !t.restore_best);
        QCOMPARE(t.approx_total_steps, int64_t{60}); // given
        QCOMPARE(t.approx_lr, 0.001);                // given
        QCOMPARE(c.finetune.sft.source_max_len, int64_t{384});
        QCOMPARE(c.finetune.sft.eval_dataset_size, int64_t{64});
        // The RILQ section keeps its own (official RILQ) values.
        QCOMPARE(c.train.approx_lr, 1e-4);
        QVERIFY(c.train.optimizer == rilq::OptimizerKind::Adam);

        const auto specs = c.task_specs(); // task_infos() order, paths resolved
        QCOMPARE(specs.size(), size_t{2});
        QCOMPARE(specs[0].name, std::string("mmlu"));
        QCOMPARE(specs[0].shots, int64_t{5});
        QCOMPARE(specs[0].subjects, std::vector<std::string>{"anatomy"});
        QVERIFY(!specs[0].bos.has_value());
        QCOMPARE(specs[1].name, std::string("arc_easy"));
        QCOMPARE(specs[1].shots, int64_t{-1});
        QVERIFY(specs[1].bos.value_or(false));
        QCOMPARE(specs[1].path, c.resolve("tasks/arc"));
        QVERIFY(fs::path(specs[1].path).is_absolute());

        json off = pipeline_document();
        off.erase("finetune");
        QVERIFY(!parse_experiment(off).runs[0].finetunes());
    }

    // The stored single-point document parses back to the same settings (how a run resumes).
    void blocks_round_trip_through_the_stored_document() {
        const RunConfig original = parse_experiment(pipeline_document(), {"/base", "", {}}).runs[0];
        const std::string stored = run_document_text(original);
        const RunConfig back = run_config_from_document(stored, original.run_name, 0);
        QCOMPARE(run_document_text(back), stored);
        QCOMPARE(back.config_hash, original.config_hash);
        QCOMPARE(back.eval.tasks.at("arc_easy").bos.value_or(false), true);
        QVERIFY(!back.eval.tasks.at("mmlu").bos.has_value());
        QCOMPARE(back.finetune.data, std::string("alpaca/alpaca_en_demo.json"));
        const json doc = json::parse(stored);
        QCOMPARE(doc["eval"]["tasks"]["mmlu"], json::parse(R"({"path": "mmlu", "shots": 5, "limit": 3,
                                                               "subjects": ["anatomy"], "bos": null})"));
        QCOMPARE(doc["finetune"]["max_grad_norm"], json(0.3));
        QCOMPARE(doc["finetune"]["split_seed"], json(42));
        QVERIFY(!doc["finetune"].contains("scope")); // RILQ-objective fields stay in rilq only

        // Params: one per field, the SFT's under finetune.*, the tasks as one JSON value.
        std::map<std::string, std::string> params;
        for (const auto& [k, v] : run_params(original))
            params[k] = v;
        QCOMPARE(params.at("finetune.lora_r"), std::string("64"));
        QCOMPARE(params.at("finetune.data"), std::string("alpaca/alpaca_en_demo.json"));
        QCOMPARE(params.at("eval.tasks.arc_easy.bos"), std::string("true"));

        // SftDataConfig's table writes what the hand-written JSON used to hold, key for key.
        const json sft = rilq::sft_data_config_json(rilq::SftDataConfig{});
        QCOMPARE(sft, json::parse(R"({"source_max_len": 384, "target_max_len": 128, "eval_dataset_size": 1024,
                                      "max_eval_samples": 1000, "max_train_samples": 0, "group_by_length": true,
                                      "train_on_source": false, "split_seed": 42, "data_seed": 42,
                                      "pad_class": true})"));
    }

    void errors_name_the_json_path_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("message");
        const auto row = [](const char* name, const char* key, const char* value, const char* message) {
            QTest::newRow(name) << QString(key) << QString(value) << QString(message);
        };
        row("unknown task", "eval.tasks", R"({"mmlu5": {"path": "mmlu"}})",
            R"($.eval.tasks.mmlu5: unknown task "mmlu5", did you mean "mmlu"? (expected one of "mmlu", )"
            R"("arc_easy", "arc_challenge", "piqa", "hellaswag", "winogrande", "boolq"))");
        row("task without path", "eval.tasks", R"({"piqa": {"limit": 5}})",
            "$.eval.tasks.piqa.path: missing: expected the task's data (valid.jsonl with valid-labels.lst "
            "beside "
            "it (or \"label\" fields), or their folder)");
        row("zero-shot task with shots", "eval.tasks", R"({"arc_easy": {"path": "a", "shots": 5}})",
            "$.eval.tasks.arc_easy.shots: expected 0 or -1 (arc_easy is zero-shot only), found 5");
        row("subjects outside mmlu", "eval.tasks", R"({"piqa": {"path": "p", "subjects": ["x"]}})",
            "$.eval.tasks.piqa.subjects: expected no subjects (they apply to mmlu only), found 1");
        row("bad limit", "eval.tasks", R"({"mmlu": {"path": "m", "limit": -1}})",
            "$.eval.tasks.mmlu.limit: expected a non-negative integer (0 = all), found -1");
        row("bad bos", "eval.tasks", R"({"mmlu": {"path": "m", "bos": "yes"}})",
            R"($.eval.tasks.mmlu.bos: expected true, false or null, found "yes")");
        row("misspelt task key", "eval.tasks", R"({"mmlu": {"path": "m", "shot": 5}})",
            R"($.eval.tasks.mmlu.shot: unknown key, did you mean "shots"?)");
        row("tasks not swept", "eval.tasks", R"([{"mmlu": {"path": "m"}}])",
            R"($.eval.tasks: expected an object of NAME -> {path, shots, limit, subjects, bos}, found [{"mmlu":{"path":"m"}}] (this field cannot be swept))");
        row("sft data range", "finetune.source_max_len", "0",
            "$.finetune.source_max_len: expected a positive integer, found 0");
        row("sft trainer range", "finetune.max_grad_norm", "-1",
            "$.finetune.max_grad_norm: expected a non-negative number, found -1");
        row("sft swept element", "finetune.approx_lr", "[0.001, 0]",
            "$.finetune.approx_lr[1]: expected a positive number, found 0");
        row("rilq-only field", "finetune.scope", R"("linear")", "$.finetune.scope: unknown key");
        row("misspelt finetune key", "finetune.dat", R"("x.json")",
            R"($.finetune.dat: unknown key, did you mean "data"?)");
        row("no adapters to train", "finetune.lora_r", "0",
            "$.finetune.lora_r: expected a positive rank for fresh adapters (rilq.lora_r is 0, so "
            "fine-tuning "
            "starts from none), found 0");
    }
    void errors_name_the_json_path() {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, message);
        json doc = pipeline_document();
        apply_override(doc, key.toStdString() + "=" + value.toStdString());
        if (key == "finetune.lora_r") doc["rilq"]["lora_r"] = 0;
        QCOMPARE(QString::fromStdString(pipeline_issues(doc)), message);
    }

    // The new fields sweep like any other; what they change decides what points share.
    void sweeps_over_the_new_fields() {
        json doc = pipeline_document();
        doc["finetune"]["approx_lr"] = {0.001, 0.0002};
        doc["finetune"]["iec"] = {true, false};
        const ExperimentConfig e = parse_experiment(doc);
        QCOMPARE(e.runs.size(), size_t{4});
        // Axes in schema order: the LoRA fields (iec) come before the optimisation ones.
        QCOMPARE(e.sweep[0].key, std::string("finetune.iec"));
        QCOMPARE(e.runs[1].run_name, std::string("iec=true,approx_lr=0.0002"));
        QCOMPARE(e.runs[1].finetune.train.approx_lr, 0.0002);
        QVERIFY(e.runs[1].finetune.train.lora.iec);
        QVERIFY(!e.runs[2].finetune.train.lora.iec);
        QCOMPARE(e.runs[2].finetune.train.approx_lr, 0.001);
        // Fine-tuning settings change the training only: every point shares the preparation and
        // the teacher's targets; the hashes differ.
        for (const auto& c : e.runs) {
            QCOMPARE(phase_settings(c, rilq::config::Phase::Targets),
                     phase_settings(e.runs[0], rilq::config::Phase::Targets));
        }
        QVERIFY(e.runs[0].config_hash != e.runs[1].config_hash);
        // Tasks are evaluated during preparation (fp, quantized): they are part of it.
        json other = pipeline_document();
        other["eval"]["tasks"]["mmlu"]["limit"] = 4;
        QVERIFY(phase_settings(parse_experiment(other).runs[0], rilq::config::Phase::Preparation) !=
                phase_settings(e.runs[0], rilq::config::Phase::Preparation));
        // --set reaches the new blocks too.
        ParseOptions options;
        options.overrides = {"finetune.max_train_samples=100", "eval.tasks.mmlu.shots=0"};
        const RunConfig c = parse_experiment(pipeline_document(), options).runs[0];
        QCOMPARE(c.finetune.sft.max_train_samples, int64_t{100});
        QCOMPARE(c.eval.tasks.at("mmlu").shots, int64_t{0});
    }

    // eval.max_windows caps every perplexity dataset (a quick trial at scale); a dataset's own
    // smaller cap stays. The runner's preparation and the dry-run both read eval_datasets().
    void eval_max_windows_caps_every_dataset() {
        json doc = pipeline_document();
        doc["datasets"]["a"] = json::parse(R"({"type": "text", "path": "tinystories/tinystories_val.txt"})");
        doc["datasets"]["b"] =
            json::parse(R"({"type": "text", "path": "tinystories/tinystories_val.txt", "max_windows": 2})");
        doc["datasets"]["c"] =
            json::parse(R"({"type": "text", "path": "tinystories/tinystories_val.txt", "max_windows": 9})");
        doc["eval"]["datasets"] = {"a", "b", "c"};
        QCOMPARE(parse_experiment(doc).runs[0].eval_datasets()[0].max_windows, int64_t{0}); // no cap: all
        doc["eval"]["max_windows"] = 5;
        const RunConfig c = parse_experiment(doc).runs[0];
        const auto sets = c.eval_datasets();
        QCOMPARE(sets.size(), size_t{3});
        QCOMPARE(sets[0].max_windows, int64_t{5});
        QCOMPARE(sets[1].max_windows, int64_t{2});
        QCOMPARE(sets[2].max_windows, int64_t{5});
        const std::string plan = describe_plan(parse_experiment(doc), "/out");
        QVERIFY2(plan.find("a (text ") != std::string::npos &&
                     plan.find(", first 5 windows)") != std::string::npos,
                 plan.c_str());
        doc["eval"]["max_windows"] = -1;
        QCOMPARE(QString::fromStdString(pipeline_issues(doc)),
                 QString("$.eval.max_windows: expected a non-negative integer (0 = all), found -1"));
    }

    // `rilq run --dry-run` names the fine-tuning stage and the tasks of every eval stage.
    void dry_run_prints_the_new_stages() {
        ParseOptions options;
        options.data_root_override = rilq::test::shared_data();
        const std::string plan = describe_plan(parse_experiment(pipeline_document(), options), "/out");
        const std::string data =
            fs::path(rilq::test::shared_data("mmlu")).lexically_normal().parent_path().string();
        QVERIFY2(
            plan.find("      finetune   SFT on " + data +
                      "/alpaca/alpaca_en_demo.json (64 held out), "
                      "continuing from the compensated adapters (r 4) + IEC, 60 updates of 16 x 1 examples, "
                      "adamw lr 0.001, max grad-norm 0.3, eval loss every 1000 updates; curves sft.*\n") !=
                std::string::npos,
            plan.c_str());
        QVERIFY2(plan.find("      tasks      fp, quantized, compensated, finetuned on mmlu (" + data +
                           "/mmlu, 5-shot, first 3 items, 1 subjects, BOS yes) + arc_easy (" + data +
                           "/tasks/arc, 0-shot, BOS yes)\n") != std::string::npos,
                 plan.c_str());
        json no_sft = pipeline_document();
        no_sft.erase("finetune");
        no_sft["rilq"]["lora_r"] = 0;
        const std::string plain = describe_plan(parse_experiment(no_sft, options), "/out");
        QVERIFY(plain.find("finetune") == std::string::npos);
        QVERIFY2(plain.find("tasks      fp, quantized on mmlu") != std::string::npos, plain.c_str());
    }

    // The shipped recipes parse; the stories260K chain points at real files.
    void shipped_pipeline_experiments() {
        const ExperimentConfig ir =
            parse_experiment_file(pipeline_experiments_dir() + "/irqlora-llama-7b-nf4-alpaca.json");
        QCOMPARE(ir.runs.size(), size_t{1});
        const RunConfig& r = ir.runs[0];
        QCOMPARE(r.quant.method, std::string("icq-nf"));
        QCOMPARE(r.quant.bits, 4);
        QCOMPARE(r.train.lora.r, int64_t{0}); // IR-QLoRA alone: no RILQ compensation
        QCOMPARE(r.finetune.train.lora.r, int64_t{64});
        QCOMPARE(r.finetune.train.total_updates(), int64_t{10000});
        QCOMPARE(r.eval.tasks.at("mmlu").shots, int64_t{5});
        QCOMPARE(r.eval.tasks.at("mmlu").limit, int64_t{0});

        const ExperimentConfig chain =
            parse_experiment_file(pipeline_experiments_dir() + "/stories260k-rilq-sft-chain.json");
        const RunConfig& c = chain.runs[0];
        QVERIFY(c.finetunes() && c.train.lora.r > 0);
        QVERIFY(fs::exists(c.resolve(c.finetune.data)));
        for (const auto& spec : c.task_specs())
            QVERIFY2(fs::exists(spec.path), spec.path.c_str());
        QCOMPARE(c.task_specs().size(), size_t{4});
    }
};

RILQ_TEST_APPLESS_MAIN(TestPipelineConfig)
#include "test_pipeline_config.moc"
