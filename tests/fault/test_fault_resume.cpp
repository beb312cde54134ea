// Resuming (issue 13, item 8). A run recorded KILLED "cancelled before start" could not be resumed
// ("no checkpoint") although KILLED runs resume: it now starts fresh under its own uuid. And a
// resumed run stored the metrics of the steps between its last checkpoint and the kill twice:
// they are now dropped before those steps are trained (and logged) again.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"

#include "core/run/runner.h"
#include "core/store/run_store.h"

#include <torch/torch.h>

#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> steps_of(const std::vector<store::MetricPoint>& points) {
    std::vector<int64_t> steps;
    for (const auto& p : points)
        steps.push_back(p.step);
    return steps;
}

} // namespace

class TestFaultResume : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void aRunCancelledBeforeStartResumesFromScratch() {
        const std::string dir = test::make_temp_dir("fault-resume-unstarted");
        CancelToken cancel;
        cancel.cancel();
        run::RunnerOptions options = fault::runner_options_in(dir);
        options.cancel = &cancel;
        const auto killed =
            run::Runner(options).run_experiment(fault::parse(fault::tiny_experiment("unstarted", 2)));
        QCOMPARE(killed.size(), size_t{1});
        QVERIFY(killed[0].status == store::RunStatus::Killed);
        QCOMPARE(killed[0].message, std::string("cancelled before start"));

        const auto resumed = run::Runner(fault::runner_options_in(dir)).resume(killed[0].uuid);
        QVERIFY2(resumed.status == store::RunStatus::Finished, resumed.message.c_str());
        QCOMPARE(resumed.uuid, killed[0].uuid);
        QCOMPARE(resumed.train.micro_steps, int64_t{4});
        QVERIFY(fs::exists(resumed.output_dir + "/adapter/adapter_model.safetensors"));
        store::RunStore db(options.store_path);
        QCOMPARE(db.list_runs().size(), size_t{1});
        QCOMPARE(steps_of(db.metric_history(resumed.uuid, "v_loss")), (std::vector<int64_t>{0, 2, 4}));
    }

    // Killed after update 5, the last checkpoint at update 4: update 5's metrics were stored
    // before the kill and again by the resumed training.
    void resumeStoresEachStepOnce() {
        const std::string dir = test::make_temp_dir("fault-resume-dup");
        CancelToken cancel;
        run::RunnerOptions options = fault::runner_options_in(dir);
        options.cancel = &cancel;
        options.on_event = [&](const run::RunnerEvent& e) {
            if (e.kind == run::RunnerEvent::Kind::Train && e.train.kind == TrainEventKind::Update &&
                e.train.update_step == 5)
                cancel.cancel();
        };
        const auto killed =
            run::Runner(options).run_experiment(fault::parse(fault::tiny_experiment("dup", 2, 8)));
        QVERIFY(killed[0].status == store::RunStatus::Killed);
        {
            store::RunStore db(options.store_path);
            QCOMPARE(db.metric_history(killed[0].uuid, "t_loss").back().step, int64_t{5});
        }
        const auto resumed = run::Runner(fault::runner_options_in(dir)).resume(killed[0].uuid);
        QVERIFY2(resumed.status == store::RunStatus::Finished, resumed.message.c_str());
        store::RunStore db(options.store_path);
        QCOMPARE(steps_of(db.metric_history(resumed.uuid, "t_loss")),
                 (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
        QCOMPARE(steps_of(db.metric_history(resumed.uuid, "v_loss")), (std::vector<int64_t>{0, 2, 4, 6, 8}));
        // The summaries agree with the curve that is left.
        const auto t_loss = db.metric_history(resumed.uuid, "t_loss");
        const auto summary = db.metric_summaries(resumed.uuid).at("t_loss");
        QCOMPARE(summary.latest_step, int64_t{8});
        QCOMPARE(summary.latest, t_loss.back().value);
        double lowest = t_loss.front().value;
        for (const auto& p : t_loss)
            lowest = std::min(lowest, p.value);
        QCOMPARE(summary.min, lowest);
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultResume)
#include "test_fault_resume.moc"
