// The demo's model cache on Debian's real fortunes text (with a tiny pretraining budget so it
// runs in seconds): the first call builds and records the build in the run store, the second
// reuses the cache, and a corrupted weight file or changed settings rebuild it.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"

#include "core/demo/demo_model.h"
#include "core/io/model_loader.h"
#include "core/store/run_store.h"

#include <torch/torch.h>

#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

DemoModelOptions tiny_demo(const std::string& cache) {
    DemoModelOptions o;
    o.cache_dir = cache;
    o.vocab_size = 512;
    o.pretrain.hidden_size = 32;
    o.pretrain.num_layers = 1;
    o.pretrain.num_heads = 2;
    o.pretrain.num_kv_heads = 1;
    o.pretrain.intermediate_size = 64;
    o.pretrain.seqlen = 32;
    o.pretrain.batch_size = 4;
    o.pretrain.max_steps = 6;
    o.pretrain.warmup_steps = 2;
    o.pretrain.eval_every = 3;
    o.pretrain.eval_windows = 4;
    return o;
}

} // namespace

class TestDemoModel : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() {
        torch::set_num_threads(1);
        if (!fs::exists(fortunes_dir())) QSKIP("the fortunes package is not installed (scripts/setup.sh installs it)");
    }

    void buildsOnceThenReusesAndRebuildsWhenCorrupt() {
        const std::string dir = test::make_temp_dir("demo-cache");
        store::RunStore store(dir + "/runs.db");
        DemoModelOptions options = tiny_demo(dir + "/cache");
        options.record_in = &store;

        const DemoModel first = ensure_demo_model(options);
        QVERIFY(first.built_now);
        QVERIFY(demo_model_is_valid(first.model_dir, options));
        QVERIFY(first.corpus.train_entries > 10 * first.corpus.test_entries); // split 18 : 1 : 1 by entry
        QVERIFY(first.corpus.test_entries > 0 && first.corpus.val_entries > 0);
        const LlamaModel model = load_model(first.model_dir);
        QCOMPARE(model.config().hidden_size, int64_t{32});
        QCOMPARE(model.config().vocab_size, int64_t{512});
        QVERIFY(std::isfinite(first.val_loss) && first.val_loss > 0.0);
        store::RunFilter demo_runs;
        demo_runs.experiment = "demo-pretrain";
        QCOMPARE(store.list_runs(demo_runs).size(), size_t{1});

        const DemoModel again = ensure_demo_model(options);
        QVERIFY(!again.built_now);
        QCOMPARE(again.model_dir, first.model_dir);
        QCOMPARE(again.val_loss, first.val_loss);

        test::write_file(first.model_dir + "/model.safetensors", "not a model");
        QVERIFY(!demo_model_is_valid(first.model_dir, options));
        QVERIFY(ensure_demo_model(options).built_now);

        DemoModelOptions other = options;
        other.pretrain.max_steps = 7;
        QVERIFY(!demo_model_is_valid(first.model_dir, other)); // settings are part of the manifest
    }
};

RILQ_TEST_APPLESS_MAIN(TestDemoModel)
#include "test_demo_model.moc"
