// Bad models (issue 13, item 8): `rilq eval` on a model with NaN weights printed "ppl -nan" and
// exited 0; it now fails naming the tensor, as `quantize` does. `rilq info` accepted folders that
// `eval` rejects (an extra tensor, a wrong shape); both now apply the same check (the one in
// LlamaConfig::check_hf_tensors), info from the headers alone.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"
#include "tests/support/cli_capture.h"

#include "app/cli/commands.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c.h"
#include "core/io/safetensors.h"
#include "core/model/llama_model.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

using namespace rilq;
using rilq::fault::q;
namespace fs = std::filesystem;

namespace {

LlamaModel stories() {
    return load_llama2c(test::shared_data("stories260K/stories260K.bin"));
}

// An HF folder of stories260K whose tensors are `edit`ed first.
std::string hf_folder(const std::string& dir,
                      const std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)>& edit) {
    const LlamaModel model = stories();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& [name, t] : model.hf_state())
        tensors.emplace_back(name, t.contiguous());
    edit(tensors);
    fs::create_directories(dir);
    save_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
    test::write_file(dir + "/config.json", model.config().to_json().dump(2));
    return dir;
}

test::CliRun eval(const std::string& model) {
    return test::run_cli(cli::cmd_eval, "rilq eval",
                         {q(model), "--tokenizer", q(test::shared_data("stories260K/tok512.bin")),
                          "--dataset", q("text=" + test::shared_data("tinystories/tinystories_val.txt")),
                          "--seqlen", "32", "--max-windows", "2"});
}

test::CliRun info(const std::string& model) {
    return test::run_cli(cli::cmd_info, "rilq info", {q(model)});
}

} // namespace

class TestFaultModels : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void evalRefusesNonFiniteWeights() {
        const std::string dir = test::make_temp_dir("fault-nan");
        const std::string good = hf_folder(dir + "/good", [](auto&) {});
        QCOMPARE(eval(good).code, 0); // the folder itself evaluates
        const std::string bad = hf_folder(dir + "/bad", [](auto& tensors) {
            for (auto& [name, t] : tensors)
                if (name == "model.layers.1.mlp.up_proj.weight") t[3][5] = std::nan("");
        });
        const auto r = eval(bad);
        QCOMPARE(r.code, 1);
        QVERIFY2(fault::contains(r.err, "model.layers.1.mlp.up_proj.weight") &&
                     fault::contains(r.err, "nan at [3, 5]"),
                 r.err.c_str());
        QVERIFY2(!fault::contains(r.out, "ppl"), r.out.c_str());
    }

    void infoRejectsWhatEvalRejects_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("message");
        QTest::newRow("extra tensor") << "extra"
                                      << "unexpected tensor \"model.layers.0.mlp.extra.weight\"";
        QTest::newRow("wrong shape")
            << "shape"
            << "tensor \"model.layers.2.self_attn.k_proj.weight\" has shape [64, 32], expected [32, 64]";
        QTest::newRow("missing tensor") << "missing"
                                        << "missing tensor \"model.norm.weight\"";
    }
    void infoRejectsWhatEvalRejects() {
        QFETCH(QString, kind);
        QFETCH(QString, message);
        const std::string dir = hf_folder(test::make_temp_dir("fault-info") + "/model", [&](auto& tensors) {
            if (kind == "extra")
                tensors.emplace_back("model.layers.0.mlp.extra.weight", torch::zeros({4, 4}));
            for (auto it = tensors.begin(); it != tensors.end(); ++it) {
                if (kind == "shape" && it->first == "model.layers.2.self_attn.k_proj.weight")
                    it->second = it->second.t().contiguous();
                if (kind == "missing" && it->first == "model.norm.weight") {
                    tensors.erase(it);
                    break;
                }
            }
        });
        const auto i = info(dir);
        QCOMPARE(i.code, 1);
        QVERIFY2(fault::contains(i.err, message.toStdString()), i.err.c_str());
        const auto e = eval(dir);
        QCOMPARE(e.code, 1);
        QVERIFY2(fault::contains(e.err, message.toStdString()), e.err.c_str());
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultModels)
#include "test_fault_models.moc"
