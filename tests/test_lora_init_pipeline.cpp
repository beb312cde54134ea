// The closed-form lora_init choices through the real pipeline (Runner on stories260K, RTN W2 g64):
//   * LoftQ: the saved quantized base is the last Q of LoftQ run here on the FP weights with the
//     run's quantizer, the saved adapters its factors; 5 rounds leave a smaller weight error than 1;
//     the next point of the sweep (same preparation) gets the plain RTN student back;
//   * QERA-exact: its calibrated objective tr((E - sBA) R (E - sBA)^T), with R the Gram of each
//     linear's FP inputs on the run's calibration windows (built here by the calibration code and an
//     observer of our own), is the closed form's optimum for that R and below the weight-SVD init's;
//   * LoftQ + RILQ (scope model) trains from the LoftQ init and keeps its base;
//   * bad settings fail validation naming the field.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/stories_experiment.h"
#include "tests/support/test_support.h"

#include "core/data/calibration.h"
#include "core/data/token_windows.h"
#include "core/io/model_loader.h"
#include "core/lora/init/loftq.h"
#include "core/lora/init/qera.h"
#include "core/lora/lora_adapter.h"
#include "core/lora/lora_set.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/quant/quantizer.h"
#include "core/run/experiment_config.h"
#include "core/run/run_settings.h"
#include "core/run/runner.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <map>

using namespace rilq;

namespace {

// The shared tiny experiment at rank 4, each closed form at 1 and 5 LoftQ rounds, scope weight-svd
// (validation only, no training): loftq first and 5 rounds last, so the gaussian point after it
// must get the plain student back from the changed base.
nlohmann::json lora_init_experiment() {
    auto doc = test::stories260k_tiny_experiment();
    doc["name"] = "lora-init-test";
    doc["rilq"]["scope"] = "weight-svd";
    doc["rilq"]["lora_r"] = 4;
    doc["rilq"]["lora_init"] = {"loftq", "gaussian", "qera-exact"};
    doc["rilq"]["loftq_iter"] = {1, 5};
    doc["rilq"]["approx_total_steps"] = 8;
    doc["rilq"]["approx_eval_steps"] = 2;
    return doc;
}

run::ExperimentConfig lora_init_parse(const nlohmann::json& doc) {
    return test::parse_with_shared_data(doc);
}

std::vector<run::RunOutcome> lora_init_run(const nlohmann::json& doc, const std::string& dir) {
    run::RunnerOptions options;
    options.store_path = dir + "/runs.db";
    options.output_base = dir;
    return run::Runner(options).run_experiment(lora_init_parse(doc));
}

// What a run saved: its quantized base and, on top of it, its adapters.
struct SavedInit {
    LlamaModel base;
    LoraSet adapters;
};

SavedInit load_saved_init(const std::string& output_dir) {
    SavedInit s{load_model(output_dir + "/quantized"), {}};
    LlamaModel scratch = load_model(output_dir + "/quantized");
    s.adapters = load_peft_adapter(output_dir + "/adapter", scratch);
    detach_lora(scratch, s.adapters);
    return s;
}

// sum over linears of ||W - Q - s B A||_F^2
double saved_weight_error(const LlamaModel& fp, const SavedInit& s) {
    double sum = 0.0;
    for (const auto& a : s.adapters.adapters()) {
        const auto& name = a->linear_name();
        const auto D = fp.linear(name).weight - s.base.linear(name).weight - a->delta_weight();
        sum += D.pow(2).sum().item<double>();
    }
    return sum;
}

// The Gram E[x x^T] of each linear's inputs in the FP model over the run's training windows, drawn
// by the calibration code from the parsed config.
std::map<std::string, torch::Tensor> fp_input_grams(const run::RunConfig& config, const LlamaModel& fp) {
    std::vector<DatasetSpec> specs;
    for (const auto& dataset : config.calib_datasets())
        specs.push_back(run::data_spec_of(config, dataset));
    const auto tokenizer = run::tokenizer_of(config);
    const CalibrationSet set = build_calibration(calibration_sources(specs, {config.calib.num_samples}),
                                                 *tokenizer, config.calib.options);
    const auto ids = to_tensor(set.train);
    std::map<std::string, torch::Tensor> sums;
    int64_t rows = 0;
    ForwardOptions options;
    options.want_logits = false;
    options.observer = [&](const std::string& name, const torch::Tensor& x) {
        const auto X = x.reshape({-1, x.size(-1)}).to(torch::kFloat64);
        auto& sum = sums[name];
        sum = sum.defined() ? sum + X.t().matmul(X) : X.t().matmul(X);
        if (name == "layers.0.self_attn.q_proj") rows += X.size(0);
    };
    torch::NoGradGuard no_grad;
    fp.forward(ids, options);
    for (auto& [name, sum] : sums)
        sum = sum / static_cast<double>(rows);
    return sums;
}

// The run's quantizer on one linear, and LoftQ with it on the FP weight.
WeightQuantizer run_quantizer(const run::RunConfig& config, const std::string& name) {
    return [&config, name](const torch::Tensor& w) {
        return quantize_weight(w, config.quant, name).dequantized;
    };
}
LoftqResult loftq_here(const LlamaModel& fp, const run::RunConfig& config, const LoraAdapter& a, int rounds) {
    return loftq(fp.linear(a.linear_name()).weight, run_quantizer(config, a.linear_name()), a.rank(),
                 a.scale(), rounds);
}

const run::RunOutcome& lora_init_outcome(const std::vector<run::RunOutcome>& outcomes,
                                         const run::ExperimentConfig& experiment, LoraInit init,
                                         int64_t iter) {
    for (size_t i = 0; i < experiment.runs.size(); ++i)
        if (experiment.runs[i].train.lora.init == init && experiment.runs[i].train.lora.loftq_iter == iter)
            return outcomes.at(i);
    throw Error("no point with that init");
}

} // namespace

class TestLoraInitPipeline : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void closedFormInitsThroughTheRunner() {
        const std::string dir = test::make_temp_dir("lora-init-pipeline");
        const auto experiment = lora_init_parse(lora_init_experiment());
        QCOMPARE(experiment.runs.size(), size_t{6});
        const auto outcomes = lora_init_run(lora_init_experiment(), dir);
        QCOMPARE(outcomes.size(), size_t{6});
        for (const auto& o : outcomes)
            QVERIFY2(o.status == store::RunStatus::Finished, o.message.c_str());
        const run::RunConfig& config = experiment.runs.front();
        const LlamaModel fp = load_model(test::shared_data("stories260K/stories260K.bin"));

        // LoftQ: the saved base is the last Q, the saved adapters the last factors.
        const SavedInit loftq5 =
            load_saved_init(lora_init_outcome(outcomes, experiment, LoraInit::Loftq, 5).output_dir);
        const SavedInit loftq1 =
            load_saved_init(lora_init_outcome(outcomes, experiment, LoraInit::Loftq, 1).output_dir);
        QCOMPARE(loftq5.adapters.adapters().size(), size_t{35});
        bool base_changed = false;
        for (const auto& a : loftq5.adapters.adapters()) {
            const auto& name = a->linear_name();
            const LoftqResult want = loftq_here(fp, config, *a, 5);
            QVERIFY2(test::max_abs_diff(loftq5.base.linear(name).weight, want.base) <= 1e-6, name.c_str());
            QVERIFY2(test::max_abs_diff(a->delta_weight(), low_rank_product(want.factors, a->scale())) <=
                         1e-5,
                     name.c_str());
            const auto plain = run_quantizer(config, name)(fp.linear(name).weight);
            base_changed = base_changed || !torch::equal(want.base, plain);
            // One round re-quantizes W itself: the base is the plain RTN student.
            QVERIFY2(torch::equal(loftq1.base.linear(name).weight, plain), name.c_str());
        }
        QVERIFY(base_changed);
        const double error5 = saved_weight_error(fp, loftq5), error1 = saved_weight_error(fp, loftq1);
        QVERIFY2(error5 < error1, (std::to_string(error5) + " vs " + std::to_string(error1)).c_str());

        // The points after LoftQ's share its preparation and get the plain RTN student back.
        const SavedInit svd =
            load_saved_init(lora_init_outcome(outcomes, experiment, LoraInit::Gaussian, 5).output_dir);
        const SavedInit qera =
            load_saved_init(lora_init_outcome(outcomes, experiment, LoraInit::QeraExact, 1).output_dir);
        const auto grams = fp_input_grams(config, fp);
        double qera_sum = 0.0, svd_sum = 0.0;
        for (size_t i = 0; i < qera.adapters.adapters().size(); ++i) {
            const auto& a = qera.adapters.adapters()[i];
            const auto& name = a->linear_name();
            QVERIFY2(torch::equal(svd.base.linear(name).weight, loftq1.base.linear(name).weight),
                     name.c_str());
            QVERIFY2(torch::equal(qera.base.linear(name).weight, svd.base.linear(name).weight), name.c_str());
            const auto E = fp.linear(name).weight - qera.base.linear(name).weight;
            const LowRankFactors run_qera{a->A(), a->B()};
            const LowRankFactors run_svd{svd.adapters.adapters()[i]->A(), svd.adapters.adapters()[i]->B()};
            const double q = calibrated_objective(E, grams.at(name), run_qera, a->scale());
            const double s = calibrated_objective(E, grams.at(name), run_svd, a->scale());
            // The optimum for this Gram: the run saw the same windows through the same inputs.
            const double best = calibrated_objective(
                E, grams.at(name),
                calibrated_factors(E, grams.at(name), a->rank(), a->scale(), CalibratedScaling::Exact),
                a->scale());
            QVERIFY2(std::fabs(q - best) <= 1e-4 * best + 1e-12,
                     (name + ": " + std::to_string(q) + " vs " + std::to_string(best)).c_str());
            QVERIFY2(q <= s * (1.0 + 1e-6), name.c_str());
            qera_sum += q;
            svd_sum += s;
        }
        QVERIFY2(qera_sum < 0.95 * svd_sum,
                 (std::to_string(qera_sum) + " vs " + std::to_string(svd_sum)).c_str());
    }

    void loftqThenRilqTrainsFromTheInit() {
        const std::string dir = test::make_temp_dir("lora-init-rilq");
        auto doc = lora_init_experiment();
        doc["rilq"]["scope"] = "model";
        doc["rilq"]["lora_init"] = "loftq";
        doc["rilq"]["loftq_iter"] = 2;
        const auto outcomes = lora_init_run(doc, dir);
        QCOMPARE(outcomes.size(), size_t{1});
        const auto& o = outcomes.front();
        QVERIFY2(o.status == store::RunStatus::Finished, o.message.c_str());
        QCOMPARE(o.train.updates, int64_t{4});
        QVERIFY(o.train.best_v_loss < o.train.initial_v_loss);
        // Trained adapters sit on LoftQ's base, which training leaves alone.
        const auto config = lora_init_parse(doc).runs.front();
        const LlamaModel fp = load_model(test::shared_data("stories260K/stories260K.bin"));
        const SavedInit saved = load_saved_init(o.output_dir);
        for (const auto& a : saved.adapters.adapters()) {
            const LoftqResult want = loftq_here(fp, config, *a, 2);
            QVERIFY2(test::max_abs_diff(saved.base.linear(a->linear_name()).weight, want.base) <= 1e-6,
                     a->linear_name().c_str());
        }
    }

    void badInitSettingsNameTheField() {
        const auto problem_with = [](const std::function<void(nlohmann::json&)>& edit) {
            auto doc = lora_init_experiment();
            edit(doc);
            try {
                lora_init_parse(doc);
            } catch (const run::ConfigError& e) {
                return std::string(e.what());
            }
            return std::string("accepted");
        };
        const std::string unknown =
            problem_with([](nlohmann::json& d) { d["rilq"]["lora_init"] = "loftqq"; });
        QVERIFY2(unknown.find("$.rilq.lora_init") != std::string::npos &&
                     unknown.find("loftq") != std::string::npos,
                 unknown.c_str());
        const std::string rounds = problem_with([](nlohmann::json& d) { d["rilq"]["loftq_iter"] = 0; });
        QVERIFY2(rounds.find("$.rilq.loftq_iter") != std::string::npos, rounds.c_str());
        const std::string no_quantizer = problem_with([](nlohmann::json& d) {
            d["rilq"]["lora_init"] = "loftq";
            d["rilq"]["q_model"] = "stories260K/stories260K.bin";
            d["quant"] = {{"method", "none"}};
        });
        QVERIFY2(no_quantizer.find("$.rilq.lora_init") != std::string::npos &&
                     no_quantizer.find("quantizer") != std::string::npos,
                 no_quantizer.c_str());
        const std::string finetune = problem_with([](nlohmann::json& d) {
            d["finetune"] = {{"data", "alpaca.json"}, {"lora_init", "qera-exact"}};
        });
        QVERIFY2(finetune.find("$.finetune.lora_init") != std::string::npos, finetune.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestLoraInitPipeline)
#include "test_lora_init_pipeline.moc"
