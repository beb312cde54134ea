// Experiment definitions: defaults, the shipped experiments, every validation error path,
// sweep expansion, the settings hash, overrides and the stored-document round trip.
// Expected values come from the official RILQ script and README (METHODS.md sections 3 and 6).
#include "tests/support/test_support.h"

#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/util/config_fields.h"
#include "core/util/did_you_mean.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>

#include "core/util/sha256.h"

#include <filesystem>
#include <functional>
#include <set>

using nlohmann::json;
using namespace rilq::run;
namespace fs = std::filesystem;

namespace {

// The smallest valid experiment: a base model and a ready quantized model; everything else default.
json minimal() {
    return json::parse(R"({
        "name": "t",
        "datasets": {"c4": {"type": "c4", "path": "c4/c4_demo.jsonl"},
                     "wiki": {"type": "wikitext2", "path": "wikitext-2-raw/wiki.test.raw", "label": "Wiki2"}},
        "rilq": {"base_model": "m", "q_model": "qm"}
    })");
}

std::string experiments_dir() {
    return fs::path(rilq::test::test_data("../../experiments")).lexically_normal().string();
}

std::vector<std::string> issue_texts(const json& doc, const ParseOptions& options = {}) {
    std::vector<std::string> out;
    for (const auto& issue : validate_experiment(doc, options))
        out.push_back(issue.text());
    return out;
}

QString joined(const std::vector<std::string>& texts) {
    QStringList list;
    for (const auto& t : texts)
        list << QString::fromStdString(t);
    return list.join(QStringLiteral(" | "));
}

} // namespace

class TestExperimentConfig : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void defaults_are_the_official_script_values() {
        const auto experiment = parse_experiment(minimal());
        QCOMPARE(experiment.runs.size(), size_t(1));
        const RunConfig& c = experiment.runs[0];
        QCOMPARE(c.run_name, std::string("t"));
        QCOMPARE(c.train.lora.seed, uint64_t(42));
        QCOMPARE(c.device, std::string("cpu"));
        QCOMPARE(c.train.lora.r, int64_t(64));
        QCOMPARE(c.train.lora.alpha, 16.0);
        QCOMPARE(c.train.lora.dropout, 0.0);
        QCOMPARE(c.calib.datasets, std::string("c4"));
        QCOMPARE(c.calib.num_samples, int64_t(320));
        QCOMPARE(c.calib.options.val_ratio, 0.2);
        QCOMPARE(c.calib.options.seqlen, int64_t(512));
        QCOMPARE(c.calib.options.seed, uint64_t(42));
        QVERIFY(c.train.a_type == rilq::TargetType::Hidden);
        QCOMPARE(c.train.approx_total_steps, int64_t(10000));
        QCOMPARE(c.train.approx_lr, 1e-4);
        QCOMPARE(c.train.approx_batch_size, int64_t(1));
        QCOMPARE(c.train.gradient_accumulation_steps, int64_t(8));
        QCOMPARE(c.train.approx_eval_steps, int64_t(25));
        QCOMPARE(c.train.approx_early_stop, true);
        QCOMPARE(c.train.approx_es_patience, int64_t(5));
        QCOMPARE(c.train.a_dis_weight, 0.5);
        QCOMPARE(c.train.gt_weight, 0.5);
        QVERIFY(c.train.scope == rilq::Scope::Model);
        QVERIFY(c.train.lora.init == rilq::LoraInit::Gaussian);
        QCOMPARE(c.train.lora.targets.size(), size_t(7));
        QCOMPARE(c.train.lora.iec, false);
        QVERIFY(c.train.optimizer == rilq::OptimizerKind::Adam);
        QCOMPARE(c.train.weight_decay, 0.0);
        QCOMPARE(c.quant.method, std::string("none"));
        QCOMPARE(c.quant.variant, std::string(""));
        QCOMPARE(c.eval.seqlen, int64_t(2048));
        QCOMPARE(c.eval.stages.size(), size_t(4)); // fp, quantized, compensated, finetuned
        QCOMPARE(c.datasets.at("wiki").label, std::string("Wiki2"));
        QCOMPARE(c.datasets.at("c4").label, std::string("c4")); // label defaults to the name
        QCOMPARE(c.datasets.at("c4").source.range_end, 1.0);
        QCOMPARE(c.config_hash.size(), size_t(64));
    }

    void shipped_r64_is_the_official_recipe() {
        const auto e = parse_experiment_file(experiments_dir() + "/rilq-llama2-7b-r64.json");
        QCOMPARE(e.runs.size(), size_t(1));
        const RunConfig& c = e.runs[0];
        QCOMPARE(c.train.lora.r, int64_t(64));
        QCOMPARE(c.train.approx_lr, 1e-4);
        QCOMPARE(c.calib.num_samples, int64_t(320));
        QCOMPARE(c.calib.options.seqlen, int64_t(512));
        QCOMPARE(c.calib.options.val_ratio, 0.2);
        QCOMPARE(c.train.gradient_accumulation_steps, int64_t(8));
        QCOMPARE(c.train.approx_eval_steps, int64_t(25));
        QCOMPARE(c.train.approx_es_patience, int64_t(5));
        QCOMPARE(c.quant.method, std::string("rtn"));
        QCOMPARE(c.quant.bits, 2);
        QCOMPARE(c.quant.group_size, int64_t(64));
        QVERIFY(c.calib_datasets().at(0).source.kind == rilq::DatasetKind::C4);
        QCOMPARE(c.eval_datasets().size(), size_t(2));
        QCOMPARE(c.eval_datasets()[0].label, std::string("Wiki2"));
        QCOMPARE(c.eval_datasets()[1].label, std::string("C4"));
        // data_root "../../shared/data" is relative to the experiments folder.
        QCOMPARE(fs::path(c.resolve(c.datasets.at("wikitext2").source.path)),
                 fs::path(rilq::test::shared_data("wikitext-2-raw/wiki.test.raw")).lexically_normal());
        QVERIFY(fs::exists(c.resolve(c.datasets.at("wikitext2").source.path)));
    }

    void shipped_rank_sweep_has_the_readme_rows_and_shares_the_r64_hash() {
        const auto sweep = parse_experiment_file(experiments_dir() + "/rilq-llama2-7b-rank-sweep.json");
        QCOMPARE(sweep.runs.size(), size_t(5));
        const std::vector<int> ranks = {0, 16, 32, 64, 128};
        for (size_t i = 0; i < ranks.size(); ++i) {
            QCOMPARE(sweep.runs[i].train.lora.r, int64_t(ranks[i]));
            QCOMPARE(sweep.runs[i].run_name, "lora_r=" + std::to_string(ranks[i]));
            QCOMPARE(sweep.runs[i].index, int(i));
        }
        QCOMPARE(sweep.sweep.size(), size_t(1));
        QCOMPARE(sweep.sweep[0].key, std::string("rilq.lora_r"));
        // Same settings under another experiment name and output folder: same hash.
        const auto single = parse_experiment_file(experiments_dir() + "/rilq-llama2-7b-r64.json");
        QCOMPARE(sweep.runs[3].config_hash, single.runs[0].config_hash);
        QVERIFY(sweep.runs[2].config_hash != single.runs[0].config_hash);
        QVERIFY(sweep.runs[3].output_dir() != single.runs[0].output_dir());
    }

    void shipped_stories_sweep_points_at_real_files() {
        const auto e = parse_experiment_file(experiments_dir() + "/stories260k-rank-sweep.json");
        QCOMPARE(e.runs.size(), size_t(12)); // ranks 0..16 x scopes model, linear
        QCOMPARE(e.runs.back().train.lora.r, int64_t(16));
        QVERIFY(e.runs.back().train.scope == rilq::Scope::Linear);
        const RunConfig& c = e.runs[0];
        QCOMPARE(c.train.approx_lr, 1e-3);
        QVERIFY(fs::exists(c.resolve(c.model.base_model)));
        QVERIFY(fs::exists(c.resolve(c.model.tokenizer)));
        const auto calib = c.calib_datasets().at(0);
        const auto eval = c.eval_datasets().at(0);
        QVERIFY(fs::exists(c.resolve(calib.source.path)));
        QCOMPARE(calib.source.path, eval.source.path);
        QVERIFY(calib.source.range_end <= eval.source.range_begin); // disjoint parts of the same file
        QCOMPARE(c.output_dir(), std::string("runs/stories260k-rank-sweep/lora_r=0,scope=model"));
    }

    void every_validation_error_path_data() {
        QTest::addColumn<QString>("patch");    // JSON merge patch applied to minimal()
        QTest::addColumn<QString>("expected"); // one issue, exactly
        const auto row = [](const char* name, const char* patch, const char* expected) {
            QTest::newRow(name) << QString::fromUtf8(patch) << QString::fromUtf8(expected);
        };
        // Top level
        row("unknown top key", R"({"qaunt": {}})", R"($.qaunt: unknown key, did you mean "quant"?)");
        row("format version", R"({"format_version": 2})",
            "$.format_version: expected 1 (the experiment format this program reads), found 2");
        row("empty name", R"({"name": ""})", R"($.name: expected a non-empty string, found "")");
        row("description type", R"({"description": 5})", "$.description: expected a string, found 5");
        row("data_root type", R"({"data_root": 5})", "$.data_root: expected a string, found 5");
        row("seed", R"({"seed": -1})", "$.seed: expected a non-negative integer, found -1");
        row("device", R"({"device": "gpu"})", R"($.device: expected "cpu", "cuda" or "cuda:N", found "gpu")");
        row("section not object", R"({"quant": [1]})", "$.quant: expected an object, found [1]");
        row("name not sweepable", R"({"name": ["a", "b"]})",
            R"($.name: expected a string, found ["a","b"] (this field cannot be swept))");
        // rilq
        row("negative rank in sweep", R"({"rilq": {"lora_r": [16, 32, -4]}})",
            "$.rilq.lora_r[2]: expected a non-negative integer, found -4");
        row("fractional rank", R"({"rilq": {"lora_r": 3.5}})",
            "$.rilq.lora_r: expected a non-negative integer, found 3.5");
        row("misspelt key", R"({"rilq": {"lora_rank": 8}})",
            R"($.rilq.lora_rank: unknown key, did you mean "lora_r"?)");
        row("alpha zero", R"({"rilq": {"lora_alpha": 0}})",
            "$.rilq.lora_alpha: expected a positive number, found 0");
        row("alpha string", R"({"rilq": {"lora_alpha": "16"}})",
            R"($.rilq.lora_alpha: expected a positive number, found "16")");
        row("dropout", R"({"rilq": {"lora_dropout": 1.0}})",
            "$.rilq.lora_dropout: expected a number in [0, 1), found 1.0");
        row("dtype", R"({"rilq": {"dtype": "float16"}})",
            R"($.rilq.dtype: expected one of "bf16", "fp16", "fp32", found "float16")");
        row("output placeholder", R"({"rilq": {"output_dir": "runs/{name}"}})",
            R"($.rilq.output_dir: expected a path whose placeholders are {experiment}, {run} or {index}, found "runs/{name}")");
        row("tokenizer type", R"({"rilq": {"tokenizer": false}})",
            "$.rilq.tokenizer: expected a string, found false");
        row("base model empty", R"({"rilq": {"base_model": ""}})",
            R"($.rilq.base_model: expected a path to the full-precision model, found "")");
        row("calib dataset empty", R"({"rilq": {"calib_dataset": ""}})",
            R"($.rilq.calib_dataset: expected a non-empty string, found "")");
        row("calib dataset unknown", R"({"rilq": {"calib_dataset": "c5"}})",
            R"($.rilq.calib_dataset: unknown dataset "c5", did you mean "c4"? (expected a name from $.datasets: "c4", "wiki"))");
        row("calib samples", R"({"rilq": {"calib_num_samples": 0}})",
            "$.rilq.calib_num_samples: expected a positive integer, found 0");
        row("val ratio", R"({"rilq": {"calib_val_ratio": 1.0}})",
            "$.rilq.calib_val_ratio: expected a number in [0, 1), found 1.0");
        row("max length", R"({"rilq": {"calib_max_length": 1}})",
            "$.rilq.calib_max_length: expected an integer >= 2 (tokens per window), found 1");
        row("calib seed", R"({"rilq": {"calib_seed": -3}})",
            "$.rilq.calib_seed: expected a non-negative integer, found -3");
        row("a_type", R"({"rilq": {"a_type": "hidden"}})",
            R"($.rilq.a_type: expected one of "hid", "logit", found "hidden")");
        row("total steps", R"({"rilq": {"approx_total_steps": -1}})",
            "$.rilq.approx_total_steps: expected a non-negative integer, found -1");
        row("lr", R"({"rilq": {"approx_lr": 0}})", "$.rilq.approx_lr: expected a positive number, found 0");
        row("batch", R"({"rilq": {"approx_batch_size": 0}})",
            "$.rilq.approx_batch_size: expected a positive integer, found 0");
        row("accumulation", R"({"rilq": {"gradient_accumulation_steps": 0}})",
            "$.rilq.gradient_accumulation_steps: expected a positive integer, found 0");
        row("eval steps", R"({"rilq": {"approx_eval_steps": 0}})",
            "$.rilq.approx_eval_steps: expected a positive integer, found 0");
        row("early stop", R"({"rilq": {"approx_early_stop": "yes"}})",
            R"($.rilq.approx_early_stop: expected true or false, found "yes")");
        row("patience", R"({"rilq": {"approx_es_patience": 0}})",
            "$.rilq.approx_es_patience: expected a positive integer, found 0");
        row("a_dis_weight", R"({"rilq": {"a_dis_weight": -0.5}})",
            "$.rilq.a_dis_weight: expected a non-negative number, found -0.5");
        row("weights both zero", R"({"rilq": {"a_dis_weight": 0, "gt_weight": 0}})",
            "$.rilq.gt_weight: expected a positive sum with $.rilq.a_dis_weight, found 0 and 0");
        row("gt_weight", R"({"rilq": {"gt_weight": "half"}})",
            R"($.rilq.gt_weight: expected a non-negative number, found "half")");
        row("scope", R"({"rilq": {"scope": "svd"}})",
            R"($.rilq.scope: expected one of "model", "weight-svd", "linear", "layer", found "svd")");
        row("lora_init", R"({"rilq": {"lora_init": "xavier"}})",
            R"($.rilq.lora_init: expected one of "gaussian", "kaiming", "loftq", "qera-exact", "qera-diag", found "xavier")");
        row("target name", R"({"rilq": {"lora_targets": ["q_proj", "qkv"]}})",
            R"($.rilq.lora_targets[1]: expected one of "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", found "qkv")");
        row("targets empty", R"({"rilq": {"lora_targets": []}})",
            "$.rilq.lora_targets: expected a non-empty list of strings, found []");
        row("iec", R"({"rilq": {"iec": 1}})", "$.rilq.iec: expected true or false, found 1");
        row("optimizer", R"({"rilq": {"optimizer": "sgd"}})",
            R"($.rilq.optimizer: expected one of "adam", "adamw", found "sgd")");
        row("weight decay", R"({"rilq": {"weight_decay": -1}})",
            "$.rilq.weight_decay: expected a non-negative number, found -1");
        row("schedule", R"({"rilq": {"lr_schedule": "linear"}})",
            R"($.rilq.lr_schedule: expected one of "constant", "cosine", found "linear")");
        row("no validation for early stop", R"({"rilq": {"calib_num_samples": 4, "calib_val_ratio": 0.2}})",
            "$.rilq.calib_val_ratio: expected a ratio that leaves validation windows for early stopping "
            "(floor(4 x ratio) = 0), found 0.2");
        row("batch larger than train split", R"({"rilq": {"calib_num_samples": 10, "approx_batch_size": 9}})",
            "$.rilq.approx_batch_size: expected at most the 8 training windows, found 9");
        row("empty sweep", R"({"rilq": {"lora_r": []}})",
            "$.rilq.lora_r: expected a value or a non-empty list of values to sweep, found []");
        row("duplicate sweep value", R"({"rilq": {"lora_r": [16, 32, 16]}})",
            "$.rilq.lora_r[2]: expected distinct sweep values, found 16 again (as [0])");
        // quant
        row("q_model with quantizer", R"({"quant": {"method": "rtn"}})",
            R"($.rilq.q_model: expected no q_model when $.quant.method is "rtn" (the quantized model is made on the fly), found "qm")");
        row("method", R"({"quant": {"method": "awq"}})",
            R"($.quant.method: expected one of "none", "rtn", "nf", "icq-nf", "icq-int", "gptq", found "awq")");
        row("bits", R"({"quant": {"bits": 9}})", "$.quant.bits: expected an integer in [1, 8], found 9");
        row("group", R"({"quant": {"group_size": -1}})",
            "$.quant.group_size: expected a non-negative integer (0 = whole row), found -1");
        row("variant without method", R"({"quant": {"variant": "gptq"}})",
            R"($.quant.variant: expected no variant when $.quant.method is "none", found "gptq")");
        row("tau lambda", R"({"quant": {"icq_tau_lambda": 0}})",
            "$.quant.icq_tau_lambda: expected a positive number, found 0");
        row("tau n", R"({"quant": {"icq_tau_n": 0}})",
            "$.quant.icq_tau_n: expected a positive integer, found 0");
        row("double quant", R"({"quant": {"double_quant": "no"}})",
            R"($.quant.double_quant: expected true or false, found "no")");
        row("quant key", R"({"quant": {"group": 64}})",
            R"($.quant.group: unknown key, did you mean "group_size"?)");
        // eval
        row("eval dataset unknown", R"({"eval": {"datasets": ["wiki", "c5"]}})",
            R"($.eval.datasets[1]: unknown dataset "c5", did you mean "c4"? (expected a name from $.datasets: "c4", "wiki"))");
        row("eval dataset twice", R"({"eval": {"datasets": ["wiki", "wiki"]}})",
            R"($.eval.datasets[1]: expected each dataset once, found "wiki" again)");
        row("eval datasets string", R"({"eval": {"datasets": "wiki"}})",
            R"($.eval.datasets: expected a list of strings, found "wiki")");
        row("eval datasets swept", R"({"eval": {"datasets": [["wiki"], ["c4"]]}})",
            R"($.eval.datasets[0]: expected a string, found ["wiki"] (this field cannot be swept))");
        row("seqlen", R"({"eval": {"seqlen": 1}})",
            "$.eval.seqlen: expected an integer >= 2 (tokens per window), found 1");
        row("stage", R"({"eval": {"stages": ["fp", "int"]}})",
            R"($.eval.stages[1]: expected one of "fp", "quantized", "compensated", "finetuned", found "int")");
        row("stages empty", R"({"eval": {"stages": []}})",
            R"($.eval.stages: expected a non-empty list of "fp", "quantized", "compensated", "finetuned", found [])");
        // datasets
        row("datasets not object", R"({"datasets": [1]})",
            "$.datasets: expected an object of named datasets, found [1]");
        row("dataset entry not object", R"({"datasets": {"x": "a.txt"}})",
            R"($.datasets.x: expected an object with "type" and "path", found "a.txt")");
        row("dataset name with comma", R"({"datasets": {"a,b": {"path": "a"}}})",
            R"($.datasets.a,b: expected a dataset name without commas or spaces, found "a,b")");
        row("dataset key typo", R"({"datasets": {"x": {"pth": "a.txt", "path": "b"}}})",
            R"($.datasets.x.pth: unknown key, did you mean "path"?)");
        row("dataset path missing", R"({"datasets": {"x": {"type": "text"}}})",
            "$.datasets.x.path: missing: expected the data file's path");
        row("dataset type", R"({"datasets": {"x": {"type": "json", "path": "a"}}})",
            R"($.datasets.x.type: expected one of "wikitext2", "c4", "text", found "json")");
        row("dataset range", R"({"datasets": {"x": {"path": "a", "range": [0.5, 0.2]}}})",
            "$.datasets.x.range: expected [begin, end] with 0 <= begin < end <= 1, found [0.5,0.2]");
        row("dataset windows", R"({"datasets": {"x": {"path": "a", "max_windows": -1}}})",
            "$.datasets.x.max_windows: expected a non-negative integer (0 = all), found -1");
        row("dataset label", R"({"datasets": {"x": {"path": "a", "label": ""}}})",
            R"($.datasets.x.label: expected a non-empty string, found "")");
    }
    void every_validation_error_path() {
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        json doc = minimal();
        doc.merge_patch(json::parse(patch.toStdString()));
        const auto issues = issue_texts(doc);
        QVERIFY2(issues.size() == 1, qPrintable(joined(issues)));
        QCOMPARE(QString::fromStdString(issues[0]), expected);
        // parse_experiment refuses the same document with the same text.
        try {
            parse_experiment(doc);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY(std::string(e.what()).find(issues[0]) != std::string::npos);
            QCOMPARE(e.issues().size(), size_t(1));
        }
    }

    void cross_field_errors() {
        json doc = minimal();
        doc["rilq"].erase("base_model");
        doc["rilq"].erase("q_model");
        doc.erase("name");
        doc["quant"] = {{"method", "nf"}, {"bits", 8}, {"variant", "gptq"}};
        const auto issues = issue_texts(doc);
        const std::vector<std::string> expected = {
            "$.name: missing: expected the experiment's name",
            "$.rilq.base_model: missing: expected a path to the full-precision model",
            // in the order of the quant table: bits before variant
            R"($.quant.bits: expected 2, 3 or 4 for method "nf", found 8)",
            R"($.quant.variant: expected one of "bnb", "sym" for method "nf", found "gptq")",
        };
        QCOMPARE(joined(issues), joined(expected));

        json none = minimal();
        none["rilq"].erase("q_model");
        QCOMPARE(
            joined(issue_texts(none)),
            QStringLiteral("$.rilq.q_model: missing: expected a fake-quantized model when $.quant.method is "
                           "\"none\" (or set $.quant.method to quantize on the fly)"));
    }

    void invalid_json_names_line_and_column() {
        try {
            parse_experiment_text("{\n  \"name\": \"x\",\n  \"rilq\": {\"lora_r\": 16,}\n}", {},
                                  "broken.json");
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            QVERIFY2(what.rfind("broken.json: $: invalid JSON: parse error at line 3", 0) == 0, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(rilq::Error, parse_experiment_file("/nonexistent/experiment.json"));
    }

    void all_issues_are_reported_at_once() {
        json doc = minimal();
        doc["rilq"]["lora_r"] = -1;
        doc["rilq"]["approx_lr"] = "fast";
        doc["eval"] = {{"seqlen", 0}};
        const auto issues = issue_texts(doc);
        QCOMPARE(issues.size(), size_t(3));
        try {
            parse_experiment(doc);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY(std::string(e.what()).find("3 problems:") != std::string::npos);
        }
    }

    void sweep_is_the_cartesian_product_first_axis_slowest() {
        json doc = minimal();
        doc["rilq"]["lora_r"] = {0, 16};
        doc["rilq"]["lora_targets"] = json::parse(R"([["q_proj"], ["q_proj", "v_proj"]])");
        doc["quant"] = {{"bits", {2, 3, 4}}};
        doc["seed"] = {1, 2};
        const auto e = parse_experiment(doc);
        QCOMPARE(e.runs.size(), size_t(2 * 2 * 3 * 2));
        QCOMPARE(e.sweep.size(), size_t(4));
        // Axis order is schema order: seed (top level), rilq.lora_r, rilq.lora_targets, quant.bits.
        QCOMPARE(e.sweep[0].key, std::string("seed"));
        QCOMPARE(e.sweep[1].key, std::string("rilq.lora_r"));
        QCOMPARE(e.sweep[2].key, std::string("rilq.lora_targets"));
        QCOMPARE(e.sweep[3].key, std::string("quant.bits"));
        QCOMPARE(e.sweep[2].values[1], std::string(R"(["q_proj","v_proj"])"));
        std::set<std::string> names, hashes;
        for (size_t i = 0; i < e.runs.size(); ++i) {
            const RunConfig& c = e.runs[i];
            // index = ((seed * 2 + rank) * 2 + targets) * 3 + bits
            const size_t bits_i = i % 3, targets_i = (i / 3) % 2, rank_i = (i / 6) % 2, seed_i = i / 12;
            QCOMPARE(c.train.lora.seed, uint64_t(seed_i + 1));
            QCOMPARE(c.train.lora.r, int64_t(rank_i == 0 ? 0 : 16));
            QCOMPARE(c.train.lora.targets.size(), targets_i + 1);
            QCOMPARE(c.quant.bits, int(bits_i + 2));
            QCOMPARE(c.index, int(i));
            QCOMPARE(c.swept.size(), size_t(4));
            names.insert(c.run_name);
            hashes.insert(c.config_hash);
        }
        QCOMPARE(e.runs[5].run_name, std::string("seed=1,lora_r=0,lora_targets=q_proj+v_proj,bits=4"));
        QCOMPARE(e.runs[5].swept[2],
                 std::make_pair(std::string("rilq.lora_targets"), std::string("q_proj+v_proj")));
        QCOMPARE(names.size(), e.runs.size());
        QCOMPARE(hashes.size(), e.runs.size());
        QCOMPARE(e.runs[5].output_dir(),
                 std::string("runs/t/seed=1,lora_r=0,lora_targets=q_proj+v_proj,bits=4"));
    }

    void swept_value_errors_point_at_the_element_once() {
        json doc = minimal();
        doc["rilq"]["lora_r"] = {16, -4};
        doc["quant"] = {{"bits", {2, 3}}};
        doc["rilq"]["approx_lr"] = -1; // not swept: reported once, not once per point
        const auto issues = issue_texts(doc);
        QCOMPARE(joined(issues),
                 QStringLiteral("$.rilq.approx_lr: expected a positive number, found -1 | "
                                "$.rilq.lora_r[1]: expected a non-negative integer, found -4"));
    }

    void hash_tracks_settings_only() {
        const RunConfig base = parse_experiment(minimal()).runs[0];
        const auto hash_with = [](const std::function<void(json&)>& edit) {
            json doc = minimal();
            edit(doc);
            return parse_experiment(doc).runs[0].config_hash;
        };
        QCOMPARE(base.config_hash, rilq::sha256_hex(canonical_settings(base)));
        // Identity, location and labels are not settings.
        QCOMPARE(hash_with([](json& d) {
                     d["name"] = "other";
                     d["description"] = "x";
                 }),
                 base.config_hash);
        QCOMPARE(hash_with([](json& d) { d["rilq"]["output_dir"] = "elsewhere/{run}"; }), base.config_hash);
        QCOMPARE(hash_with([](json& d) { d["data_root"] = "/somewhere/else"; }), base.config_hash);
        QCOMPARE(hash_with([](json& d) { d["datasets"]["c4"]["label"] = "C4"; }), base.config_hash);
        // A dataset the run does not use is not a setting of this run.
        QCOMPARE(hash_with([](json& d) { d["datasets"]["wiki"]["path"] = "other.txt"; }), base.config_hash);
        // Writing a default explicitly changes nothing.
        QCOMPARE(hash_with([](json& d) {
                     d["rilq"]["lora_r"] = 64;
                     d["quant"] = {{"bits", 2}};
                 }),
                 base.config_hash);
        // Everything that changes what is computed changes the hash.
        QVERIFY(hash_with([](json& d) { d["rilq"]["approx_lr"] = 1e-3; }) != base.config_hash);
        QVERIFY(hash_with([](json& d) { d["datasets"]["c4"]["path"] = "c4/other.jsonl"; }) !=
                base.config_hash);
        QVERIFY(hash_with([](json& d) { d["eval"] = {{"datasets", {"wiki"}}}; }) != base.config_hash);
        QVERIFY(hash_with([](json& d) { d["seed"] = 7; }) != base.config_hash);
    }

    void overrides_apply_before_validation() {
        ParseOptions options;
        options.overrides = {"rilq.lora_r=[16,32]", "rilq.a_type=logit", "rilq.approx_lr=1e-3",
                             "eval.seqlen=512"};
        const auto e = parse_experiment(minimal(), options);
        QCOMPARE(e.runs.size(), size_t(2));
        QVERIFY(e.runs[1].train.a_type == rilq::TargetType::Logit);
        QCOMPARE(e.runs[1].train.approx_lr, 1e-3);
        QCOMPARE(e.runs[1].eval.seqlen, int64_t(512));
        QCOMPARE(e.runs[1].train.lora.r, int64_t(32));

        ParseOptions bad;
        bad.overrides = {"lora_r", "rilq.base_model.x=1"};
        const auto issues = issue_texts(minimal(), bad);
        QCOMPARE(joined(issues),
                 QStringLiteral("--set lora_r: expected key=value (e.g. rilq.lora_r=16), found \"lora_r\" | "
                                "--set rilq.base_model.x=1: $.rilq.base_model is \"m\", not an object"));
    }

    void paths_resolve_against_data_root() {
        json doc = minimal();
        doc["data_root"] = "data";
        doc["rilq"]["q_model"] = "/abs/q";
        ParseOptions options;
        options.base_dir = "/base/dir";
        RunConfig c = parse_experiment(doc, options).runs[0];
        QCOMPARE(c.data_root, std::string("/base/dir/data"));
        QCOMPARE(c.resolve(c.model.base_model), std::string("/base/dir/data/m"));
        QCOMPARE(c.resolve(c.model.q_model), std::string("/abs/q"));
        QCOMPARE(c.resolve(""), std::string(""));
        options.data_root_override = "/override/";
        c = parse_experiment(doc, options).runs[0];
        QCOMPARE(c.resolve("c4/x.jsonl"), std::string("/override/c4/x.jsonl"));
        doc.erase("data_root");
        c = parse_experiment(doc, {"/base/dir", "", {}}).runs[0];
        QCOMPARE(c.data_root, std::string("/base/dir"));
    }

    void stored_document_round_trips_to_the_same_run() {
        json doc = minimal();
        doc["rilq"]["lora_r"] = {0, 16};
        doc["quant"] = {{"method", "rtn"}, {"bits", 3}};
        doc["rilq"].erase("q_model");
        doc["eval"] = {{"datasets", {"wiki", "c4"}}, {"stages", {"quantized", "compensated"}}};
        const RunConfig original = parse_experiment(doc, {"/base", "", {}}).runs[1];
        QCOMPARE(original.quant.variant, std::string("omniquant")); // the method's default, filled in
        const std::string stored = run_document_text(original);
        const RunConfig back = run_config_from_document(stored, original.run_name, original.index);
        QCOMPARE(back.config_hash, original.config_hash);
        QCOMPARE(run_document_text(back), stored);
        QCOMPARE(back.run_name, std::string("lora_r=16"));
        QCOMPARE(back.output_dir(), original.output_dir());
        QCOMPARE(back.data_root, std::string("/base"));
        QCOMPARE(back.eval.stages.size(), size_t(2));

        const auto params = run_params(original);
        const auto find = [&](const std::string& key) {
            for (const auto& [k, v] : params) {
                if (k == key) return v;
            }
            return std::string("<missing>");
        };
        QCOMPARE(find("rilq.lora_r"), std::string("16"));
        QCOMPARE(find("rilq.approx_lr"), std::string("0.0001"));
        QCOMPARE(find("rilq.a_type"), std::string("hid"));
        QCOMPARE(find("rilq.approx_early_stop"), std::string("true"));
        QCOMPARE(find("quant.method"), std::string("rtn"));
        QCOMPARE(find("eval.datasets"), std::string(R"(["wiki","c4"])"));
        QCOMPARE(find("datasets.wiki.label"), std::string("Wiki2"));
        QCOMPARE(find("rilq.output_dir"), std::string("runs/t/lora_r=16"));
        QCOMPARE(find("name"), std::string("<missing>"));
        QVERIFY(!is_setting_param("rilq.output_dir"));
        QVERIFY(!is_setting_param("datasets.wiki.label"));
        QVERIFY(!is_setting_param("data_root"));
        QVERIFY(is_setting_param("rilq.lora_r"));
        QVERIFY(is_setting_param("datasets.wiki.path"));
    }

    // Every knob of the quantizers and the trainer reaches the struct the unit takes.
    void every_knob_is_settable() {
        json doc = minimal();
        doc["rilq"].erase("q_model");
        doc["rilq"]["approx_es_delta"] = 0.01;
        doc["rilq"]["target_memory_budget_bytes"] = 1024;
        doc["quant"] = {{"method", "icq-nf"},       {"bits", 3},
                        {"icq_superblock", 128},    {"icq_entropy", "exact"},
                        {"icq_int_n", 20},          {"icq_quantize_offset", false},
                        {"double_quant_block", 64}, {"targets", {"q_proj", "mlp.down_proj"}}};
        const RunConfig c = parse_experiment(doc).runs[0];
        QCOMPARE(c.train.approx_es_delta, 0.01);
        QCOMPARE(c.train.target_memory_budget_bytes, int64_t{1024});
        QCOMPARE(c.quant.icq_superblock, int64_t{128});
        QVERIFY(c.quant.icq_entropy == rilq::IcqEntropyArithmetic::ExactTies);
        QCOMPARE(c.quant.icq_int_n, 20);
        QVERIFY(!c.quant.icq_quantize_offset);
        QCOMPARE(c.quant.double_quant_block, int64_t{64});
        QCOMPARE(c.quant.targets, (std::vector<std::string>{"q_proj", "mlp.down_proj"}));
        QCOMPARE(c.quant.variant, std::string("bnb")); // the method's default, filled in
        // What a method accepts comes from the quantizer registry, with the swept path.
        doc["quant"] = {{"method", "nf"}, {"group_size", json::array({64, 0})}};
        QCOMPARE(
            joined(issue_texts(doc)),
            QStringLiteral(
                R"($.quant.group_size[1]: expected a positive absmax block length for method "nf", found 0)"));
    }

    // Points that differ only in training settings share their preparation; a_type and the
    // micro-batch also change the cached teacher targets.
    void phases_decide_what_points_share() {
        json doc = minimal();
        doc["rilq"]["lora_r"] = {16, 32};
        doc["rilq"]["a_type"] = {"hid", "logit"};
        doc["quant"] = {{"method", "rtn"}, {"bits", {2, 3}}};
        doc["rilq"].erase("q_model");
        const auto e = parse_experiment(doc);
        QCOMPARE(e.runs.size(), size_t{8}); // lora_r x a_type x bits
        const auto prep = [&](size_t i) {
            return phase_settings(e.runs[i], rilq::config::Phase::Preparation);
        };
        const auto targets = [&](size_t i) {
            return phase_settings(e.runs[i], rilq::config::Phase::Targets);
        };
        // Axis order: lora_r, a_type (rilq), bits (quant); index = (r * 2 + a) * 2 + b.
        QCOMPARE(prep(0), prep(4)); // lora_r 16 vs 32
        QCOMPARE(targets(0), targets(4));
        QCOMPARE(prep(0), prep(2)); // a_type hid vs logit
        QVERIFY(targets(0) != targets(2));
        QVERIFY(prep(0) != prep(1)); // bits 2 vs 3
        QVERIFY(canonical_settings(e.runs[0]) != canonical_settings(e.runs[4]));
    }

    void did_you_mean_distance() {
        QCOMPARE(rilq::edit_distance("kitten", "sitting"), size_t(3));
        QCOMPARE(rilq::edit_distance("", "abc"), size_t(3));
        QCOMPARE(rilq::edit_distance("flaw", "lawn"), size_t(2));
        QCOMPARE(rilq::closest_match("lora_rank", {"lora_r", "lora_alpha"}), std::string("lora_r"));
        QCOMPARE(rilq::closest_match("LORA_R", {"lora_r"}), std::string("lora_r"));
        QCOMPARE(rilq::closest_match("zzzzzz", {"lora_r", "seed"}), std::string(""));
    }
};

RILQ_TEST_APPLESS_MAIN(TestExperimentConfig)
#include "test_experiment_config.moc"
