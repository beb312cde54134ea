// Activation checkpointing per decoder layer (core/model/layer_checkpoint.h,
// rilq.activation_checkpointing): on stories260K in fp32 the recomputed layers give the same
// loss and the same LoRA gradients bit for bit as the plain graph - with IEC, with training
// dropout (the masks are replayed), on a packed 2-bit student, and through the trainer (the same
// losses and adapters after several updates); the setting is in the experiment schema; forwards
// that cannot be checkpointed are refused.
#include <QtTest/QtTest>

#include "tests/support/short_rilq_run.h"
#include "tests/support/test_errors.h"
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/io/llama2c.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/quant/quantize_model.h"
#include "core/rilq/compensation.h"
#include "core/rilq/rilq_loss.h"
#include "core/rilq/train_config.h"
#include "core/run/config_schema.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <string>
#include <vector>

using namespace rilq;

namespace {

LlamaModel checkpoint_stories() {
    return load_llama2c(test::shared_data("stories260K/stories260K.bin"));
}

struct CheckpointRun {
    torch::Tensor loss;
    std::vector<torch::Tensor> grads;
};

// Adapters on every projection (B drawn so that A gets a gradient too), one RILQ loss on ids
// against the target, its backward; the adapters are detached again.
CheckpointRun checkpoint_loss_and_grads(LlamaModel& model, const LoraConfig& config, const torch::Tensor& ids,
                                        const torch::Tensor& target, bool checkpoint) {
    LoraSet set = attach_lora(model, config);
    auto gen = at::detail::createCPUGenerator(11);
    for (const auto& a : set.adapters())
        a->set_parameter("lora_B", torch::randn({a->out_features(), a->rank()}, gen, torch::kFloat32) * 0.05);
    set.set_training(true);
    CheckpointRun run;
    const auto l = rilq_loss(model, ids, target, TargetType::Hidden, {}, checkpoint);
    l.total.backward();
    run.loss = l.total.detach();
    for (const auto& p : set.parameters())
        run.grads.push_back(p.grad().clone());
    detach_lora(model, set);
    return run;
}

void check_checkpointed_equals_plain(LlamaModel& model, const LoraConfig& config, const char* label) {
    const auto ids = test::sample_windows(model, 2, 48, 5);
    torch::Tensor target;
    {
        torch::NoGradGuard no_grad;
        ForwardOptions o;
        o.want_hidden = true;
        target = model.forward(ids, o).hidden + 0.01; // any target of the right shape
    }
    const auto plain = checkpoint_loss_and_grads(model, config, ids, target, false);
    const auto checkpointed = checkpoint_loss_and_grads(model, config, ids, target, true);
    QVERIFY2(torch::equal(plain.loss, checkpointed.loss), label);
    QCOMPARE(checkpointed.grads.size(), plain.grads.size());
    QVERIFY(!plain.grads.empty());
    for (size_t i = 0; i < plain.grads.size(); ++i) {
        QVERIFY2(plain.grads[i].abs().sum().item<double>() > 0.0, label); // a real gradient
        QVERIFY2(torch::equal(plain.grads[i], checkpointed.grads[i]),
                 (std::string(label) + " gradient " + std::to_string(i)).c_str());
    }
}

LoraConfig checkpoint_lora(bool iec, double dropout) {
    LoraConfig c;
    c.r = 4;
    c.alpha = 8.0;
    c.iec = iec;
    c.dropout = dropout;
    return c;
}

} // namespace

class TestActivationCheckpoint : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void gradientsEqualPlainGraph() {
        LlamaModel model = checkpoint_stories();
        check_checkpointed_equals_plain(model, checkpoint_lora(false, 0.0), "plain LoRA");
        check_checkpointed_equals_plain(model, checkpoint_lora(true, 0.0), "LoRA + IEC");
    }

    // The shared dropout generator is replayed from its state before each layer's forward, and
    // left where the forward left it: the recomputation draws the masks the forward drew.
    void dropoutMasksAreReplayed() {
        LlamaModel model = checkpoint_stories();
        check_checkpointed_equals_plain(model, checkpoint_lora(false, 0.1), "dropout 0.1");
    }

    void packedStudent() {
        const LlamaModel fp = checkpoint_stories();
        LlamaModel student = fp.clone();
        QuantSpec spec;
        spec.bits = 2;
        spec.group_size = 16;
        spec.storage = QuantStorage::Packed;
        quantize_model(student, spec, {});
        QVERIFY(student.linear("layers.0.self_attn.q_proj").packed != nullptr);
        check_checkpointed_equals_plain(student, checkpoint_lora(false, 0.0), "packed 2-bit student");
    }

    // A RILQ run through the trainer: identical loss curves and final adapters either way.
    void trainerRunIsIdentical() {
        const LlamaModel teacher = checkpoint_stories();
        const auto train_ids = test::sample_windows(teacher, 4, 32, 1);
        const auto val_ids = test::sample_windows(teacher, 2, 32, 2);
        TrainConfig c = test::short_rilq_config(2, 4, 2);
        std::vector<std::vector<float>> adapters;
        std::vector<std::vector<double>> losses;
        for (bool checkpoint : {false, true}) {
            c.activation_checkpointing = checkpoint;
            LlamaModel student = test::fake_quantized_copy(teacher, 2, 4); // stories260K: 64 and 172 wide
            std::vector<double> curve;
            auto r = test::short_rilq_run(student, teacher, train_ids, val_ids, c, curve);
            std::vector<float> flat;
            for (const auto& p : r.adapters.parameters())
                for (float v : test::float_values(p))
                    flat.push_back(v);
            adapters.push_back(flat);
            losses.push_back(curve);
        }
        QCOMPARE(losses[0].size(), size_t{4});
        QVERIFY(losses[0] == losses[1]);
        QVERIFY(adapters[0] == adapters[1]);
    }

    void settingIsInTheSchema() {
        const auto* field = run::find_run_field("rilq.activation_checkpointing");
        QVERIFY(field != nullptr);
        TrainConfig c;
        QVERIFY(!c.activation_checkpointing);
    }

    void refusedWithObserverOrCache() {
        LlamaModel model = checkpoint_stories();
        LoraSet set = attach_lora(model, checkpoint_lora(false, 0.0));
        ForwardOptions o;
        o.checkpoint_layers = true;
        o.observer = [](const std::string&, const torch::Tensor&) {};
        test::expect_error([&] { (void)model.forward(test::random_windows(1, 8, 512, 3), o); },
                           {"activation checkpointing is for training forwards"});
        // Without grad mode there is nothing to save: the setting is ignored.
        torch::NoGradGuard no_grad;
        ForwardOptions plain;
        plain.checkpoint_layers = true;
        const auto ids = test::random_windows(1, 8, 512, 3);
        QVERIFY(torch::equal(model.forward(ids, plain).logits, model.logits(ids)));
        detach_lora(model, set);
    }
};

RILQ_TEST_APPLESS_MAIN(TestActivationCheckpoint)
#include "test_activation_checkpoint.moc"
