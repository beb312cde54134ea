// IR-QLoRA's fine-tuning step on the real stories260K model against
// tests/reference/sft_reference.py (PyTorch, HF semantics): from the same mid-training LoRA r 2 +
// IEC state, the trainer's 4 updates (micro-batch 1 x accumulation 2, length-grouped order,
// clip_grad_norm_ 0.3, AdamW lr 2e-4) give the reference's train losses, gradient norms, eval
// losses (right-padded batches, row-weighted mean, the [PAD] class) and final adapters.
// Tolerances: losses 2e-5 absolute, gradient norms 1e-4 relative; adapters: the update (after -
// initial) within 1e-3 relative (Frobenius, all tensors) and every element within lr / 4 = 5e-5.
// Adam divides each gradient element by its own magnitude, so elements whose gradient is at the
// fp32 summation-noise level move by amounts the summation order decides: adding N(0, 1e-8) to
// the reference's own gradients moves its result by 2.5e-6 max / 4.5e-5 relative, N(0, 1e-7) by
// 6e-5 / 1e-3 (measured with the reference script). Also: continuing from a PEFT adapter with IEC
// gates added keeps the model's function, and the final adapters save as a PEFT adapter.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include "tests/support/test_support.h"

#include "core/finetune/finetune.h"
#include "core/finetune/sft_batch.h"
#include "core/finetune/sft_loss.h"
#include "core/finetune/sft_objective.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

using namespace rilq;
using nlohmann::json;

namespace {

const json& step_reference() {
    static const json j = json::parse(test::read_file(test::test_data("sft/sft_reference.json")))["step"];
    return j;
}

LlamaModel stories() {
    return load_model(test::shared_data("stories260K/stories260K.bin"));
}

const Tokenizer& tok512() {
    static const auto t = load_tokenizer(test::shared_data("stories260K/tok512.model"));
    return *t;
}

// The reference's examples, tokenized by our code.
std::vector<SftExample> examples(const char* key) {
    static const auto demo = read_alpaca_file(test::shared_data("alpaca/alpaca_en_demo.json"));
    const auto& s = step_reference()["setting"];
    const SftTokenizer tok(tok512());
    std::vector<SftExample> out;
    for (const auto& i : step_reference()[key])
        out.push_back(tok.example(demo[i.get<size_t>()], s["source_max_len"].get<int64_t>(),
                                  s["target_max_len"].get<int64_t>()));
    return out;
}

AdapterState fixture_state(const std::string& prefix) {
    const SafetensorsFile file(test::test_data("sft/sft_step_adapters.safetensors"));
    AdapterState state;
    for (const auto& name : file.names())
        if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = file.tensor(name);
    return state;
}

TrainConfig step_config() {
    const auto& s = step_reference()["setting"];
    TrainConfig c = irqlora_train_config();
    c.lora.r = s["lora_r"].get<int64_t>();
    c.lora.alpha = s["lora_alpha"].get<double>();
    c.approx_batch_size = s["micro_batch"].get<int64_t>();
    c.gradient_accumulation_steps = s["accumulation"].get<int64_t>();
    c.approx_total_steps = s["updates"].get<int64_t>() * c.gradient_accumulation_steps;
    c.approx_eval_steps = 1;
    c.eval_batch_size = s["eval_batch"].get<int64_t>();
    c.approx_lr = s["lr"].get<double>();
    c.weight_decay = s["weight_decay"].get<double>();
    c.max_grad_norm = s["max_grad_norm"].get<double>();
    return c;
}

double max_state_diff(const AdapterState& a, const AdapterState& b) {
    double d = 0.0;
    for (const auto& [name, t] : a)
        d = std::max(d, test::max_abs_diff(t, b.at(name)));
    return d;
}

// ||(got - initial) - (want - initial)|| / ||want - initial|| over all tensors (Frobenius).
double relative_update_error(const AdapterState& got, const AdapterState& want, const AdapterState& initial) {
    double err = 0.0, norm = 0.0;
    for (const auto& [name, t] : want) {
        err += (got.at(name) - t).to(torch::kDouble).pow(2).sum().item<double>();
        norm += (t - initial.at(name)).to(torch::kDouble).pow(2).sum().item<double>();
    }
    return std::sqrt(err / norm);
}

struct StepRun {
    std::vector<TrainEvent> updates, validations;
    AdapterState final_state;
    TrainResult result;
};

// The reference's run through the real trainer and objective.
StepRun run_steps(const TrainConfig& config) {
    auto model = stories();
    auto adapters = attach_lora(model, config.lora);
    adapters.restore(fixture_state("initial."));
    SftObjectiveOptions o;
    o.pad_id = tok512().eos_id();
    o.group_batch_size = config.approx_batch_size * config.gradient_accumulation_steps;
    o.data_seed = step_reference()["setting"]["data_seed"].get<uint64_t>();
    SftObjective objective(model, examples("train_records"), examples("val_records"), o);
    StepRun run;
    TrainerOptions options;
    options.on_event = [&](const TrainEvent& e) {
        if (e.kind == TrainEventKind::Update) run.updates.push_back(e);
        if (e.kind == TrainEventKind::Validation) run.validations.push_back(e);
    };
    Trainer trainer(config, adapters, objective, SftObjective::rows(4), SftObjective::rows(3), options);
    run.result = trainer.run();
    run.final_state = adapters.snapshot();
    return run;
}

} // namespace

class TestSftTraining : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void trainerStepsMatchTheReference() {
        const auto& ref = step_reference();
        const auto run = run_steps(step_config());
        QCOMPARE(QString::fromStdString(to_string(run.result.status)), QStringLiteral("finished"));
        QCOMPARE(run.updates.size(), size_t(4));
        QCOMPARE(run.validations.size(), size_t(5));
        double worst_loss = 0.0, worst_norm = 0.0;
        for (size_t i = 0; i < 4; ++i) {
            worst_loss =
                std::max(worst_loss, std::abs(run.updates[i].t_loss - ref["update_losses"][i].get<double>()));
            const double norm = ref["grad_norms"][i].get<double>();
            worst_norm = std::max(worst_norm, std::abs(run.updates[i].grad_norm - norm) / norm);
            QVERIFY(norm > step_config().max_grad_norm); // every update clips
        }
        for (size_t i = 0; i < 5; ++i)
            worst_loss = std::max(worst_loss,
                                  std::abs(run.validations[i].v_loss - ref["eval_losses"][i].get<double>()));
        const auto initial = fixture_state("initial."), after = fixture_state("after.");
        const double worst_state = max_state_diff(run.final_state, after);
        const double update_error = relative_update_error(run.final_state, after, initial);
        qInfo("max |loss - ref| %.2e, max relative grad-norm error %.2e, max |adapter - ref| %.2e, "
              "relative update error %.2e",
              worst_loss, worst_norm, worst_state, update_error);
        QVERIFY(worst_loss < 2e-5);
        QVERIFY(worst_norm < 1e-4);
        QVERIFY(worst_state < 5e-5);
        QVERIFY(update_error < 1e-3);
        // The updates moved the adapters by far more than the tolerance.
        QVERIFY(max_state_diff(initial, after) > 5e-4);

        // Without clipping the same run ends elsewhere: the comparison above sees the clipping.
        TrainConfig no_clip = step_config();
        no_clip.max_grad_norm = 0.0;
        const auto unclipped = run_steps(no_clip);
        QVERIFY(std::isnan(unclipped.updates[0].grad_norm));
        const double moved = relative_update_error(unclipped.final_state, after, initial);
        qInfo("relative update error without clipping %.2e", moved);
        QVERIFY(moved > 20 * 1e-3);
    }

    // The batch order of each pass is the reference's length-grouped draw.
    void objectiveOrderMatchesTheReference() {
        auto model = stories();
        SftObjectiveOptions o;
        o.pad_id = tok512().eos_id();
        o.group_batch_size = 2;
        SftObjective objective(model, examples("train_records"), examples("val_records"), o);
        for (int64_t epoch = 0; epoch < 2; ++epoch) {
            const auto order = objective.train_order(epoch, 4);
            const std::vector<int64_t> got(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + 4);
            QVERIFY(got ==
                    step_reference()["orders"][static_cast<size_t>(epoch)].get<std::vector<int64_t>>());
        }
        QVERIFY_THROWS_EXCEPTION(Error, objective.train_order(0, 5));
    }

    // The [PAD] class is one more row in the softmax: the loss equals the explicit (V + 1)-class
    // cross-entropy, for the model's mean row (irlora.py's) and for a row that weighs (a copy of
    // the first target token's row, which must raise the loss).
    void padClassIsTheMeanRow() {
        auto model = stories();
        const auto train = examples("train_records");
        const auto batch = collate_sft_batch({&train[0], &train[1]}, 2, false);
        torch::NoGradGuard no_grad;
        ForwardOptions fo;
        fo.want_hidden = true;
        const auto hidden = model.forward(batch.input_ids, fo).hidden;
        QCOMPARE(model.lm_head_weight().size(0), int64_t(512));
        const auto L = batch.input_ids.size(1);
        auto explicit_ce = [&](const torch::Tensor& row) {
            const auto head = torch::cat({model.lm_head_weight(), row.unsqueeze(0)});
            const auto wide = torch::linear(hidden, head); // (B, L, V + 1)
            return torch::nn::functional::cross_entropy(
                       wide.slice(1, 0, L - 1).reshape({-1, wide.size(2)}),
                       batch.labels.slice(1, 1, L).reshape({-1}),
                       torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex))
                .item<double>();
        };
        const auto mean_row = pad_class_row(model);
        QVERIFY(test::max_abs_diff(mean_row, model.lm_head_weight().mean(0)) == 0.0);
        QVERIFY(std::abs(sft_loss(model, batch, mean_row).item<double>() - explicit_ce(mean_row)) < 1e-5);
        const int64_t first_target = train[0].ids[static_cast<size_t>(train[0].source_tokens)];
        const auto copy_row = model.lm_head_weight()[first_target].clone();
        const double with = sft_loss(model, batch, copy_row).item<double>();
        const double without = sft_loss(model, batch, {}).item<double>();
        QVERIFY(std::abs(with - explicit_ce(copy_row)) < 1e-5);
        QVERIFY(with > without + 1e-4);
    }

    // "Compensation, then fine-tuning": a saved plain LoRA continued with IEC gates at 0 computes
    // the same logits; one SFT run trains the gates; the result saves as a PEFT adapter whose
    // reload reproduces the trained model (IEC folded in).
    void continuesFromAPeftAdapterWithIec() {
        auto model = stories();
        const auto ids =
            torch::tensor({1, 403, 407, 261, 378, 395, 261, 424, 412}, torch::kLong).unsqueeze(0);
        LoraConfig plain;
        plain.r = 2;
        plain.alpha = 0.5;
        auto rilq = attach_lora(model, plain);
        auto gen = at::detail::createCPUGenerator(5);
        for (const auto& a : rilq.adapters())
            a->set_parameter("lora_B", torch::randn(a->B().sizes(), gen) * 0.1);
        torch::Tensor before;
        {
            torch::NoGradGuard no_grad;
            before = model.logits(ids);
        }
        const auto dir = test::make_temp_dir("sft-continue");
        save_peft_adapter(dir + "/rilq", rilq, "stories260K");
        detach_lora(model, rilq);

        TrainConfig config = step_config();
        config.approx_total_steps = 4;
        auto adapters = finetune_adapters(model, config, dir + "/rilq");
        QVERIFY(adapters.config().iec);
        QCOMPARE(adapters.config().r, int64_t(2));
        {
            torch::NoGradGuard no_grad;
            QVERIFY(test::max_abs_diff(model.logits(ids), before) < 1e-5);
        }
        FinetuneConfig fc;
        fc.train = config;
        fc.data.eval_dataset_size = 3;
        const auto demo = read_alpaca_file(test::shared_data("alpaca/alpaca_en_demo.json"));
        const std::vector<AlpacaRecord> few(demo.begin(), demo.begin() + 9);
        auto data = prepare_finetune_data(few, tok512(), fc.data, "first 9 demo records");
        QCOMPARE(data.train.size(), size_t(6));
        QCOMPARE(data.eval.size(), size_t(3));
        const auto r = run_finetune(model, adapters, std::move(data), fc);
        QCOMPARE(QString::fromStdString(to_string(r.train.status)), QStringLiteral("finished"));
        QVERIFY(std::isfinite(r.final_eval.loss));
        QVERIFY(adapters.adapters().front()->beta1().item<double>() != 0.0);
        torch::Tensor tuned;
        {
            torch::NoGradGuard no_grad;
            tuned = model.logits(ids);
        }
        const double trained = test::max_abs_diff(tuned, before);
        save_peft_adapter(dir + "/sft", adapters, "stories260K");
        detach_lora(model, adapters);
        const auto reloaded = load_peft_adapter(dir + "/sft", model);
        QCOMPARE(reloaded.size(), adapters.size());
        QVERIFY(!reloaded.config().iec); // folded into A and B
        torch::NoGradGuard no_grad;
        const double folded = test::max_abs_diff(model.logits(ids), tuned);
        qInfo("logits moved by training %.2e; reloaded (IEC folded) vs trained %.2e", trained, folded);
        QVERIFY(folded < 1e-4);
        QVERIFY(trained > 10 * folded); // the comparison sees what training changed
    }

    void rejectsExamplesLongerThanTheContext() {
        auto model = stories();
        SftExample e;
        e.ids.assign(600, 5);
        e.source_tokens = 10;
        try {
            SftObjective objective(model, {e}, {e}, {});
            QFAIL("an example past the context must be refused");
        } catch (const Error& err) {
            QVERIFY(std::string(err.what()).find("more than the model's 512-token context") !=
                    std::string::npos);
        }
    }
};

RILQ_TEST_APPLESS_MAIN(TestSftTraining)
#include "test_sft_training.moc"
