// A preparation written to a folder and loaded back (the Slurm backend's shared preparation,
// core/run/prepared_artifact.h), on the real stories260K:
//  - everything comes back exactly: the quantized student's weights, the teacher's targets, the
//    calibration windows, the FP / quantized PPL, the layer stats, quant_stats;
//  - a point run from the loaded preparation records the same curves and PPL, bit for bit, as the
//    same point prepared in place;
//  - a folder made for other settings, or missing a file, is refused with the folder named.
#include "tests/support/test_support.h"

#include "core/run/experiment_config.h"
#include "core/run/prepared_artifact.h"
#include "core/run/runner.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

run::ExperimentConfig tiny(int bits) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "name": "prepared-artifact",
      "seed": 42,
      "datasets": {
        "calib": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.0, 0.5]},
        "heldout": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.5, 1.0], "max_windows": 4}
      },
      "rilq": {"base_model": "stories260K/stories260K.bin", "tokenizer": "stories260K/tok512.bin",
               "lora_r": 2, "dtype": "fp32", "output_dir": "out/{run}", "calib_dataset": "calib",
               "calib_num_samples": 8, "calib_val_ratio": 0.25, "calib_max_length": 32,
               "approx_total_steps": 6, "approx_lr": 3e-3, "approx_batch_size": 1,
               "gradient_accumulation_steps": 2, "approx_eval_steps": 2, "approx_early_stop": false},
      "quant": {"method": "rtn", "group_size": 64},
      "eval": {"datasets": ["heldout"], "seqlen": 64}
    })");
    doc["quant"]["bits"] = bits;
    run::ParseOptions options;
    options.data_root_override = test::shared_data();
    return run::parse_experiment(doc, options);
}

void compare_evals(const std::vector<store::EvalResult>& a, const std::vector<store::EvalResult>& b) {
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].stage, b[i].stage);
        QCOMPARE(a[i].ppl, b[i].ppl);
        QCOMPARE(a[i].n_tokens, b[i].n_tokens);
        QCOMPARE(a[i].file_sha256, b[i].file_sha256);
    }
}

} // namespace

class TestPreparedArtifact : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void roundTripIsExactAndRunsTheSame() {
        QTemporaryDir dir;
        const run::ExperimentConfig experiment = tiny(2);
        const run::RunConfig& config = experiment.runs.front();
        auto made = run::prepare(config, nullptr, [](run::RunStage) {}, {});
        const std::string folder = dir.filePath("prepared").toStdString();
        run::save_preparation(*made, folder);
        auto loaded = run::load_preparation(folder, config);

        QCOMPARE(loaded->key, made->key);
        QCOMPARE(loaded->targets_key, made->targets_key);
        QCOMPARE(loaded->calibration_description, made->calibration_description);
        QVERIFY(torch::equal(loaded->train_ids, made->train_ids));
        QVERIFY(torch::equal(loaded->val_ids, made->val_ids));
        QVERIFY(loaded->targets && made->targets);
        QVERIFY(torch::equal(loaded->targets->train.all(), made->targets->train.all()));
        QVERIFY(torch::equal(loaded->targets->val.all(), made->targets->val.all()));
        const auto made_state = made->student->hf_state();
        const auto loaded_state = loaded->student->hf_state();
        QCOMPARE(loaded_state.size(), made_state.size());
        for (const auto& [name, tensor] : made_state)
            QVERIFY2(torch::equal(loaded_state.at(name), tensor), name.c_str());
        compare_evals(loaded->fp_evals, made->fp_evals);
        compare_evals(loaded->quantized_evals, made->quantized_evals);
        QCOMPARE(loaded->quantized_stats.size(), made->quantized_stats.size());
        for (size_t i = 0; i < made->quantized_stats.size(); ++i) {
            QCOMPARE(loaded->quantized_stats[i].metric, made->quantized_stats[i].metric);
            QCOMPARE(loaded->quantized_stats[i].value, made->quantized_stats[i].value);
        }
        QVERIFY(loaded->quant_stats_json && *loaded->quant_stats_json == *made->quant_stats_json);

        // The point, prepared in place and from the folder: the same run, bit for bit.
        const auto run_point = [&](std::unique_ptr<run::Preparation> prepared, const std::string& db) {
            run::RunnerOptions options;
            options.store_path = db;
            options.output_base = dir.path().toStdString();
            options.write_outputs = false;
            run::Runner runner(options);
            if (prepared) runner.adopt_preparation(std::move(prepared));
            return runner.run_point(config, experiment.document_json, 1);
        };
        const run::RunOutcome here = run_point(nullptr, dir.filePath("here.sqlite").toStdString());
        const run::RunOutcome there =
            run_point(std::move(loaded), dir.filePath("there.sqlite").toStdString());
        QCOMPARE(here.status, store::RunStatus::Finished);
        QCOMPARE(there.status, store::RunStatus::Finished);
        compare_evals(there.evals, here.evals);
        store::RunStore a(dir.filePath("here.sqlite").toStdString()),
            b(dir.filePath("there.sqlite").toStdString());
        for (const char* key : {"t_loss", "v_loss", "lr"}) {
            const auto ca = a.metric_history(here.uuid, key), cb = b.metric_history(there.uuid, key);
            QVERIFY(!ca.empty());
            QCOMPARE(cb.size(), ca.size());
            for (size_t i = 0; i < ca.size(); ++i)
                QCOMPARE(cb[i].value, ca[i].value);
        }
        QCOMPARE(b.layer_stats(there.uuid, "quantized").size(), a.layer_stats(here.uuid, "quantized").size());
    }

    void refusesAFolderOfOtherSettingsOrIncomplete() {
        QTemporaryDir dir;
        const run::RunConfig two_bits = tiny(2).runs.front();
        const std::string folder = dir.filePath("prepared").toStdString();
        run::save_preparation(*run::prepare(two_bits, nullptr, [](run::RunStage) {}, {}), folder);
        try {
            run::load_preparation(folder, tiny(3).runs.front());
            QFAIL("a 2-bit preparation was loaded for a 3-bit run");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(folder + " was prepared for other settings") !=
                         std::string::npos,
                     e.what());
        }
        fs::remove(folder + "/tensors.safetensors");
        try {
            run::load_preparation(folder, two_bits);
            QFAIL("a folder without its tensors was loaded");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(folder + "/tensors.safetensors") != std::string::npos,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error,
                                 run::load_preparation(dir.filePath("nothing").toStdString(), two_bits));
    }
};

RILQ_TEST_APPLESS_MAIN(TestPreparedArtifact)
#include "test_prepared_artifact.moc"
