// The training loop: it lowers the validation loss, follows the official validation schedule,
// stops early on a scripted loss sequence and restores the best adapters, honours cancel,
// resumes from a checkpoint with identical losses, fails cleanly on NaN, and runs every scope.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/rilq/compensation.h"
#include "core/rilq/early_stopping.h"
#include "core/rilq/model_objective.h"
#include "core/rilq/trainer.h"
#include "core/util/config_fields.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// A teacher, its 2-bit student and calibration windows: everything a run needs.
struct Fixture {
    LlamaModel teacher = test::structured_random_model(test::tiny_llama_config(), 31);
    LlamaModel student = test::fake_quantized_copy(teacher);
    torch::Tensor train_ids = test::sample_windows(teacher, 16, 32, 1);
    torch::Tensor val_ids = test::sample_windows(teacher, 8, 32, 2);
    CachedTargets targets;

    explicit Fixture(const TrainConfig& c) { targets = cache_teacher_targets(teacher, train_ids, val_ids, c); }
};

TrainConfig small_config() {
    TrainConfig c;
    c.lora.r = 4;
    c.lora.alpha = 8.0;
    c.approx_lr = 1e-3;
    c.approx_batch_size = 4;
    c.gradient_accumulation_steps = 2;
    c.approx_total_steps = 64;
    c.approx_eval_steps = 8;
    c.approx_early_stop = false;
    return c;
}

// One update per micro-step and a validation after each: for scripted validation sequences.
TrainConfig scripted_config(int64_t updates) {
    TrainConfig c = small_config();
    c.gradient_accumulation_steps = 1;
    c.approx_eval_steps = 1;
    c.approx_total_steps = updates;
    return c;
}

struct Recorder {
    std::vector<TrainEvent> events;
    std::vector<TrainEvent> of(TrainEventKind kind) const {
        std::vector<TrainEvent> out;
        for (const auto& e : events)
            if (e.kind == kind) out.push_back(e);
        return out;
    }
};

double max_state_diff(const AdapterState& a, const AdapterState& b) {
    double d = 0.0;
    for (const auto& [name, t] : a) d = std::max(d, test::max_abs_diff(t, b.at(name)));
    return d;
}

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void trainingLowersValidationLoss() {
        const auto config = small_config();
        Fixture f(config);
        Recorder rec;
        TrainerOptions opts;
        opts.on_event = [&](const TrainEvent& e) { rec.events.push_back(e); };
        const auto r = train_on_targets(f.student, f.targets, f.train_ids, f.val_ids, config, opts);
        for (const auto& e : rec.of(TrainEventKind::Validation))
            qInfo("update %lld  t_a_loss %.5f t_gt_loss %.5f  v_a_loss %.5f  v_gt_loss %.5f  v_loss %.5f", static_cast<long long>(e.update_step),
                  e.t_a_loss, e.t_gt_loss, e.v_a_loss, e.v_gt_loss, e.v_loss);
        QCOMPARE(QString::fromStdString(to_string(r.train.status)), QStringLiteral("finished"));
        QCOMPARE(r.train.micro_steps, int64_t{64});
        QCOMPARE(r.train.updates, int64_t{32});
        // Official schedule: validation at updates 0, 8, 16, 24, 32 (micro-steps 0, 16, ...).
        const auto vals = rec.of(TrainEventKind::Validation);
        // The teacher's samples leave little to learn in L_GT (a random model is near its entropy
        // floor), so the clear drop is in the model-level part; the total must drop too.
        QVERIFY2(r.train.best_v_loss < r.train.initial_v_loss - 0.01,
                 (std::to_string(r.train.best_v_loss) + " vs " + std::to_string(r.train.initial_v_loss)).c_str());
        QVERIFY2(rec.events.back().v_a_loss < 0.8 * vals[0].v_a_loss,
                 (std::to_string(rec.events.back().v_a_loss) + " vs " + std::to_string(vals[0].v_a_loss)).c_str());
        QVERIFY(r.train.best_restored);
        QCOMPARE(static_cast<int>(vals.size()), 5);
        for (size_t i = 0; i < vals.size(); ++i) {
            QCOMPARE(vals[i].update_step, static_cast<int64_t>(8 * i));
            QCOMPARE(vals[i].micro_step, static_cast<int64_t>(16 * i));
        }
        QVERIFY(!vals[0].is_best);
        QVERIFY(std::isinf(vals[0].best_v_loss));
        QCOMPARE(static_cast<int>(rec.of(TrainEventKind::Update).size()), 32);
        QVERIFY(rec.events.back().kind == TrainEventKind::Finished);
        QCOMPARE(rec.events.back().v_loss, r.train.best_v_loss);
        // Both loss parts are logged, and the total is their 0.5 / 0.5 sum.
        for (const auto& v : vals) QVERIFY(std::abs(v.v_loss - 0.5 * v.v_a_loss - 0.5 * v.v_gt_loss) < 1e-9);
        const auto& u = rec.of(TrainEventKind::Update).back();
        QVERIFY(std::isfinite(u.t_a_loss) && std::isfinite(u.t_gt_loss));
        QVERIFY(std::abs(u.t_loss - 0.5 * u.t_a_loss - 0.5 * u.t_gt_loss) < 1e-6);
        QVERIFY(u.tokens_per_s > 0.0);
        QCOMPARE(u.lr, 1e-3);
        // The restored adapters reproduce the best validation loss.
        ModelObjective check(f.student, f.targets.train, f.targets.val, {0.5, 0.5});
        torch::NoGradGuard no_grad;
        double a = 0.0, gt = 0.0;
        for (int64_t b = 0; b < 8; b += 4) {
            const auto p = check.loss(DataSplit::Validation, f.val_ids.slice(0, b, b + 4), b);
            a += p.a_loss.item<double>() / 2.0;
            gt += p.gt_loss.item<double>() / 2.0;
        }
        QVERIFY(std::abs(0.5 * a + 0.5 * gt - r.train.best_v_loss) < 1e-6);
    }

    void earlyStoppingRules() {
        EarlyStopping es(true, 3, 0.0);
        QVERIFY(es.observe(2.0).improved);
        QVERIFY(!es.observe(2.0).improved);   // equal is no improvement and counts with delta 0
        QCOMPARE(es.counter(), int64_t{1});
        QVERIFY(es.observe(1.0).improved);
        QCOMPARE(es.counter(), int64_t{0});
        es.observe(std::nan(""));
        es.observe(1.5);
        QVERIFY(es.observe(1.2).stop);
        // delta: a non-improvement within delta of the best does not count (official rule)
        EarlyStopping d(true, 2, 0.5);
        d.observe(1.0);
        d.observe(1.3);
        QCOMPARE(d.counter(), int64_t{0});
        d.observe(1.6);
        QCOMPARE(d.counter(), int64_t{1});
        EarlyStopping off(false, 1, 0.0);
        off.observe(1.0);
        QVERIFY(!off.observe(2.0).stop);
    }

    void earlyStopOnScriptedSequence() {
        TrainConfig config = scripted_config(100);
        config.approx_early_stop = true;
        config.approx_es_patience = 3;
        Fixture f(config);
        // update: 0 is the lowest of all and must still never become the best.
        const std::vector<double> script = {0.1, 3.0, 2.0, 2.5, 2.0, 1.5, 1.6, 1.7, 1.8, 0.5};
        std::map<int64_t, AdapterState> seen;
        LoraSet* adapters = nullptr;
        TrainerOptions opts;
        Recorder rec;
        opts.on_event = [&](const TrainEvent& e) { rec.events.push_back(e); };
        opts.validate_override = [&](int64_t update) {
            seen[update] = adapters->snapshot();
            return ValidationLosses{script.at(static_cast<size_t>(update)), 0.0, script.at(static_cast<size_t>(update))};
        };
        auto set = attach_lora(f.student, config.lora);
        adapters = &set;
        ModelObjective objective(f.student, f.targets.train, f.targets.val, {0.5, 0.5});
        Trainer trainer(config, set, objective, f.train_ids, f.val_ids, opts);
        const auto r = trainer.run();
        QCOMPARE(QString::fromStdString(to_string(r.status)), QStringLiteral("early_stopped"));
        QCOMPARE(r.updates, int64_t{8});
        QCOMPARE(r.micro_steps, int64_t{8});
        QCOMPARE(r.best_update_step, int64_t{5});
        QCOMPARE(r.best_v_loss, 1.5);
        QCOMPARE(r.validations, int64_t{9});
        const auto vals = rec.of(TrainEventKind::Validation);
        const std::vector<int64_t> counters = {0, 0, 0, 1, 2, 0, 1, 2, 3};
        const std::vector<bool> best = {false, true, true, false, false, true, false, false, false};
        QCOMPARE(static_cast<int>(vals.size()), 9);
        for (size_t i = 0; i < vals.size(); ++i) {
            QCOMPARE(vals[i].es_counter, counters[i]);
            QCOMPARE(vals[i].is_best, static_cast<bool>(best[i]));
        }
        QCOMPARE(static_cast<int>(rec.of(TrainEventKind::EarlyStop).size()), 1);
        QVERIFY(rec.events.back().kind == TrainEventKind::Finished);
        QCOMPARE(rec.events.back().best_update_step, int64_t{5});
        // Best restored: exactly the adapters of update 5, not the last ones.
        QVERIFY(r.best_restored);
        QCOMPARE(max_state_diff(set.snapshot(), seen.at(5)), 0.0);
        QVERIFY(max_state_diff(seen.at(8), seen.at(5)) > 1e-4);
        for (const auto& p : set.parameters()) QVERIFY(!p.grad().defined());
    }

    // restore_best off (IR-QLoRA's HF Trainer): the same scripted sequence ends with the last
    // adapters, not the best validation's.
    void restoreBestOffKeepsTheLastAdapters() {
        TrainConfig config = scripted_config(6);
        config.restore_best = false;
        Fixture f(config);
        const std::vector<double> script = {9.0, 3.0, 1.0, 2.0, 2.5, 2.2, 2.4};
        std::map<int64_t, AdapterState> seen;
        LoraSet* adapters = nullptr;
        TrainerOptions opts;
        opts.validate_override = [&](int64_t update) {
            seen[update] = adapters->snapshot();
            return ValidationLosses{script.at(static_cast<size_t>(update)), 0.0,
                                    script.at(static_cast<size_t>(update))};
        };
        auto set = attach_lora(f.student, config.lora);
        adapters = &set;
        ModelObjective objective(f.student, f.targets.train, f.targets.val, {0.5, 0.5});
        const auto r = Trainer(config, set, objective, f.train_ids, f.val_ids, opts).run();
        QCOMPARE(QString::fromStdString(to_string(r.status)), QStringLiteral("finished"));
        QCOMPARE(r.best_update_step, int64_t{2});
        QVERIFY(!r.best_restored);
        QVERIFY2(r.message.find("kept the last adapters") != std::string::npos, r.message.c_str());
        QCOMPARE(max_state_diff(set.snapshot(), seen.at(6)), 0.0);
        QVERIFY(max_state_diff(seen.at(6), seen.at(2)) > 1e-4);
    }

    // max_grad_norm clips before every update and reports the norm it found; clipping changes
    // Adam's trajectory from the second update on (per-update factors differ).
    void gradientClippingReportsTheNorm() {
        TrainConfig config = small_config();
        config.approx_total_steps = 16;
        config.approx_eval_steps = 100;
        Fixture f(config);
        auto run = [&](double max_norm, std::vector<double>& norms) {
            TrainConfig c = config;
            c.max_grad_norm = max_norm;
            auto student = test::fake_quantized_copy(f.teacher);
            TrainerOptions opts;
            opts.on_event = [&](const TrainEvent& e) {
                if (e.kind == TrainEventKind::Update) norms.push_back(e.grad_norm);
            };
            return train_on_targets(student, f.targets, f.train_ids, f.val_ids, c, opts).adapters.snapshot();
        };
        std::vector<double> off, on;
        const auto plain = run(0.0, off);
        const auto clipped = run(1e-3, on);
        QCOMPARE(on.size(), size_t(8));
        for (const double n : off)
            QVERIFY(std::isnan(n));
        for (const double n : on)
            QVERIFY(std::isfinite(n) && n > 1e-3);
        QVERIFY(max_state_diff(plain, clipped) > 1e-5);
        TrainConfig bad = small_config();
        bad.max_grad_norm = -1.0;
        QVERIFY_THROWS_EXCEPTION(Error, bad.validate());
    }

    void cancelEndsKilledWithBestRestored() {
        TrainConfig config = small_config();
        config.approx_eval_steps = 2;
        Fixture f(config);
        CancelToken cancel;
        std::map<int64_t, AdapterState> seen;
        LoraSet* adapters = nullptr;
        TrainerOptions opts;
        opts.cancel = &cancel;
        opts.validate_override = [&](int64_t update) {
            seen[update] = adapters->snapshot();
            return ValidationLosses{1.0, 1.0, update == 2 ? 1.0 : 2.0};
        };
        opts.on_event = [&](const TrainEvent& e) {
            if (e.kind == TrainEventKind::Update && e.update_step == 3) cancel.cancel();
        };
        auto set = attach_lora(f.student, config.lora);
        adapters = &set;
        ModelObjective objective(f.student, f.targets.train, f.targets.val, {0.5, 0.5});
        const auto r = Trainer(config, set, objective, f.train_ids, f.val_ids, opts).run();
        QCOMPARE(QString::fromStdString(to_string(r.status)), QStringLiteral("killed"));
        QCOMPARE(r.micro_steps, int64_t{6});   // stopped before the 7th micro-step
        QCOMPARE(r.best_update_step, int64_t{2});
        QVERIFY(r.best_restored);
        QCOMPARE(max_state_diff(set.snapshot(), seen.at(2)), 0.0);
    }

    void resumeContinuesIdentically_data() {
        QTest::addColumn<double>("dropout");
        QTest::newRow("dropout 0") << 0.0;
        QTest::newRow("dropout 0.1") << 0.1;
    }

    void resumeContinuesIdentically() {
        QFETCH(double, dropout);
        TrainConfig config = small_config();
        config.lora.dropout = dropout;
        config.approx_total_steps = 48;
        config.approx_eval_steps = 4;
        Fixture f(config);
        const auto dir = test::make_temp_dir("resume");
        const auto ckpt = (fs::path(dir) / "checkpoint").string();

        // A: uninterrupted.
        auto student_a = test::fake_quantized_copy(f.teacher);
        Recorder a;
        TrainerOptions oa;
        oa.on_event = [&](const TrainEvent& e) { a.events.push_back(e); };
        const auto ra = train_on_targets(student_a, f.targets, f.train_ids, f.val_ids, config, oa);
        QCOMPARE(QString::fromStdString(to_string(ra.train.status)), QStringLiteral("finished"));

        // B: killed right after the validation (and checkpoint) at update 8.
        auto student_b = test::fake_quantized_copy(f.teacher);
        CancelToken cancel;
        TrainerOptions ob;
        ob.checkpoint_dir = ckpt;
        ob.cancel = &cancel;
        ob.on_event = [&](const TrainEvent& e) {
            if (e.kind == TrainEventKind::Validation && e.update_step == 8) cancel.cancel();
        };
        const auto rb = train_on_targets(student_b, f.targets, f.train_ids, f.val_ids, config, ob);
        QCOMPARE(QString::fromStdString(to_string(rb.train.status)), QStringLiteral("killed"));
        QCOMPARE(rb.train.micro_steps, int64_t{16});
        QVERIFY(fs::exists(fs::path(ckpt) / "optimizer.pt"));
        QVERIFY(fs::exists(fs::path(ckpt) / "adapters.pt"));
        QVERIFY(fs::exists(fs::path(ckpt) / "checkpoint.json"));

        // C: a fresh process-like start from the checkpoint.
        auto student_c = test::fake_quantized_copy(f.teacher);
        Recorder c;
        TrainerOptions oc;
        oc.resume_from = ckpt;
        oc.on_event = [&](const TrainEvent& e) { c.events.push_back(e); };
        const auto rc = train_on_targets(student_c, f.targets, f.train_ids, f.val_ids, config, oc);
        QCOMPARE(QString::fromStdString(to_string(rc.train.status)), QStringLiteral("finished"));
        QCOMPARE(rc.train.micro_steps, int64_t{48});
        const auto ua = a.of(TrainEventKind::Update), uc = c.of(TrainEventKind::Update);
        QCOMPARE(static_cast<int>(uc.size()), 16);   // updates 9..24
        QCOMPARE(uc.front().update_step, int64_t{9});
        for (size_t i = 0; i < uc.size(); ++i) {
            const auto& ref = ua[static_cast<size_t>(uc[i].update_step - 1)];
            QCOMPARE(ref.update_step, uc[i].update_step);
            QVERIFY2(std::abs(ref.t_loss - uc[i].t_loss) <= 1e-6 * std::abs(ref.t_loss),
                     (std::to_string(ref.t_loss) + " vs " + std::to_string(uc[i].t_loss)).c_str());
        }
        QCOMPARE(rc.train.best_update_step, ra.train.best_update_step);
        QVERIFY(std::abs(rc.train.best_v_loss - ra.train.best_v_loss) <= 1e-6 * ra.train.best_v_loss);
        QVERIFY(max_state_diff(rc.adapters.snapshot(), ra.adapters.snapshot()) < 1e-5);
        // No validation before training on a resume.
        QCOMPARE(c.of(TrainEventKind::Validation).front().update_step, int64_t{12});

        // A changed config is refused with the field named.
        TrainConfig changed = config;
        changed.approx_lr = 5e-3;
        auto student_d = test::fake_quantized_copy(f.teacher);
        const auto rd = train_on_targets(student_d, f.targets, f.train_ids, f.val_ids, changed, oc);
        QCOMPARE(QString::fromStdString(to_string(rd.train.status)), QStringLiteral("failed"));
        QVERIFY2(rd.train.message.find("approx_lr") != std::string::npos, rd.train.message.c_str());
        fs::remove_all(dir);
    }

    void nonFiniteLossFailsWithMessage() {
        TrainConfig config = small_config();
        config.approx_eval_steps = 2;
        Fixture f(config);
        Recorder rec;
        TrainerOptions opts;
        opts.on_event = [&](const TrainEvent& e) {
            rec.events.push_back(e);
            if (e.kind == TrainEventKind::Update && e.update_step == 3) {
                // A corrupted base weight: the next forward produces NaN.
                f.student.linear("layers.1.mlp.down_proj").weight.index_put_({0, 0}, std::nan(""));
            }
        };
        const auto r = train_on_targets(f.student, f.targets, f.train_ids, f.val_ids, config, opts);
        QCOMPARE(QString::fromStdString(to_string(r.train.status)), QStringLiteral("failed"));
        QVERIFY2(r.train.message.find("non-finite training loss at micro-step 7") != std::string::npos,
                 r.train.message.c_str());
        QCOMPARE(r.train.micro_steps, int64_t{6});
        QCOMPARE(static_cast<int>(rec.of(TrainEventKind::Update).size()), 3);   // what was logged stays
        QVERIFY(rec.events.back().kind == TrainEventKind::Finished);
        QVERIFY(rec.events.back().status == TrainStatus::Failed);
        QVERIFY(r.train.best_restored);   // update 2's adapters
        QCOMPARE(r.train.best_update_step, int64_t{2});
    }

    void rankZeroValidatesOnly() {
        TrainConfig config = small_config();
        config.lora.r = 0;
        Fixture f(config);
        Recorder rec;
        TrainerOptions opts;
        opts.on_event = [&](const TrainEvent& e) { rec.events.push_back(e); };
        const auto r = train_on_targets(f.student, f.targets, f.train_ids, f.val_ids, config, opts);
        QCOMPARE(QString::fromStdString(to_string(r.train.status)), QStringLiteral("finished"));
        QVERIFY(r.adapters.empty());
        QCOMPARE(r.train.validations, int64_t{1});
        QCOMPARE(r.train.micro_steps, int64_t{0});
        QVERIFY(std::isfinite(r.train.initial_v_loss));
        QCOMPARE(static_cast<int>(rec.events.size()), 2);   // validation at update 0, finished
    }

    void scopesThroughRunCompensation() {
        for (const auto scope : {Scope::Model, Scope::WeightSvd, Scope::Linear, Scope::Layer}) {
            TrainConfig config = small_config();
            config.scope = scope;
            config.approx_total_steps = 32;
            Fixture f(config);
            auto teacher = std::make_shared<LlamaModel>(f.teacher.clone());
            std::weak_ptr<LlamaModel> watch = teacher;
            bool teacher_alive_in_training = true;
            TrainerOptions opts;
            opts.on_event = [&](const TrainEvent&) { teacher_alive_in_training = !watch.expired(); };
            const auto r = run_compensation(std::move(teacher), f.student, f.train_ids, f.val_ids, config, opts);
            const std::string name = to_string(scope);
            QVERIFY2(r.train.status == TrainStatus::Finished, (name + ": " + r.train.message).c_str());
            QVERIFY2(r.train.best_v_loss < r.train.initial_v_loss || scope == Scope::WeightSvd, name.c_str());
            if (scope == Scope::Model || scope == Scope::WeightSvd) QVERIFY2(!teacher_alive_in_training, name.c_str());
            else QVERIFY2(teacher_alive_in_training, name.c_str());
            if (scope == Scope::WeightSvd) {
                QCOMPARE(r.train.micro_steps, int64_t{0});
                QVERIFY(r.adapters.adapter("layers.0.self_attn.q_proj").B().abs().sum().item<double>() > 0.0);
            }
            detach_lora(f.student, const_cast<LoraSet&>(r.adapters));
        }
    }

    void logitTargetsFromMappedFileTrainTheSame() {
        TrainConfig config = small_config();
        config.a_type = TargetType::Logit;
        config.approx_total_steps = 16;
        Fixture in_memory(config);
        config.target_memory_budget_bytes = 0;   // force the mapped file
        Fixture mapped(config);
        QVERIFY(mapped.targets.train.storage() == TargetStorage::MappedFile);
        QVERIFY(in_memory.targets.train.storage() == TargetStorage::Memory);
        const auto a = train_on_targets(in_memory.student, in_memory.targets, in_memory.train_ids, in_memory.val_ids, config);
        const auto b = train_on_targets(mapped.student, mapped.targets, mapped.train_ids, mapped.val_ids, config);
        QVERIFY(a.train.status == TrainStatus::Finished);
        QCOMPARE(b.train.best_v_loss, a.train.best_v_loss);
        QVERIFY(a.train.best_v_loss < a.train.initial_v_loss);
    }

    void configValidationNamesTheField() {
        TrainConfig c;
        c.gradient_accumulation_steps = 0;
        try {
            c.validate();
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("gradient_accumulation_steps") != std::string::npos);
        }
        // The checkpoint's record: every field under its experiment key, read back identically.
        const auto j = train_config_json(small_config());
        TrainConfig back;
        QVERIFY(config::read_fields(train_config_fields(), j, back, "$").empty());
        QVERIFY(train_config_json(back) == j);
        QCOMPARE(j["a_type"].get<std::string>(), std::string("hid"));
        QCOMPARE(j["lora_r"].get<int64_t>(), int64_t{4});
        QCOMPARE(j["lora_init"].get<std::string>(), std::string("gaussian"));
        const auto problems =
            config::read_fields(train_config_fields(), nlohmann::json{{"scope", "global"}}, back, "$");
        QCOMPARE(problems.size(), size_t{1});
        QCOMPARE(problems[0].text(),
                 std::string(
                     R"($.scope: expected one of "model", "weight-svd", "linear", "layer", found "global")"));
        QVERIFY(!must_match_on_resume("approx_total_steps"));
        QVERIFY(must_match_on_resume("approx_lr"));
        TrainConfig cosine = small_config();
        cosine.lr_schedule = LrSchedule::Cosine;
        QCOMPARE(learning_rate_at(cosine, 0), 1e-3);
        QVERIFY(std::abs(learning_rate_at(cosine, 16) - 0.5e-3) < 1e-12);   // halfway through 32 updates
        QVERIFY(learning_rate_at(cosine, 32) < 1e-12);
    }
};

RILQ_TEST_APPLESS_MAIN(TestTrainer)
#include "test_trainer.moc"
