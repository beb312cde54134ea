// `rilq finetune` in-process on stories260K and the Alpaca demo rows: quantizes, trains, writes a
// PEFT adapter that loads over the written quantized model, records the curves in finetune.json and
// the run (params, curves, final eval loss, artifacts) in the run store, resumes from its checkpoint,
// refuses to overwrite a run, and names the record of a bad data file.
#include <QtTest/QtTest>

#include <filesystem>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <torch/torch.h>

#include "app/cli/commands.h"
#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"
#include "core/store/run_store.h"
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"

using nlohmann::json;
using namespace rilq;
namespace fs = std::filesystem;

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

Run finetune(const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.code = cli::cmd_finetune(QStringList{QStringLiteral("rilq finetune")} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

QString shared(const char* relative) {
    return QString::fromStdString(test::shared_data(relative));
}

// A short run: 2-bit RTN, r 4 + IEC, 8 held-out rows (4 evaluated), 2 examples per update.
QStringList short_run(const std::string& out, int steps) {
    return {"--db",
            QString::fromStdString(fs::path(out).parent_path().string() + "/runs.db"),
            shared("stories260K/stories260K.bin"),
            "--data",
            shared("alpaca/alpaca_en_demo.json"),
            "--out",
            QString::fromStdString(out),
            "--method",
            "rtn",
            "--bits",
            "2",
            "--group",
            "64",
            "--lora-r",
            "4",
            "--lora-alpha",
            "8",
            "--lr",
            "1e-3",
            "--batch",
            "2",
            "--eval-size",
            "8",
            "--max-eval",
            "4",
            "--eval-batch",
            "2",
            "--eval-steps",
            "2",
            "--steps",
            QString::number(steps),
            "--quiet",
            "--threads",
            "1"};
}

} // namespace

class TestCliFinetune : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void trainsSavesAndResumes() {
        const std::string out = test::make_temp_dir("cli-finetune") + "/run";
        const Run r = finetune(short_run(out, 4));
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("fine-tuned 4 updates") != std::string::npos, r.out.c_str());
        for (const char* f :
             {"adapter/adapter_config.json", "adapter/adapter_model.safetensors", "quantized/config.json",
              "quantized/tok512.model", "finetune.json", "checkpoint/checkpoint.json"})
            QVERIFY2(fs::exists(fs::path(out) / f), f);
        const auto summary = json::parse(test::read_file(out + "/finetune.json"));
        QCOMPARE(summary["updates"].size(), size_t(4));
        QCOMPARE(summary["validations"].size(), size_t(3)); // updates 0, 2, 4
        QCOMPARE(summary["data"]["train"].get<int>(), 991);
        QCOMPARE(summary["data"]["eval"].get<int>(), 4);
        QCOMPARE(summary["config"]["train"]["max_grad_norm"].get<double>(), 0.3);
        QVERIFY(summary["config"]["train"]["iec"].get<bool>());
        const double final_loss = summary["result"]["final_eval_loss"].get<double>();
        QVERIFY(std::isfinite(final_loss));
        QVERIFY(summary["updates"][0]["grad_norm"].get<double>() > 0.0);

        // The adapter goes on the quantized base it was trained on (HF PEFT's layout).
        auto model = load_model(out + "/quantized");
        const auto set = load_peft_adapter(out + "/adapter", model);
        QCOMPARE(set.config().r, int64_t(4));
        const auto cfg = json::parse(test::read_file(out + "/adapter/adapter_config.json"));
        QCOMPARE(cfg["base_model_name_or_path"].get<std::string>(), out + "/quantized");

        // The store has the run: settings as params, the same curves, the outputs as artifacts.
        {
            store::RunStore db(fs::path(out).parent_path().string() + "/runs.db");
            const auto runs = db.list_runs();
            QCOMPARE(runs.size(), size_t(1));
            QCOMPARE(runs[0].experiment, std::string("finetune"));
            QCOMPARE(runs[0].name, std::string("run"));
            QCOMPARE(runs[0].status, store::RunStatus::Finished);
            const auto params = db.params(runs[0].uuid);
            QCOMPARE(params.at("train.max_grad_norm"), std::string("0.3"));
            QCOMPARE(params.at("data.source_max_len"), std::string("384"));
            QCOMPARE(params.at("sft.train_examples"), std::string("991"));
            QCOMPARE(params.at("sft.data_sha256"), summary["data"]["sha256"].get<std::string>());
            const auto t_loss = db.metric_history(runs[0].uuid, "t_loss");
            QCOMPARE(t_loss.size(), size_t(4));
            for (size_t i = 0; i < 4; ++i) {
                QCOMPARE(t_loss[i].step, int64_t(i + 1));
                QCOMPARE(t_loss[i].value, summary["updates"][i]["t_loss"].get<double>());
            }
            QCOMPARE(db.metric_history(runs[0].uuid, "grad_norm").size(), size_t(4));
            QCOMPARE(db.metric_history(runs[0].uuid, "v_loss").size(), size_t(3));
            const auto final_eval = db.metric_history(runs[0].uuid, "final_eval_loss");
            QCOMPARE(final_eval.size(), size_t(1));
            QCOMPARE(final_eval[0].value, final_loss);
            std::set<std::string> kinds;
            for (const auto& a : db.artifacts(runs[0].uuid))
                kinds.insert(a.kind);
            QCOMPARE(kinds, (std::set<std::string>{"adapter", "quantized_model", "run_summary"}));
        }

        // Running again into the same folder is refused; --resume continues to 6 updates.
        const Run again = finetune(short_run(out, 4));
        QCOMPARE(again.code, 1);
        QVERIFY2(again.err.find("pass --resume") != std::string::npos, again.err.c_str());
        const Run resumed = finetune(short_run(out, 6) << "--resume");
        QVERIFY2(resumed.code == 0, resumed.err.c_str());
        const auto after = json::parse(test::read_file(out + "/finetune.json"));
        QCOMPARE(after["updates"].size(), size_t(2)); // this session's updates 5 and 6
        QCOMPARE(after["updates"][0]["update"].get<int>(), 5);
        QCOMPARE(after["result"]["updates"].get<int>(), 6);
        store::RunStore db(fs::path(out).parent_path().string() + "/runs.db");
        QCOMPARE(db.list_runs().size(), size_t(2)); // the resumed session is a run of its own
    }

    void badInputIsNamed() {
        const std::string dir = test::make_temp_dir("cli-finetune-bad");
        test::write_file(dir + "/bad.json",
                         R"([{"instruction": "a", "output": "b"}, {"instruction": 7, "output": "c"}])");
        const Run r = finetune({shared("stories260K/stories260K.bin"), "--data",
                                QString::fromStdString(dir + "/bad.json"), "--out",
                                QString::fromStdString(dir + "/out"), "--eval-size", "1"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.find(dir + "/bad.json: record 1 ($[1].instruction): expected a string, found 7") !=
                     std::string::npos,
                 r.err.c_str());
        QVERIFY(!fs::exists(dir + "/out"));
        const Run usage = finetune({shared("stories260K/stories260K.bin"), "--data", "x.json"});
        QCOMPARE(usage.code, 2);
        const Run too_many =
            finetune({shared("stories260K/stories260K.bin"), "--data", shared("alpaca/alpaca_en_demo.json"),
                      "--out", QString::fromStdString(dir + "/out2")}); // recipe's 1024 held out
        QCOMPARE(too_many.code, 1);
        QVERIFY2(too_many.err.find("eval_dataset_size 1024 leaves no training rows") != std::string::npos,
                 too_many.err.c_str());
    }
};

RILQ_TEST_GUILESS_MAIN(TestCliFinetune)
#include "test_cli_finetune.moc"
