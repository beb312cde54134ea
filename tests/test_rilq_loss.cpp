// The RILQ objective and its pieces against an independent PyTorch computation
// (tests/reference/rilq_loss_reference.py), the teacher-target cache (memory and mapped file),
// and the comparison scopes' objectives at their known optimum (full-rank weight SVD).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/rilq/gt_loss.h"
#include "core/rilq/layer_objective.h"
#include "core/rilq/linear_objective.h"
#include "core/rilq/model_loss.h"
#include "core/rilq/model_objective.h"
#include "core/rilq/rilq_loss.h"
#include "core/rilq/teacher_targets.h"
#include "core/rilq/weight_svd.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

torch::Tensor loss_fixture_tensor(const nlohmann::json& values, std::vector<int64_t> shape,
                                  torch::Dtype dtype = torch::kFloat32) {
    return torch::tensor(values.get<std::vector<double>>(), torch::kFloat64).reshape(shape).to(dtype);
}

bool close(double a, double b, double rel = 1e-5) {
    return std::abs(a - b) <= rel * std::max(1.0, std::abs(b));
}

LoraConfig lora_of_rank(int64_t r) {
    LoraConfig c;
    c.r = r;
    c.alpha = 16.0;
    return c;
}

} // namespace

class TestRilqLoss : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void lossesMatchPytorchReference() {
        const auto j = nlohmann::json::parse(test::read_file(test::test_data("rilq_loss_reference.json")));
        const int64_t B = j["shape"]["B"], T = j["shape"]["T"], C = j["shape"]["C"], V = j["shape"]["V"];
        const auto sh = loss_fixture_tensor(j["student_hidden"], {B, T, C});
        const auto th = loss_fixture_tensor(j["teacher_hidden"], {B, T, C});
        const auto sl = loss_fixture_tensor(j["student_logits"], {B, T, V});
        const auto tl = loss_fixture_tensor(j["teacher_logits"], {B, T, V});
        const auto ids = torch::tensor(j["ids"].get<std::vector<int64_t>>(), torch::kLong).reshape({B, T});
        const auto& e = j["expected"];
        QVERIFY(close(model_discrepancy_mse(sh, th).item<double>(), e["hid_model_loss"]));
        QVERIFY(close(model_discrepancy_mse(sl, tl).item<double>(), e["logit_model_loss"]));
        QVERIFY(close(next_token_cross_entropy(sl, ids).item<double>(), e["gt_loss"]));
        const LossWeights w{j["weights"]["a_dis_weight"], j["weights"]["gt_weight"]};
        const auto hid = combine_rilq_loss(sh, th, sl, ids, w);
        QVERIFY(close(hid.total.item<double>(), e["hid_total"]));
        const auto logit = combine_rilq_loss(sl, tl, sl, ids, w);
        QVERIFY(close(logit.total.item<double>(), e["logit_total"]));
        // bf16 inputs are promoted to fp32 before the loss.
        QVERIFY(close(model_discrepancy_mse(sh.to(torch::kBFloat16), th.to(torch::kBFloat16)).item<double>(),
                      e["hid_model_loss"], 2e-2));
        // Weights: 0.2 / 0.8.
        const auto other = combine_rilq_loss(sh, th, sl, ids, {0.2, 0.8});
        QVERIFY(close(other.total.item<double>(),
                      0.2 * e["hid_model_loss"].get<double>() + 0.8 * e["gt_loss"].get<double>()));
    }

    void groundTruthByHand() {
        // Uniform logits: CE = log V whatever the labels; T = 3 gives B * 2 predicted tokens.
        const auto uniform = torch::zeros({2, 3, 5});
        const auto ids = torch::tensor({1, 2, 3, 4, 0, 1}, torch::kLong).reshape({2, 3});
        QVERIFY(close(next_token_cross_entropy(uniform, ids).item<double>(), std::log(5.0)));
        // One confident position: logits favour token 2 at (0, 0) by 10; label there is ids[0][1] = 2.
        auto logits = torch::zeros({1, 2, 3});
        logits[0][0][2] = 10.0;
        const auto one = torch::tensor({0, 2}, torch::kLong).reshape({1, 2});
        const double expected = -(10.0 - std::log(std::exp(10.0) + 2.0));
        QVERIFY(close(next_token_cross_entropy(logits, one).item<double>(), expected));
        // The last position's logits are never used.
        logits[0][1][0] = 1000.0;
        QVERIFY(close(next_token_cross_entropy(logits, one).item<double>(), expected));
        QVERIFY_THROWS_EXCEPTION(
            Error, next_token_cross_entropy(torch::zeros({1, 2, 3}), torch::zeros({1, 3}, torch::kLong)));
        QVERIFY_THROWS_EXCEPTION(Error, model_discrepancy_mse(torch::zeros({2, 3}), torch::zeros({3, 2})));
    }

    void groundTruthFromHiddenChunkByChunk() {
        // L_GT through the head chunk by chunk equals the loss of the whole window's logits, and so
        // do its gradients w.r.t. the hidden state, for every chunk size (1 row, uneven, all rows);
        // the last position, which predicts nothing, gets a zero gradient.
        torch::manual_seed(3);
        const int64_t B = 2, T = 7, C = 16, V = 11, N = B * (T - 1);
        const auto ids = torch::randint(V, {B, T}, torch::kLong);
        for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
            const auto head = torch::randn({V, C}).to(dtype);
            const auto base = torch::randn({B, T, C}).to(dtype);
            auto whole_hidden = base.clone().requires_grad_(true);
            const auto whole = next_token_cross_entropy(torch::linear(whole_hidden, head), ids);
            whole.backward();
            const double tol = dtype == torch::kFloat32 ? 1e-6 : 1e-3;
            for (const int64_t chunk : {int64_t{1}, int64_t{5}, N, int64_t{0}}) {
                auto hidden = base.clone().requires_grad_(true);
                const auto loss = next_token_cross_entropy_from_hidden(hidden, head, ids, chunk);
                QCOMPARE(loss.scalar_type(), torch::kFloat32);
                QVERIFY2(close(loss.item<double>(), whole.item<double>(), tol),
                         std::to_string(chunk).c_str());
                loss.backward();
                const auto grad = hidden.grad().to(torch::kFloat32),
                           expected = whole_hidden.grad().to(torch::kFloat32);
                QVERIFY2(test::max_abs_diff(grad, expected) <= tol * expected.abs().max().item<double>(),
                         std::to_string(chunk).c_str());
                QCOMPARE(grad.select(1, T - 1).abs().max().item<double>(), 0.0);
            }
        }
        // Bad shapes and a trainable head are named.
        QVERIFY_THROWS_EXCEPTION(
            Error, next_token_cross_entropy_from_hidden(torch::zeros({1, 3, 4}), torch::zeros({5, 3}),
                                                        torch::zeros({1, 3}, torch::kLong)));
        QVERIFY_THROWS_EXCEPTION(
            Error, next_token_cross_entropy_from_hidden(torch::zeros({1, 3, 4}), torch::zeros({5, 4}),
                                                        torch::zeros({1, 2}, torch::kLong)));
        QVERIFY_THROWS_EXCEPTION(
            Error, next_token_cross_entropy_from_hidden(torch::zeros({1, 3, 4}),
                                                        torch::zeros({5, 4}).requires_grad_(true),
                                                        torch::zeros({1, 3}, torch::kLong)));
    }

    void studentForwardLoss() {
        // Student == teacher: L_model is 0 and L_GT is the model's own next-token CE.
        const auto model = LlamaModel::random(test::tiny_llama_config(), 21);
        const auto ids = test::random_windows(2, 10, 64, 8);
        ForwardOptions opts;
        opts.want_hidden = true;
        const auto out = model.forward(ids, opts);
        for (const auto type : {TargetType::Hidden, TargetType::Logit}) {
            const auto& target = type == TargetType::Hidden ? out.hidden : out.logits;
            const auto l = rilq_loss(model, ids, target, type, {});
            QCOMPARE(l.model_loss.item<double>(), 0.0);
            // log-softmax by hand
            const auto logp = out.logits - out.logits.exp().sum(-1, true).log();
            double nll = 0.0;
            for (int64_t b = 0; b < 2; ++b)
                for (int64_t t = 0; t + 1 < 10; ++t)
                    nll -= logp[b][t][ids[b][t + 1].item<int64_t>()].item<double>();
            QVERIFY(close(l.gt_loss.item<double>(), nll / 18.0));
            QVERIFY(close(l.total.item<double>(), 0.5 * nll / 18.0));
        }
    }

    void teacherTargetsMemoryAndMappedFile() {
        const auto teacher = LlamaModel::random(test::tiny_llama_config(), 22);
        const auto ids = test::random_windows(5, 12, 64, 9);
        const auto dir = test::make_temp_dir("targets");
        const auto mem =
            TeacherTargets::compute(teacher, ids, TargetType::Hidden, 2, {int64_t{1} << 30, dir});
        QVERIFY(mem.storage() == TargetStorage::Memory);
        QCOMPARE(mem.bytes(), int64_t{5 * 12 * 32 * 4});
        const auto mapped =
            TeacherTargets::compute(teacher, ids, TargetType::Hidden, 2, {mem.bytes() - 1, dir});
        QVERIFY(mapped.storage() == TargetStorage::MappedFile);
        QVERIFY(fs::is_empty(dir)); // the file is unlinked as soon as it is mapped
        ForwardOptions opts;
        opts.want_hidden = true;
        opts.want_logits = false;
        const auto direct = teacher.forward(ids, opts).hidden;
        QCOMPARE(test::max_abs_diff(mem.all(), direct), 0.0);
        QCOMPARE(test::max_abs_diff(mapped.all(), direct), 0.0);
        QCOMPARE(test::max_abs_diff(mapped.rows(3, 5), direct.slice(0, 3, 5)), 0.0);
        QVERIFY_THROWS_EXCEPTION(Error, mapped.rows(4, 6));
        // Logit targets: (N, T, V).
        const auto logits = TeacherTargets::compute(teacher, ids, TargetType::Logit, 3, {0, dir});
        QVERIFY(logits.storage() == TargetStorage::MappedFile);
        QCOMPARE(logits.all().sizes().vec(), (std::vector<int64_t>{5, 12, 64}));
        QVERIFY(test::max_abs_diff(logits.all(), teacher.logits(ids)) < 1e-6);
        QVERIFY(TeacherTargets::storage_for(100, {100, {}}) == TargetStorage::Memory);
        QVERIFY(TeacherTargets::storage_for(101, {100, {}}) == TargetStorage::MappedFile);
        // Cancellable between batches.
        CancelToken cancel;
        cancel.cancel();
        ProgressSink sink;
        sink.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled,
                                 TeacherTargets::compute(teacher, ids, TargetType::Hidden, 2, {}, sink));
        fs::remove_all(dir);
    }

    void weightSvdIsTheBestRankRApproximation() {
        const auto teacher = LlamaModel::random(test::tiny_llama_config(), 23);
        auto student = test::fake_quantized_copy(teacher);
        for (const int64_t r : {int64_t{4}, int64_t{32}}) {
            auto set = attach_lora(student, lora_of_rank(r));
            init_adapters_from_weight_svd(teacher, student, set);
            for (const auto& a : set.adapters()) {
                const auto E =
                    teacher.linear(a->linear_name()).weight - student.linear(a->linear_name()).weight;
                const auto residual = (E - a->delta_weight()).norm().item<double>();
                const auto S = torch::linalg_svdvals(E);
                const int64_t k = std::min<int64_t>(r, S.size(0));
                const double tail = S.slice(0, k).pow(2).sum().sqrt().item<double>(); // Eckart-Young
                QVERIFY2(std::abs(residual - tail) < 1e-4 * std::max(1.0, E.norm().item<double>()),
                         (a->linear_name() + " " + std::to_string(residual) + " vs " + std::to_string(tail))
                             .c_str());
                // Singular values split evenly: both factors have the same Frobenius norm.
                QVERIFY(close(a->A().norm().item<double>(), a->B().norm().item<double>(), 1e-4));
            }
            detach_lora(student, set);
        }
    }

    void scopeObjectivesVanishAtFullRankSvd() {
        // With r >= every projection's min dimension, the weight SVD reproduces W exactly, so
        // every scope's discrepancy is ~0; with B = 0 it is clearly positive.
        auto teacher = std::make_shared<LlamaModel>(LlamaModel::random(test::tiny_llama_config(), 24));
        auto student = test::fake_quantized_copy(*teacher);
        const auto ids = test::random_windows(2, 12, 64, 10);
        auto set = attach_lora(student, lora_of_rank(32));
        LinearObjective linear(teacher, student, set);
        LayerObjective layer(teacher, student);
        torch::NoGradGuard no_grad;
        const double linear_before = linear.loss(DataSplit::Train, ids, 0).a_loss.item<double>();
        const double layer_before = layer.loss(DataSplit::Train, ids, 0).a_loss.item<double>();
        QVERIFY(linear_before > 1e-7);
        QVERIFY(layer_before > 1e-7);
        // Linear scope at B = 0 by hand: mean over linears of mean((X (W - Q)^T)^2), X captured here.
        std::map<std::string, torch::Tensor> xs;
        ForwardOptions opts;
        opts.observer = [&](const std::string& n, const torch::Tensor& x) { xs[n] = x; };
        teacher->forward(ids, opts);
        double sum = 0.0;
        for (const auto& name : teacher->linear_names()) {
            const auto E = teacher->linear(name).weight - student.linear(name).weight;
            sum += torch::linear(xs.at(name), E).pow(2).mean().item<double>();
        }
        QVERIFY(close(linear_before, sum / 14.0, 1e-4));

        init_adapters_from_weight_svd(*teacher, student, set);
        const auto lin = linear.loss(DataSplit::Validation, ids, 0);
        QVERIFY2(lin.a_loss.item<double>() < 1e-6 * linear_before,
                 std::to_string(lin.a_loss.item<double>()).c_str());
        QVERIFY(lin.gt_loss.defined()); // validation also reports the student's CE
        QVERIFY(!linear.loss(DataSplit::Train, ids, 0).gt_loss.defined());
        QVERIFY(layer.loss(DataSplit::Train, ids, 0).a_loss.item<double>() < 1e-6 * layer_before);
        QCOMPARE(linear.validation_loss(0.25, 7.0), 0.25);
        // The RILQ objective on cached targets: its discrepancy vanishes too; L_GT stays.
        const auto targets = TeacherTargets::compute(*teacher, ids, TargetType::Hidden, 1, {});
        ModelObjective model(student, targets, targets, {0.5, 0.5});
        const auto m = model.loss(DataSplit::Train, ids.slice(0, 1, 2), 1);
        QVERIFY(m.a_loss.item<double>() < 1e-10);
        QVERIFY(m.gt_loss.item<double>() > 1.0);
        QCOMPARE(model.validation_loss(2.0, 4.0), 3.0);
    }
};

RILQ_TEST_APPLESS_MAIN(TestRilqLoss)
#include "test_rilq_loss.moc"
