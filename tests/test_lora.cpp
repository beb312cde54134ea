// LoRA adapters on the Llama linears: start at the base model, train only A and B (and the IEC
// scalars), merge and unmerge, IEC against the IR-QLoRA formula, snapshots, init statistics.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/lora/iec.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

using namespace rilq;

namespace {

LoraConfig lora(int64_t r, bool iec = false) {
    LoraConfig c;
    c.r = r;
    c.alpha = 16.0;
    c.iec = iec;
    return c;
}

// Gives every adapter a non-zero B (and betas) so the adapters change the output.
void perturb(LoraSet& set, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    for (const auto& a : set.adapters()) {
        a->set_parameter("lora_B", torch::randn(a->B().sizes(), gen) * 0.05);
        if (a->iec()) {
            a->set_parameter("iec_beta1", torch::randn({}, gen) * 0.5);
            a->set_parameter("iec_beta2", torch::randn({}, gen) * 0.5);
        }
    }
}

torch::Tensor json_tensor(const nlohmann::json& values, std::vector<int64_t> shape) {
    return torch::tensor(values.get<std::vector<double>>(), torch::kFloat64).reshape(shape);
}

} // namespace

class TestLora : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void zeroBLeavesLogitsIdentical() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 11);
        auto student = test::fake_quantized_copy(base);
        const auto ids = test::random_windows(2, 12, 64, 3);
        const auto before = student.logits(ids);
        for (const bool iec : {false, true}) {
            auto set = attach_lora(student, lora(4, iec));
            QCOMPARE(static_cast<int>(set.size()), 14);   // 7 projections x 2 layers
            set.set_training(true);
            QCOMPARE(test::max_abs_diff(student.logits(ids), before), 0.0);   // exactly: B = 0, betas = 0
            detach_lora(student, set);
        }
    }

    void gradientsReachOnlyAdapters() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 12);
        auto student = test::fake_quantized_copy(base);
        auto set = attach_lora(student, lora(4, /*iec=*/true));
        perturb(set, 5);
        const auto ids = test::random_windows(2, 10, 64, 4);
        auto loss = student.logits(ids).pow(2).mean();
        loss.backward();
        for (const auto& [name, t] : set.named_parameters()) {
            QVERIFY2(t.grad().defined(), name.c_str());
            QVERIFY2(t.grad().abs().sum().item<double>() > 0.0, name.c_str());
        }
        for (const auto& [name, t] : student.hf_state()) {
            QVERIFY2(!t.requires_grad(), name.c_str());
            QVERIFY2(!t.grad().defined(), name.c_str());
        }
        // 14 adapters x (A, B, beta1, beta2)
        QCOMPARE(static_cast<int>(set.parameters().size()), 56);
        const auto& cfg = test::tiny_llama_config();
        const int64_t C = cfg.hidden_size, KV = cfg.kv_dim(), F = cfg.intermediate_size, r = 4;
        const int64_t per_layer = r * ((C + C) + (C + KV) * 2 + (C + C) + (C + F) * 2 + (F + C)) + 7 * 2;
        QCOMPARE(set.parameter_count(), 2 * per_layer);
    }

    void mergeMatchesUnmergedForwardAndUnmergeRestores() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 13);
        for (const bool iec : {false, true}) {
            auto student = test::fake_quantized_copy(base);
            const auto weights_before = student.hf_state();
            std::map<std::string, torch::Tensor> copies;
            for (const auto& [n, t] : weights_before) copies[n] = t.clone();
            auto set = attach_lora(student, lora(4, iec));
            perturb(set, 6);
            const auto ids = test::random_windows(2, 16, 64, 5);
            torch::NoGradGuard no_grad;
            const auto unmerged = student.logits(ids);
            QVERIFY(test::max_abs_diff(unmerged, student.logits(ids)) == 0.0);
            merge_lora(student, set);
            QVERIFY(set.merged());
            QVERIFY(!student.linear("layers.0.self_attn.q_proj").adapter);
            const double merged_diff = test::max_abs_diff(student.logits(ids), unmerged);
            QVERIFY2(merged_diff < 1e-5, std::to_string(merged_diff).c_str());
            // The merge really changed the weights (not a silent no-op).
            QVERIFY(test::max_abs_diff(student.linear("layers.1.mlp.down_proj").weight,
                                       copies.at("model.layers.1.mlp.down_proj.weight")) > 1e-4);
            unmerge_lora(student, set);
            for (const auto& [n, t] : student.hf_state()) {
                const double d = test::max_abs_diff(t, copies.at(n));
                QVERIFY2(d < 1e-6, (n + " " + std::to_string(d)).c_str());
            }
            QVERIFY(test::max_abs_diff(student.logits(ids), unmerged) < 1e-5);
            QVERIFY_THROWS_EXCEPTION(Error, unmerge_lora(student, set));
        }
    }

    void mergeDoesNotWriteIntoSharedWeights() {
        // A student built on the same tensors as another model must not leak the merge into it.
        const auto base = LlamaModel::random(test::tiny_llama_config(), 14);
        auto alias = base.clone();
        for (const auto& name : base.linear_names()) alias.linear(name).weight = base.linear(name).weight;
        QVERIFY(alias.linear("layers.0.mlp.up_proj").weight.data_ptr() == base.linear("layers.0.mlp.up_proj").weight.data_ptr());
        const auto original = base.linear("layers.0.mlp.up_proj").weight.clone();
        auto set = attach_lora(alias, lora(2));
        perturb(set, 7);
        merge_lora(alias, set);
        QCOMPARE(test::max_abs_diff(base.linear("layers.0.mlp.up_proj").weight, original), 0.0);
    }

    void iecMatchesIrQloraFormula() {
        // Fixture from tests/reference/lora_iec_reference.py (the IR-QLoRA forward, float64).
        const auto j = nlohmann::json::parse(test::read_file(test::test_data("lora_iec_reference.json")));
        const auto& s = j["shape"];
        const int64_t batch = s["batch"], tokens = s["tokens"], in = s["in"], out = s["out"], r = s["r"];
        LoraConfig c = lora(r, true);
        c.alpha = j["alpha"].get<double>();
        LoraAdapter adapter("layers.0.self_attn.q_proj", in, out, c, at::detail::createCPUGenerator(1),
                            at::detail::createCPUGenerator(2));
        adapter.set_parameter("lora_A", json_tensor(j["A"], {r, in}));
        adapter.set_parameter("lora_B", json_tensor(j["B"], {out, r}));
        adapter.set_parameter("iec_beta1", torch::tensor(j["beta1"].get<double>()));
        adapter.set_parameter("iec_beta2", torch::tensor(j["beta2"].get<double>()));
        const auto x = json_tensor(j["x"], {batch, tokens, in}).to(torch::kFloat32);
        const auto expected = json_tensor(j["delta_iec"], {batch, tokens, out});
        torch::NoGradGuard no_grad;
        const auto got = adapter.delta(x);
        QVERIFY2(test::max_abs_diff(got, expected) < 1e-5, std::to_string(test::max_abs_diff(got, expected)).c_str());
        // Exact merge (dropout 0): s * x A'^T B'^T
        const auto folded = torch::linear(torch::linear(x, adapter.merged_A()), adapter.merged_B()) * adapter.scale();
        QVERIFY(test::max_abs_diff(folded, expected) < 1e-5);
        QVERIFY(test::max_abs_diff(torch::linear(x, adapter.delta_weight()), expected) < 1e-5);
        // With the betas at 0 it is plain LoRA.
        adapter.set_parameter("iec_beta1", torch::tensor(0.0));
        adapter.set_parameter("iec_beta2", torch::tensor(0.0));
        QVERIFY(test::max_abs_diff(adapter.delta(x), json_tensor(j["delta_plain"], {batch, tokens, out})) < 1e-5);
    }

    void iecMatricesByHand() {
        // in 6, r 3 -> g1 2; out 4, r 2 -> g2 2
        const auto G = iec_group_mean_matrix(3, 6);
        const auto G_expected = torch::tensor({0.5, 0.5, 0., 0., 0., 0., 0., 0., 0.5, 0.5, 0., 0., 0., 0., 0., 0., 0.5, 0.5},
                                              torch::kFloat32).reshape({3, 6});
        QCOMPARE(test::max_abs_diff(G, G_expected), 0.0);
        const auto Rm = iec_repeat_matrix(4, 2);
        const auto R_expected = torch::tensor({1., 0., 1., 0., 0., 1., 0., 1.}, torch::kFloat32).reshape({4, 2});
        QCOMPARE(test::max_abs_diff(Rm, R_expected), 0.0);
        const auto x = torch::tensor({1., 2., 3., 4., 5., 6.}, torch::kFloat32);
        QCOMPARE(test::max_abs_diff(iec_group_mean(x, 3), torch::tensor({1.5, 3.5, 5.5})), 0.0);
        QCOMPARE(test::max_abs_diff(iec_repeat(torch::tensor({7., 9.}), 4), torch::tensor({7., 7., 9., 9.})), 0.0);
        QVERIFY_THROWS_EXCEPTION(Error, check_iec_shape("layers.0.mlp.down_proj", 64, 32, 3));
    }

    void iecRejectsRankNotDividingDimensions() {
        auto model = LlamaModel::random(test::tiny_llama_config(), 15);
        LoraConfig c = lora(3, true);   // 3 divides neither 32 nor 64
        QVERIFY_THROWS_EXCEPTION(Error, attach_lora(model, c));
    }

    void rankZeroAttachesNothing() {
        auto model = LlamaModel::random(test::tiny_llama_config(), 16);
        auto set = attach_lora(model, lora(0));
        QVERIFY(set.empty());
        QCOMPARE(set.parameter_count(), int64_t{0});
        for (const auto& name : model.linear_names()) QVERIFY(!model.linear(name).adapter);
    }

    void targetsSelectProjections() {
        auto model = LlamaModel::random(test::tiny_llama_config(), 17);
        LoraConfig c = lora(2);
        c.targets = {"q_proj", "down_proj"};
        auto set = attach_lora(model, c);
        QCOMPARE(static_cast<int>(set.size()), 4);
        QVERIFY(model.linear("layers.1.self_attn.q_proj").adapter);
        QVERIFY(model.linear("layers.1.mlp.down_proj").adapter);
        QVERIFY(!model.linear("layers.1.self_attn.k_proj").adapter);
        QVERIFY_THROWS_EXCEPTION(Error, attach_lora(model, c));   // already attached
        detach_lora(model, set);
        QVERIFY(!model.linear("layers.1.self_attn.q_proj").adapter);
        c.targets = {"qkv_proj"};
        QVERIFY_THROWS_EXCEPTION(Error, attach_lora(model, c));
    }

    void initDistributions() {
        auto model = LlamaModel::random(test::tiny_llama_config(), 18);
        // Gaussian: A ~ N(0, (1/r)^2). All 14 adapters' A pooled: 8 * (32*5 + 16*2 + 64*2 + ...) samples.
        LoraConfig g = lora(8);
        auto set = attach_lora(model, g);
        std::vector<torch::Tensor> as;
        for (const auto& a : set.adapters()) {
            as.push_back(a->A().flatten());
            QCOMPARE(a->B().abs().max().item<double>(), 0.0);
            QCOMPARE(a->scale(), 2.0);
        }
        const auto pooled = torch::cat(as);
        const double std = pooled.std().item<double>();
        QVERIFY2(std::abs(std - 1.0 / 8.0) < 0.004, std::to_string(std).c_str());
        QVERIFY(std::abs(pooled.mean().item<double>()) < 0.006);
        detach_lora(model, set);
        // Kaiming uniform (a = sqrt 5): U(-1/sqrt(in), 1/sqrt(in)), std = 1/sqrt(3 in).
        LoraConfig k = lora(8);
        k.init = LoraInit::Kaiming;
        auto kset = attach_lora(model, k);
        const auto& down = kset.adapter("layers.0.mlp.down_proj").A();   // in = 64
        QVERIFY(down.abs().max().item<double>() <= 1.0 / 8.0);
        QVERIFY(std::abs(down.std().item<double>() - 1.0 / std::sqrt(3.0 * 64)) < 0.006);
        // Same seed, same adapters.
        detach_lora(model, kset);
        auto again = attach_lora(model, k);
        QCOMPARE(test::max_abs_diff(again.adapter("layers.0.mlp.down_proj").A(), down), 0.0);
    }

    void snapshotRestore() {
        auto model = LlamaModel::random(test::tiny_llama_config(), 19);
        auto set = attach_lora(model, lora(2, true));
        const auto snap = set.snapshot();
        perturb(set, 9);
        QVERIFY(test::max_abs_diff(set.adapter("layers.0.self_attn.v_proj").B(), snap.at("layers.0.self_attn.v_proj.lora_B")) > 0);
        set.restore(snap);
        for (const auto& [name, t] : set.named_parameters()) QCOMPARE(test::max_abs_diff(t, snap.at(name)), 0.0);
        auto broken = snap;
        broken.erase("layers.1.mlp.up_proj.iec_beta2");
        QVERIFY_THROWS_EXCEPTION(Error, set.restore(broken));
        broken = snap;
        broken["layers.1.mlp.up_proj.lora_A"] = torch::zeros({3, 3});
        QVERIFY_THROWS_EXCEPTION(Error, set.restore(broken));
    }

    void dropoutOnlyInTraining() {
        LoraConfig c = lora(4);
        c.dropout = 0.5;
        LoraAdapter a("layers.0.mlp.up_proj", 32, 64, c, at::detail::createCPUGenerator(1), at::detail::createCPUGenerator(2));
        a.set_parameter("lora_B", torch::ones({64, 4}));
        const auto x = torch::randn({2, 50, 32});
        torch::NoGradGuard no_grad;
        const auto eval1 = a.delta(x), eval2 = a.delta(x);
        QCOMPARE(test::max_abs_diff(eval1, eval2), 0.0);
        a.set_training(true);
        const auto t1 = a.delta(x), t2 = a.delta(x);
        QVERIFY(test::max_abs_diff(t1, t2) > 1e-3);
        // Inverted dropout keeps the expectation: averaged over many masks the delta approaches eval.
        torch::Tensor sum = torch::zeros_like(eval1);
        for (int i = 0; i < 1000; ++i) sum += a.delta(x);
        const double rel = ((sum / 1000.0) - eval1).norm().item<double>() / eval1.norm().item<double>();
        QVERIFY2(rel < 0.1, std::to_string(rel).c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestLora)
#include "test_lora.moc"
