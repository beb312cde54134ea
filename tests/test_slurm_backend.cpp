// The Slurm backend against a scripted Slurm (a fake ProcessRunner), for what a real one-node
// cluster cannot show in a test's time (test_slurm_cluster.cpp runs the real thing):
//  - squeue / sacct output as Slurm 22.05 prints it, durations in every form;
//  - the verdict table (slurm_state.h) row by row;
//  - submission: the batch script's #SBATCH lines and command, the manifest, the points recorded
//    SCHEDULED and tagged; shared preparation as a dependency job; sbatch refusing -> FAILED runs;
//  - following: shards imported as they grow, events as the local Runner emits them, a time limit
//    -> INTERRUPTED with node, time and reason, the run resubmitted with --resume from a seeded
//    shard; a cancel -> scancel and KILLED runs; a failed preparation job -> FAILED runs naming its
//    log; a task Slurm forgot -> INTERRUPTED;
//  - a chained experiment (quantize -> RILQ -> SFT): the fine-tuning stage's sft.* curves are
//    streamed as Finetune-stage events while the task runs, in the local run's order, and give
//    back exactly the metrics the shard holds.
#include "tests/support/test_support.h"

#include "core/cluster/slurm_follow.h"
#include "core/cluster/slurm_state.h"
#include "core/cluster/slurm_submit.h"
#include "core/finetune/finetune_metrics.h"
#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/run/run_preparation.h"
#include "core/store/run_store.h"
#include "core/store/shard_import.h"
#include "core/store/store_snapshot.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

using namespace rilq;
using namespace rilq::cluster;
namespace fs = std::filesystem;

namespace {

// Slurm's tools, scripted: every call is recorded, `answer` decides what it prints.
class FakeSlurm : public ProcessRunner {
  public:
    std::vector<std::vector<std::string>> calls;
    std::function<ProcessResult(const std::vector<std::string>&)> answer;
    ProcessResult run(const std::vector<std::string>& argv) override {
        calls.push_back(argv);
        return answer(argv);
    }
    int count(const std::string& program) const {
        int n = 0;
        for (const auto& c : calls)
            n += c.front() == program;
        return n;
    }
};

run::ExperimentConfig two_ranks(const std::string& output_dir) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "name": "slurm-unit",
      "datasets": {"calib": {"type": "text", "path": "tinystories/tinystories_val.txt"}},
      "rilq": {"base_model": "stories260K/stories260K.bin", "tokenizer": "stories260K/tok512.bin",
               "lora_r": [1, 2], "calib_dataset": "calib", "approx_total_steps": 4},
      "quant": {"method": "rtn", "bits": 2, "group_size": 64}
    })");
    doc["rilq"]["output_dir"] = output_dir + "/{run}";
    run::ParseOptions options;
    options.data_root_override = test::shared_data();
    return run::parse_experiment(doc, options);
}

// A task's side: its run recorded in a local store, published as the shard.
struct FakeTask {
    FakeTask(const std::string& dir, const SlurmTask& task) : shard(task.shard), uuid(task.run_uuid) {
        store = std::make_unique<store::RunStore>(dir + "/live-" + task.run_name + ".sqlite");
        store::NewRun r;
        r.experiment = "slurm-unit";
        r.name = task.run_name;
        r.config_hash = "hash-" + task.run_name;
        r.uuid = task.run_uuid;
        store->create_run(r);
    }
    void publish() {
        store->flush();
        store::write_store_snapshot(store->database(), shard);
    }
    std::string shard, uuid;
    std::unique_ptr<store::RunStore> store;
};

// A job of two points recorded SCHEDULED in `main`, as submit_experiment leaves it.
SlurmJob recorded_job(store::RunStore& main, const std::string& dir) {
    SlurmJob job;
    job.dir = dir + "/job";
    job.experiment = "slurm-unit";
    job.job_id = "99";
    for (int i = 0; i < 2; ++i) {
        store::NewRun r;
        r.experiment = "slurm-unit";
        r.name = "lora_r=" + std::to_string(i + 1);
        r.config_hash = "hash-" + r.name;
        r.tags = {{"sweep.index", std::to_string(i)}};
        const std::string uuid = main.create_run(r);
        const std::string shard = dir + "/out/" + r.name + ".shard.sqlite";
        main.set_tag(uuid, "slurm.shard", shard);
        main.set_tag(uuid, "slurm.working_dir", dir);
        job.tasks.push_back({i, uuid, r.name, shard, false, -1});
    }
    fs::create_directories(dir + "/out");
    return job;
}

ProcessResult printed(const std::string& out, int exit_code = 0, const std::string& err = "") {
    return {exit_code, out, err};
}

SlurmFollowOptions quick(std::vector<run::RunnerEvent>* events) {
    SlurmFollowOptions o;
    o.poll_interval = std::chrono::milliseconds(5);
    o.on_event = [events](const run::RunnerEvent& e) { events->push_back(e); };
    return o;
}

int count_events(const std::vector<run::RunnerEvent>& events, run::RunnerEvent::Kind kind, int run_index,
                 TrainEventKind train = TrainEventKind::Update) {
    int n = 0;
    for (const auto& e : events)
        n += e.kind == kind && e.run_index == run_index &&
             (kind != run::RunnerEvent::Kind::Train || e.train.kind == train);
    return n;
}

std::string read_text(const std::string& path) {
    return test::read_file(path);
}

} // namespace

class TestSlurmBackend : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void parsesWhatSlurmPrints() {
        // squeue --array --format=%K|%T|%N|%M|%r, as Slurm 22.05 printed it on the test cluster.
        const auto q =
            parse_squeue("2|PENDING||0:00|JobArrayTaskLimit\n0|RUNNING|vm|1:02:03|None\n"
                         "1|COMPLETED|vm|1-02:03:04|None\n3-5%2|PENDING||0:00|JobArrayTaskLimit\n");
        QCOMPARE(q.size(), size_t{3});
        QCOMPARE(q[0].task, 2);
        QCOMPARE(q[0].state, std::string("PENDING"));
        QCOMPARE(q[0].node, std::string());
        QCOMPARE(q[0].reason, std::string("JobArrayTaskLimit"));
        QCOMPARE(q[1].elapsed_s, int64_t{3723});
        QCOMPARE(q[2].elapsed_s, int64_t{93784});
        // sacct --parsable2 JobID,State,NodeList,ElapsedRaw,Reason,ExitCode
        const auto a = parse_sacct("12_0|COMPLETED|vm|63|None|0:0\n12_1|CANCELLED by 0|vm|5|None|0:15\n"
                                   "12_[2-3]|PENDING|None assigned|0|None|0:0\n");
        QCOMPARE(a.size(), size_t{2});
        QCOMPARE(a[1].task, 1);
        QCOMPARE(a[1].state, std::string("CANCELLED"));
        QCOMPARE(a[1].exit_code, std::string("0:15"));
        QCOMPARE(a[0].elapsed_s, int64_t{63});
        QCOMPARE(parse_slurm_duration("5"), int64_t{5});
        QCOMPARE(parse_slurm_duration("02:05"), int64_t{125});
        QCOMPARE(parse_slurm_duration("2-03"), int64_t{2 * 86400 + 3 * 3600});
        QCOMPARE(parse_slurm_duration("2-03:04"), int64_t{2 * 86400 + 3 * 3600 + 4 * 60});
        QCOMPARE(parse_slurm_duration("UNLIMITED"), int64_t{-1});
        QCOMPARE(slurm_duration_text(93784), std::string("1-02:03:04"));
        QCOMPARE(slurm_duration_text(3723), std::string("01:02:03"));
    }

    void verdictTable_data() {
        QTest::addColumn<QString>("slurm");
        QTest::addColumn<QString>("recorded");
        QTest::addColumn<bool>("change");
        QTest::addColumn<QString>("status");
        QTest::newRow("completed, finished") << "COMPLETED"
                                             << "FINISHED" << false << "FINISHED";
        QTest::newRow("failed, closed FAILED") << "FAILED"
                                               << "FAILED" << false << "FAILED";
        QTest::newRow("cancelled, closed KILLED") << "CANCELLED"
                                                  << "KILLED" << false << "KILLED";
        QTest::newRow("cancelled while pending") << "CANCELLED"
                                                 << "SCHEDULED" << true << "KILLED";
        QTest::newRow("cancelled, not closed") << "CANCELLED"
                                               << "RUNNING" << true << "KILLED";
        QTest::newRow("failed, not closed") << "FAILED"
                                            << "RUNNING" << true << "FAILED";
        QTest::newRow("failed, never started") << "FAILED"
                                               << "SCHEDULED" << true << "FAILED";
        QTest::newRow("out of memory") << "OUT_OF_MEMORY"
                                       << "RUNNING" << true << "FAILED";
        QTest::newRow("time limit, closed KILLED") << "TIMEOUT"
                                                   << "KILLED" << true << "INTERRUPTED";
        QTest::newRow("time limit after finishing") << "TIMEOUT"
                                                    << "FINISHED" << false << "FINISHED";
        QTest::newRow("node failure") << "NODE_FAIL"
                                      << "RUNNING" << true << "INTERRUPTED";
        QTest::newRow("preempted") << "PREEMPTED"
                                   << "RUNNING" << true << "INTERRUPTED";
        QTest::newRow("completed, not closed") << "COMPLETED"
                                               << "RUNNING" << true << "INTERRUPTED";
        QTest::newRow("forgotten") << "UNKNOWN"
                                   << "RUNNING" << true << "INTERRUPTED";
    }

    void verdictTable() {
        QFETCH(QString, slurm);
        QFETCH(QString, recorded);
        QFETCH(bool, change);
        QFETCH(QString, status);
        SlurmTaskState task{3, slurm.toStdString(), "node7", 3602, "TimeLimit", ""};
        const RunVerdict v = verdict_for_ended_task(
            task, store::run_status_from_string(recorded.toStdString()), "cancelled during train");
        QCOMPARE(v.change, change);
        if (!change) return;
        QCOMPARE(QString::fromLatin1(store::to_string(v.status)), status);
        if (slurm != "UNKNOWN") {
            QVERIFY2(v.message.find(slurm.toStdString() + " on node7 after 01:00:02 (TimeLimit)") !=
                         std::string::npos,
                     v.message.c_str());
        }
        QCOMPARE(slurm_phase(slurm.toStdString()), SlurmPhase::Ended);
    }

    void submissionWritesTheJobAndRecordsThePoints() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        const run::ExperimentConfig experiment = two_ranks(root + "/out");
        FakeSlurm slurm;
        slurm.answer = [](const std::vector<std::string>&) { return printed("4242\n"); };
        SlurmClient client(slurm);
        SlurmSubmitOptions options;
        options.resources = {"gpu", "gpu:1", 2, "4G", "1:00:00", 1, {"--qos=high"}};
        options.working_dir = root;
        options.job_dir = root + "/job";
        options.rilq_program = "/opt/rilq/bin/rilq";
        options.run_args = {"--no-outputs"};
        const SlurmJob job = submit_experiment(client, main, experiment, options);

        QCOMPARE(slurm.calls.size(), size_t{1});
        QCOMPARE(slurm.calls[0], (std::vector<std::string>{"sbatch", "--parsable", root + "/job/job.sh"}));
        const std::string script = read_text(root + "/job/job.sh");
        for (const std::string& line : std::vector<std::string>{
                 "#SBATCH --array=0-1%1\n", "#SBATCH --partition=gpu\n", "#SBATCH --gres=gpu:1\n",
                 "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=4G\n", "#SBATCH --time=1:00:00\n",
                 "#SBATCH --qos=high\n", "#SBATCH --job-name=rilq-slurm-unit\n",
                 "#SBATCH --output=" + root + "/job/logs/%A_%a.log\n", "#SBATCH --chdir=" + root + "\n",
                 "exec /opt/rilq/bin/rilq run " + root +
                     "/job/experiment.json --point \"$SLURM_ARRAY_TASK_ID\" --job " + root +
                     "/job/job.json --threads 2 --no-outputs\n"})
            QVERIFY2(script.find(line) != std::string::npos, (line + " not in\n" + script).c_str());

        const SlurmJob read = read_job_manifest(root + "/job/job.json");
        QCOMPARE(read.job_id, std::string("4242"));
        QCOMPARE(read.tasks.size(), size_t{2});
        QCOMPARE(read.resources.max_parallel, 1);
        QCOMPARE(read.resources.sbatch_args, std::vector<std::string>{"--qos=high"});
        for (size_t i = 0; i < 2; ++i) {
            const SlurmTask& t = read.tasks[i];
            QCOMPARE(t.point, int(i));
            QCOMPARE(t.run_name, experiment.runs[i].run_name);
            QCOMPARE(t.shard, root + "/out/" + t.run_name + "." + t.run_uuid.substr(0, 12) + ".shard.sqlite");
            QCOMPARE(t.preparation, -1);
            const store::RunDetail d = main.get_run(t.run_uuid);
            QCOMPARE(d.summary.status, store::RunStatus::Scheduled);
            QCOMPARE(d.summary.config_hash, experiment.runs[i].config_hash);
            QCOMPARE(d.tags.at("slurm.job_id"), std::string("4242"));
            QCOMPARE(d.tags.at("slurm.array_task"), std::to_string(i));
            QCOMPARE(d.tags.at("slurm.shard"), t.shard);
        }
        // The tasks' copy of the experiment expands to the same points.
        const auto copy = run::parse_experiment_file(root + "/job/experiment.json");
        QCOMPARE(copy.runs[1].config_hash, experiment.runs[1].config_hash);
        QVERIFY_THROWS_EXCEPTION(Error,
                                 submit_experiment(client, main, experiment, options)); // folder not empty
    }

    void sharedPreparationIsADependencyJob() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        FakeSlurm slurm;
        int ids = 500;
        slurm.answer = [&](const std::vector<std::string>&) { return printed(std::to_string(++ids) + "\n"); };
        SlurmClient client(slurm);
        SlurmSubmitOptions options;
        options.working_dir = root;
        options.job_dir = root + "/job";
        options.rilq_program = "/usr/bin/rilq";
        options.shared_preparation = true;
        options.preparation_key = run::preparation_key;
        const SlurmJob job = submit_experiment(client, main, two_ranks(root + "/out"), options);
        QCOMPARE(job.preparation_job_id, std::string("501"));
        QCOMPARE(job.job_id, std::string("502"));
        QCOMPARE(slurm.calls[0],
                 (std::vector<std::string>{"sbatch", "--parsable", root + "/job/prepare.sh"}));
        QCOMPARE(slurm.calls[1],
                 (std::vector<std::string>{"sbatch", "--parsable", "--dependency=afterok:501",
                                           "--kill-on-invalid-dep=yes", root + "/job/job.sh"}));
        QCOMPARE(job.preparations.size(), size_t{1}); // ranks 1 and 2 share model, quantizer, data
        QCOMPARE(job.preparations[0].tasks, (std::vector<int>{0, 1}));
        QCOMPARE(job.tasks[1].preparation, 0);
        QVERIFY(read_text(root + "/job/prepare.sh").find("--prepare \"$SLURM_ARRAY_TASK_ID\"") !=
                std::string::npos);
    }

    void refusedSubmissionLeavesFailedRuns() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        FakeSlurm slurm;
        slurm.answer = [](const std::vector<std::string>&) {
            return printed("", 1, "sbatch: error: invalid partition specified: gpu\n");
        };
        SlurmClient client(slurm);
        SlurmSubmitOptions options;
        options.working_dir = root;
        options.job_dir = root + "/job";
        options.rilq_program = "/usr/bin/rilq";
        try {
            submit_experiment(client, main, two_ranks(root + "/out"), options);
            QFAIL("sbatch's refusal was not reported");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("invalid partition specified: gpu") != std::string::npos,
                     e.what());
        }
        const auto runs = main.list_runs();
        QCOMPARE(runs.size(), size_t{2});
        for (const auto& r : runs) {
            QCOMPARE(r.status, store::RunStatus::Failed);
            QVERIFY(r.status_message.find("not submitted") != std::string::npos);
        }
    }

    void followingImportsShardsAndMapsATimeLimitThenResumes() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        const SlurmJob job = recorded_job(main, root);
        FakeTask task0(root, job.tasks[0]), task1(root, job.tasks[1]);
        FakeSlurm slurm;
        int poll = 0;
        slurm.answer = [&](const std::vector<std::string>& argv) {
            if (argv.front() != "squeue") return printed("", 1, "unexpected " + argv.front());
            ++poll;
            if (poll == 1) return printed("0|PENDING||0:00|Priority\n1|PENDING||0:00|Priority\n");
            if (poll == 2) {
                task0.store->start_run(task0.uuid);
                task0.store->log_metrics(task0.uuid, 0, {{"v_loss", 3.0}, {"v_a_loss", 2.0}});
                for (int s = 1; s <= 3; ++s)
                    task0.store->log_metrics(task0.uuid, s, {{"t_loss", 3.0 - 0.1 * s}, {"lr", 1e-3}});
                task0.publish();
                return printed("0|RUNNING|node7|0:05|None\n1|RUNNING|node8|0:04|None\n");
            }
            if (poll == 3) {
                for (int s = 4; s <= 6; ++s)
                    task0.store->log_metrics(task0.uuid, s, {{"t_loss", 3.0 - 0.1 * s}, {"lr", 1e-3}});
                task0.store->log_metrics(task0.uuid, 6, {{"v_loss", 2.5}});
                task0.store->log_eval_result(task0.uuid,
                                             {"heldout", "compensated", "f", "t", 128, 2, 256, 9.5, 0});
                task0.store->end_run(task0.uuid, store::RunStatus::Finished);
                task0.publish();
                task1.store->start_run(task1.uuid);
                task1.store->log_metrics(task1.uuid, 1, {{"t_loss", 4.0}});
                task1.publish();
                return printed("0|COMPLETING|node7|0:09|None\n1|RUNNING|node8|0:08|None\n");
            }
            task1.store->end_run(task1.uuid, store::RunStatus::Killed, "cancelled during train");
            task1.publish();
            return printed("0|COMPLETED|node7|0:10|None\n1|TIMEOUT|node8|1:00:02|TimeLimit\n");
        };
        SlurmClient client(slurm);
        std::vector<run::RunnerEvent> events;
        const auto outcomes = follow_job(client, main, job, quick(&events));

        QCOMPARE(outcomes.size(), size_t{2});
        QCOMPARE(outcomes[0].status, store::RunStatus::Finished);
        QCOMPARE(outcomes[0].evals.size(), size_t{1});
        QCOMPARE(outcomes[1].status, store::RunStatus::Interrupted);
        for (const std::string part :
             {"TIMEOUT on node8 after 01:00:02 (TimeLimit)", "cancelled during train"})
            QVERIFY2(outcomes[1].message.find(part) != std::string::npos, outcomes[1].message.c_str());
        const auto d1 = main.get_run(job.tasks[1].run_uuid);
        QCOMPARE(d1.summary.status, store::RunStatus::Interrupted);
        QCOMPARE(d1.tags.at("slurm.node"), std::string("node8"));
        QCOMPARE(d1.tags.at("slurm.state"), std::string("TIMEOUT"));
        QCOMPARE(d1.tags.at("slurm.elapsed_s"), std::string("3602"));
        QCOMPARE(main.metric_history(job.tasks[0].run_uuid, "t_loss").size(), size_t{6});

        // Events as a local run emits them: each update once, in order; validations with "best".
        using Kind = run::RunnerEvent::Kind;
        QCOMPARE(count_events(events, Kind::RunStarted, 0), 1);
        QCOMPARE(count_events(events, Kind::Train, 0, TrainEventKind::Update), 6);
        QCOMPARE(count_events(events, Kind::Train, 0, TrainEventKind::Validation), 2);
        QCOMPARE(count_events(events, Kind::Eval, 0), 1);
        QCOMPARE(count_events(events, Kind::RunFinished, 1), 1);
        int64_t last = 0; // updates are steps 1..6
        for (const auto& e : events) {
            if (e.kind != Kind::Train || e.run_index != 0 || e.train.kind != TrainEventKind::Update) continue;
            QCOMPARE(e.train.update_step, last + 1);
            last = e.train.update_step;
        }
        QCOMPARE(last, int64_t{6});
        for (const auto& e : events)
            if (e.kind == Kind::Train && e.train.kind == TrainEventKind::Validation &&
                e.train.update_step == 6)
                QVERIFY(e.train.is_best);

        // Resubmitted: the run continues from a shard seeded with its record.
        slurm.calls.clear();
        slurm.answer = [](const std::vector<std::string>&) { return printed("777\n"); };
        SlurmSubmitOptions options;
        options.job_dir = root + "/resume";
        options.rilq_program = "/usr/bin/rilq";
        const SlurmJob again = submit_resume(client, main, {job.tasks[1].run_uuid.substr(0, 8)}, options);
        QCOMPARE(again.job_id, std::string("777"));
        QCOMPARE(again.tasks.size(), size_t{1});
        QVERIFY(again.tasks[0].resume);
        QCOMPARE(again.working_dir, root); // where it was first submitted from
        const std::string script = read_text(root + "/resume/job.sh");
        QVERIFY2(script.find("exec /usr/bin/rilq run --point \"$SLURM_ARRAY_TASK_ID\" --job " + root +
                             "/resume/job.json\n") != std::string::npos,
                 script.c_str());
        const auto seeded = store::open_shard(job.tasks[1].shard);
        QCOMPARE(seeded->query_text("SELECT status FROM runs"), std::string("INTERRUPTED"));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 submit_resume(client, main, {job.tasks[0].run_uuid}, options)); // FINISHED
    }

    void cancelScancelsAndEndsTheRunsKilled() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        const SlurmJob job = recorded_job(main, root);
        FakeTask task0(root, job.tasks[0]);
        CancelToken cancel;
        FakeSlurm slurm;
        bool cancelled = false;
        slurm.answer = [&](const std::vector<std::string>& argv) {
            if (argv.front() == "scancel") {
                cancelled = true;
                return printed("");
            }
            if (!cancelled) {
                task0.store->start_run(task0.uuid);
                task0.publish();
                cancel.cancel(); // Ctrl-C while task 0 runs and task 1 waits
                return printed("0|RUNNING|node7|0:05|None\n1|PENDING||0:00|Priority\n");
            }
            task0.store->end_run(task0.uuid, store::RunStatus::Killed, "cancelled during train");
            task0.publish();
            return printed("0|CANCELLED|node7|0:06|None\n1|CANCELLED||0:00|None\n");
        };
        SlurmClient client(slurm);
        std::vector<run::RunnerEvent> events;
        SlurmFollowOptions options = quick(&events);
        options.cancel = &cancel;
        const auto outcomes = follow_job(client, main, job, options);
        QCOMPARE(slurm.count("scancel"), 1);
        QCOMPARE(outcomes[0].status, store::RunStatus::Killed);
        QCOMPARE(outcomes[0].message, std::string("cancelled during train"));
        QCOMPARE(outcomes[1].status, store::RunStatus::Killed);
        QVERIFY(outcomes[1].message.find("cancelled before start") == 0);
        QCOMPARE(count_events(events, run::RunnerEvent::Kind::RunStarted, 1), 0); // it never ran
    }

    void chainedFinetuneCurvesStreamWhileTheTaskRuns() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        const SlurmJob job = recorded_job(main, root);
        FakeTask task0(root, job.tasks[0]);
        const std::string& uuid = task0.uuid;
        // The run's document, as submission records it: RILQ at 2 micro-steps per update, the
        // fine-tuning stage at its recipe's settings.
        run::RunConfig config = two_ranks(root).runs[0];
        config.train.gradient_accumulation_steps = 2;
        config.train.approx_total_steps = 8;
        const std::string document = run::run_document_text(config);
        for (store::RunStore* s : {&main, task0.store.get()})
            store::Statement(s->database(), "UPDATE runs SET config_json = ?1 WHERE run_uuid = ?2")
                .bind_all(document, uuid)
                .run();
        const auto ppl = [](const char* stage, double value) {
            return store::EvalResult{"heldout", stage, "f", "t", 64, 2, 128, value, 0};
        };
        const auto sft_update = [&](int64_t step) {
            task0.store->log_metrics(uuid, step,
                                     {{"sft.t_loss", 2.0 - 0.1 * step},
                                      {"sft.lr", 2e-4},
                                      {"sft.tokens_per_s", 100.0 + step},
                                      {"sft.grad_norm", 0.5 * step}});
        };
        std::vector<run::RunnerEvent> events;
        // Events already emitted when each poll came: what the front ends had drawn by then.
        std::vector<size_t> sft_updates_seen;
        const auto count_sft_updates = [&] {
            size_t n = 0;
            for (const auto& e : events)
                n += e.kind == run::RunnerEvent::Kind::Train && e.stage == run::RunStage::Finetune &&
                     e.train.kind == TrainEventKind::Update;
            return n;
        };
        FakeSlurm slurm;
        int poll = 0;
        slurm.answer = [&](const std::vector<std::string>& argv) {
            if (argv.front() != "squeue") return printed("", 1, "unexpected " + argv.front());
            sft_updates_seen.push_back(count_sft_updates());
            ++poll;
            if (poll == 1) { // quantized, RILQ trained (2 updates), compensated
                task0.store->start_run(uuid);
                task0.store->log_eval_result(uuid, ppl("fp", 6.5));
                task0.store->log_eval_result(uuid, ppl("quantized", 450.0));
                task0.store->log_metrics(uuid, 0, {{"v_loss", 3.0}, {"v_a_loss", 2.0}, {"es_counter", 0}});
                task0.store->log_metrics(uuid, 1, {{"t_loss", 2.9}, {"t_a_loss", 2.8}, {"lr", 1e-3}});
                task0.store->log_metrics(uuid, 2, {{"t_loss", 2.7}, {"t_a_loss", 2.6}, {"lr", 1e-3}});
                task0.store->log_metrics(uuid, 2, {{"v_loss", 2.0}, {"v_a_loss", 1.5}, {"es_counter", 0}});
                task0.store->log_eval_result(uuid, ppl("compensated", 170.0));
            } else if (poll == 2) { // the SFT stage begins: its validation 0 and 2 updates
                task0.store->log_metrics(uuid, 0, {{"sft.v_loss", 2.6}});
                sft_update(1);
                sft_update(2);
            } else if (poll == 3) { // 2 more updates, a better validation, the fine-tuned PPL
                sft_update(3);
                sft_update(4);
                task0.store->log_metrics(uuid, 4, {{"sft.v_loss", 2.5}, {"sft.final_eval_loss", 2.5}});
                task0.store->log_eval_result(uuid, ppl("finetuned", 160.0));
                task0.store->end_run(uuid, store::RunStatus::Finished);
            }
            task0.publish();
            if (poll <= 3) return printed("0|RUNNING|node7|0:05|None\n1|PENDING||0:00|Priority\n");
            return printed("0|COMPLETED|node7|0:10|None\n1|CANCELLED||0:00|None\n");
        };
        SlurmClient client(slurm);
        follow_job(client, main, job, quick(&events));

        // Live: after the poll that imported them, before the task ended.
        QCOMPARE(sft_updates_seen.size(), size_t{4});
        QCOMPARE(sft_updates_seen[1], size_t{0}); // poll 1: RILQ only
        QCOMPARE(sft_updates_seen[2], size_t{2});
        QCOMPARE(sft_updates_seen[3], size_t{4});

        // In the local run's order: fp and quantized PPL, RILQ's curves, the compensated PPL, the
        // fine-tuning stage's curves, the fine-tuned PPL.
        using Kind = run::RunnerEvent::Kind;
        std::vector<std::string> order;
        for (const auto& e : events) {
            if (e.run_index != 0) continue;
            if (e.kind == Kind::Eval) order.push_back("ppl " + e.eval.stage);
            if (e.kind == Kind::Stage) order.push_back(std::string("stage ") + run::to_string(e.stage));
            if (e.kind == Kind::Train)
                order.push_back(std::string(e.stage == run::RunStage::Finetune ? "sft " : "rilq ") +
                                to_string(e.train.kind) + " " + std::to_string(e.train.update_step));
            if (e.kind == Kind::RunFinished) order.push_back("finished");
        }
        const std::vector<std::string> expected = {
            "ppl fp",        "ppl quantized",     "stage train",     "rilq validation 0", "rilq update 1",
            "rilq update 2", "rilq validation 2", "ppl compensated", "stage finetune",    "sft validation 0",
            "sft update 1",  "sft update 2",      "sft update 3",    "sft update 4",      "sft validation 4",
            "ppl finetuned", "finished"};
        QCOMPARE(order, expected);

        // Each Finetune event, logged as the runner logs it, gives back exactly the shard's metrics
        // (so the GUI's SftTrain / SftValidation curves and the store agree); RILQ's stay RILQ's.
        std::map<std::string, std::vector<store::MetricPoint>> streamed;
        for (const auto& e : events) {
            if (e.run_index != 0 || e.kind != Kind::Train) continue;
            const auto metrics = e.stage == run::RunStage::Finetune
                                     ? finetune_event_metrics(e.train, run::kFinetuneMetricPrefix)
                                     : train_event_metrics(e.train);
            for (const auto& [key, value] : metrics)
                streamed[key].push_back({e.train.update_step, value});
        }
        for (const char* key : {"sft.t_loss", "sft.lr", "sft.tokens_per_s", "sft.grad_norm", "sft.v_loss",
                                "t_loss", "t_a_loss", "v_loss", "v_a_loss"}) {
            const auto stored = main.metric_history(uuid, key);
            QVERIFY2(!stored.empty(), key);
            QCOMPARE(streamed[key].size(), stored.size());
            for (size_t i = 0; i < stored.size(); ++i) {
                QCOMPARE(streamed[key][i].step, stored[i].step);
                QCOMPARE(streamed[key][i].value, stored[i].value);
            }
        }
        // Micro-steps and totals as the stage's trainer counts them (what the progress bars show).
        for (const auto& e : events) {
            if (e.run_index != 0 || e.kind != Kind::Train) continue;
            const TrainConfig& settings =
                e.stage == run::RunStage::Finetune ? config.finetune.train : config.train;
            QCOMPARE(e.train.micro_step, e.train.update_step * settings.gradient_accumulation_steps);
            QCOMPARE(e.train.total_micro_steps, settings.approx_total_steps);
        }
        QCOMPARE(config.finetune.train.gradient_accumulation_steps, int64_t{1}); // the recipe's, not RILQ's 2

        // "Best" per stage, as each trainer says it: SFT's validation 4 (2.5) is its best although
        // RILQ's best validation (2.0) was lower.
        for (const auto& e : events)
            if (e.run_index == 0 && e.kind == Kind::Train && e.train.kind == TrainEventKind::Validation)
                QCOMPARE(e.train.is_best, e.train.update_step > 0);
    }

    void failedPreparationAndForgottenTasks() {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        store::RunStore main(root + "/main.sqlite");
        SlurmJob job = recorded_job(main, root);
        job.preparation_job_id = "98";
        job.preparations.push_back({0, root + "/job/prepared/0", {0}});
        job.tasks[0].preparation = 0;
        FakeTask task1(root, job.tasks[1]);
        FakeSlurm slurm;
        int poll = 0;
        slurm.answer = [&](const std::vector<std::string>& argv) {
            const bool preparation = std::find(argv.begin(), argv.end(), "--jobs=98") != argv.end();
            if (argv.front() == "sacct") return printed("", 1, "Slurm accounting storage is disabled\n");
            if (preparation) return printed("0|FAILED|node7|0:03|NonZeroExitCode\n");
            if (++poll == 1) {
                task1.store->start_run(task1.uuid);
                task1.publish();
                return printed("0|CANCELLED||0:00|DependencyNeverSatisfied\n1|RUNNING|node8|0:02|None\n");
            }
            // The controller forgot the job (MinJobAge passed) and nothing keeps accounting.
            return printed("", 1, "slurm_load_jobs error: Invalid job id specified\n");
        };
        SlurmClient client(slurm);
        std::vector<run::RunnerEvent> events;
        const auto outcomes = follow_job(client, main, job, quick(&events));
        QCOMPARE(outcomes[0].status, store::RunStatus::Failed);
        QVERIFY2(outcomes[0].message.find(root + "/job/logs/98_0.log") != std::string::npos,
                 outcomes[0].message.c_str());
        QCOMPARE(outcomes[1].status, store::RunStatus::Interrupted);
        QVERIFY2(outcomes[1].message.find("no longer reports") != std::string::npos,
                 outcomes[1].message.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestSlurmBackend)
#include "test_slurm_backend.moc"
