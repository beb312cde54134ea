// Packed quantized linears (core/quant/packed_quant_weight.h, core/model/packed_linear.h): the
// bit layout of packed codes, packed == dense bit for bit in fp32 for every registered quantizer
// and bit width (weights, logits, input gradients through LoRA adapters) on stories260K and on a
// random GQA model, the exact byte count of the packed form, a RILQ training run whose curve is
// the dense student's, and the errors of bad input.
#include <QtTest/QtTest>

#include "tests/support/drawn_lora.h"
#include "tests/support/test_errors.h"
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/io/llama2c.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/model/packed_linear.h"
#include "core/quant/bit_packing.h"
#include "core/quant/packed_quant_weight.h"
#include "core/quant/quant_registry.h"
#include "core/quant/quantize_model.h"
#include "core/rilq/compensation.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

using namespace rilq;

namespace {

struct PackedCase {
    QuantSpec spec;
    std::string label;
};

// Every registered method at every width it accepts (defaults otherwise), then the paths the
// defaults miss: each RTN variant, per-channel groups, GPTQ act-order (irregular g_idx) and
// static groups, NF double quantization, ICQ-NF's fp32 offsets and its coded ones with coded absmax.
std::vector<PackedCase> packed_cases() {
    std::vector<PackedCase> cases;
    auto add = [&](QuantSpec s, const std::string& extra) { cases.push_back({s, s.describe() + extra}); };
    for (const QuantMethod& m : quant_methods())
        for (int bits : m.bits) {
            QuantSpec s;
            s.method = m.name;
            s.bits = bits;
            add(s, "");
        }
    for (const std::string& variant : quant_method("rtn").variant_names()) {
        QuantSpec s;
        s.variant = variant;
        add(s, "");
    }
    QuantSpec per_channel;
    per_channel.bits = 3;
    per_channel.group_size = 0;
    add(per_channel, "");
    QuantSpec act_order;
    act_order.method = "gptq";
    act_order.bits = 3;
    act_order.group_size = 32;
    act_order.gptq_act_order = true;
    add(act_order, " act_order");
    act_order.gptq_static_groups = true;
    add(act_order, " act_order static_groups");
    QuantSpec dq;
    dq.method = "nf";
    dq.double_quant = true;
    add(dq, "");
    QuantSpec icq;
    icq.method = "icq-nf";
    icq.bits = 3;
    icq.icq_quantize_offset = false;
    icq.double_quant = true;
    add(icq, "");
    icq.bits = 2; // both 8-bit forms: tau codes and double-quantized absmax
    icq.icq_quantize_offset = true;
    add(icq, "");
    return cases;
}

LlamaModel packed_test_student(const LlamaModel& fp, QuantSpec spec, QuantStorage storage,
                               const torch::Tensor& calib_ids) {
    LlamaModel student = fp.clone();
    spec.storage = storage;
    QuantizeModelOptions options;
    if (quant_method(spec.method).needs_calibration) options.calib_ids = calib_ids;
    quantize_model(student, spec, options);
    return student;
}

// Cross-entropy of next-token prediction, and the adapters' gradients after its backward.
std::vector<torch::Tensor> packed_test_adapter_gradients(LlamaModel& model, const torch::Tensor& ids) {
    LoraSet set = test::attach_drawn_lora(model);
    const auto logits = model.logits(ids); // (B, T, V)
    const int64_t V = logits.size(-1), T = ids.size(1);
    const auto loss = torch::nn::functional::cross_entropy(logits.slice(1, 0, T - 1).reshape({-1, V}),
                                                           ids.slice(1, 1, T).reshape({-1}));
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : set.parameters())
        grads.push_back(p.grad().clone());
    detach_lora(model, set);
    return grads;
}

// Expected bytes of one packed linear, from the shapes alone (the layout documented in
// packed_quant_weight.h): codes ceil(I*b/8) per row, then per method family its parameters.
int64_t expected_packed_bytes(const QuantSpec& s, int64_t O, int64_t I, int zero_bytes) {
    const int64_t codes = O * ((I * s.bits + 7) / 8);
    if (quant_method(s.method).grouping == GroupKind::FlatBlocks) {
        const int64_t NB = (O * I + s.group_size - 1) / s.group_size;
        auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
        // absmax f32, or double-quantized: uint8 code per block + f32 scale per 256 blocks + mean;
        // ICQ's tau as IR-QLoRA stores it: uint8 code per block + f32 tau2 per super-block.
        const int64_t absmax = s.double_quant ? NB + ceil_div(NB, s.double_quant_block) * 4 + 4 : NB * 4;
        const int64_t offsets = s.method != "icq-nf"    ? 0
                                : s.icq_quantize_offset ? NB + ceil_div(NB, s.icq_superblock) * 4
                                                        : NB * 4;
        return codes + (int64_t{1} << s.bits) * 4 + absmax + offsets;
    }
    const int64_t gs = s.group_size > 0 ? s.group_size : I;
    const int64_t G = (I + gs - 1) / gs;
    // g_idx is stored only where act-order with dynamic groups makes it irregular.
    const int64_t g_idx = s.gptq_act_order && !s.gptq_static_groups ? I * 4 : 0;
    return codes + O * G * (4 + zero_bytes) + g_idx;
}

void check_packed_equals_dense(const LlamaModel& fp, const PackedCase& c, const torch::Tensor& ids) {
    LlamaModel dense = packed_test_student(fp, c.spec, QuantStorage::Dense, ids);
    LlamaModel packed = packed_test_student(fp, c.spec, QuantStorage::Packed, ids);
    const char* label = c.label.c_str();
    int64_t bytes = 0, expected = 0;
    for (const auto& name : fp.linear_names()) {
        const Linear& d = dense.linear(name);
        const Linear& p = packed.linear(name);
        QVERIFY2(p.packed != nullptr && !p.weight.defined(), (c.label + " " + name).c_str());
        QVERIFY2(torch::equal(d.weight, p.dense_weight()), (c.label + " " + name).c_str());
        bytes += p.weight_bytes();
        // Zero points take a byte unless one falls outside [0, 255]: below 8 bits these grids'
        // zeros lie in [0, 2^b - 1] (OmniQuant's too, each group here holding both signs).
        const auto* q = dynamic_cast<const PackedQuantWeight*>(p.packed.get());
        QVERIFY2(q != nullptr, label);
        if (q->zero_bytes() != 0 && c.spec.bits < 8)
            QVERIFY2(q->zero_bytes() == 1, (c.label + " " + name).c_str());
        expected += expected_packed_bytes(c.spec, d.out_features(), d.in_features(), q->zero_bytes());
    }
    QVERIFY2(bytes == expected,
             (c.label + ": " + std::to_string(bytes) + " vs " + std::to_string(expected)).c_str());
    {
        torch::NoGradGuard no_grad;
        QVERIFY2(torch::equal(dense.logits(ids), packed.logits(ids)), label);
    }
    const auto dense_grads = packed_test_adapter_gradients(dense, ids);
    const auto packed_grads = packed_test_adapter_gradients(packed, ids);
    QCOMPARE(packed_grads.size(), dense_grads.size());
    for (size_t i = 0; i < dense_grads.size(); ++i)
        QVERIFY2(torch::equal(dense_grads[i], packed_grads[i]),
                 (c.label + " gradient " + std::to_string(i)).c_str());
    // One linear on its own: the gradient w.r.t. its input is the dense one.
    const std::string name = fp.linear_names().back(); // a down_proj: in_features is the MLP width
    auto gen = at::detail::createCPUGenerator(3);
    const auto x0 = torch::randn({2, 5, dense.linear(name).in_features()}, gen, torch::kFloat32);
    const auto r = torch::randn({2, 5, dense.linear(name).out_features()}, gen, torch::kFloat32);
    auto x_dense = x0.clone().requires_grad_(true), x_packed = x0.clone().requires_grad_(true);
    (dense.linear(name).forward(x_dense) * r).sum().backward();
    (packed.linear(name).forward(x_packed) * r).sum().backward();
    QVERIFY2(torch::equal(x_dense.grad(), x_packed.grad()), label);
}

} // namespace

class TestPackedLinear : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    // The documented layout: a row is one little-endian bit stream, 3-bit codes cross bytes.
    void bitLayout() {
        const auto two = pack_code_rows(torch::tensor({1, 2, 3, 0, 2}, torch::kUInt8).view({1, 5}), 2);
        QCOMPARE(test::float_values(two), (std::vector<float>{57, 2})); // 0b00111001, then code 2
        const auto three =
            pack_code_rows(torch::tensor({1, 2, 3, 4, 5, 6, 7, 0, 7, 5, 6}, torch::kUInt8).view({1, 11}), 3);
        QCOMPARE(three.size(1), int64_t{5}); // ceil(33 / 8)
        QCOMPARE(test::float_values(three), (std::vector<float>{209, 88, 31, 175, 1}));
        const auto four = pack_code_rows(torch::tensor({10, 5, 15}, torch::kUInt8).view({1, 3}), 4);
        QCOMPARE(test::float_values(four), (std::vector<float>{90, 15}));
    }

    // Every width 1..8 and awkward row lengths: unpack(pack(codes)) == codes, rows byte aligned.
    void bitPackingRoundTrip() {
        auto gen = at::detail::createCPUGenerator(11);
        for (int bits = 1; bits <= 8; ++bits) {
            for (int64_t cols : {1, 7, 8, 13, 64, 172}) {
                const auto codes =
                    torch::randint(0, 1 << bits, {3, cols}, gen, torch::kLong).to(torch::kUInt8);
                const auto packed = pack_code_rows(codes, bits);
                QCOMPARE(packed.size(1), (cols * bits + 7) / 8);
                std::vector<uint8_t> row(static_cast<size_t>(cols));
                for (int64_t r = 0; r < 3; ++r) {
                    unpack_code_row(packed[r].data_ptr<uint8_t>(), cols, bits, row.data());
                    const auto back = torch::from_blob(row.data(), {cols}, torch::kUInt8);
                    QVERIFY2(torch::equal(back, codes[r]),
                             (std::to_string(bits) + " bits, " + std::to_string(cols) + " cols").c_str());
                }
            }
        }
    }

    void packedEqualsDenseOnStories260K() {
        const LlamaModel fp = load_llama2c(test::shared_data("stories260K/stories260K.bin"));
        const auto ids = test::random_windows(2, 24, fp.config().vocab_size, 5);
        for (const auto& c : packed_cases())
            check_packed_equals_dense(fp, c, ids);
    }

    // GQA (6 query heads over 2 KV heads), an MLP width that no group size divides.
    void packedEqualsDenseOnRandomGqaModel() {
        LlamaConfig config;
        config.hidden_size = 96;
        config.intermediate_size = 200;
        config.num_hidden_layers = 2;
        config.num_attention_heads = 6;
        config.num_key_value_heads = 2;
        config.head_dim = 16;
        config.vocab_size = 128;
        config.max_position_embeddings = 64;
        const LlamaModel fp = LlamaModel::random(config, 9);
        const auto ids = test::random_windows(2, 24, config.vocab_size, 6);
        for (const auto& c : packed_cases())
            check_packed_equals_dense(fp, c, ids);
    }

    // 2-bit g64 RTN: 0.25 B of codes + (fp32 scale + uint8 zero) / 64 per weight; a zero outside
    // [0, 255] (OmniQuant's of an all-positive group is negative) keeps int16 zeros, still exact.
    void bytesPerParameter() {
        auto gen = at::detail::createCPUGenerator(4);
        const auto w = torch::randn({128, 256}, gen, torch::kFloat32);
        QuantSpec spec;
        const QuantResult result = quantize_weight(w, spec, "w");
        QVERIFY(result.zeros.min().item<float>() >= 0.0f && result.zeros.max().item<float>() <= 3.0f);
        const auto packed = PackedQuantWeight::pack(result);
        const PackedBytes b = packed->bytes();
        QCOMPARE(b.codes, int64_t{128 * 256 / 4});
        QCOMPARE(b.parameters, int64_t{128 * 4 * 5});
        const double per_weight = static_cast<double>(b.total()) / static_cast<double>(w.numel());
        qInfo("rtn w2 g64: %.5f bytes per weight (codes 0.25 + params %.5f); dense fp32 4", per_weight,
              static_cast<double>(b.parameters) / static_cast<double>(w.numel()));
        QVERIFY(per_weight == 0.25 + 5.0 / 64.0); // exact in binary
        QVERIFY(torch::equal(dequantize_packed(*packed), result.dequantized));

        auto shifted = w.clone();
        shifted.narrow(0, 0, 1).narrow(1, 0, 64).abs_().add_(1.0f); // row 0, group 0: all positive
        const QuantResult negative = quantize_weight(shifted, spec, "w");
        QVERIFY(negative.zeros[0][0].item<float>() < 0.0f);
        const auto wide = PackedQuantWeight::pack(negative);
        QCOMPARE(wide->bytes().parameters, int64_t{128 * 4 * 6});
        QVERIFY(torch::equal(dequantize_packed(*wide), negative.dequantized));
    }

    // A RILQ run on the packed student follows the dense student's curve exactly.
    void trainingCurveEqualsDense() {
        const LlamaModel teacher = load_llama2c(test::shared_data("stories260K/stories260K.bin"));
        const auto train_ids = test::sample_windows(teacher, 8, 24, 1);
        const auto val_ids = test::sample_windows(teacher, 4, 24, 2);
        TrainConfig config;
        config.lora.r = 4;
        config.lora.alpha = 8.0;
        config.approx_lr = 1e-3;
        config.approx_batch_size = 4;
        config.gradient_accumulation_steps = 1;
        config.approx_total_steps = 6;
        config.approx_eval_steps = 3;
        config.approx_early_stop = false;
        const CachedTargets targets = cache_teacher_targets(teacher, train_ids, val_ids, config);
        QuantSpec spec;
        std::vector<std::vector<TrainEvent>> curves;
        std::vector<AdapterState> finals;
        for (QuantStorage storage : {QuantStorage::Dense, QuantStorage::Packed}) {
            LlamaModel student = packed_test_student(teacher, spec, storage, {});
            std::vector<TrainEvent> events;
            TrainerOptions options;
            options.on_event = [&](const TrainEvent& e) { events.push_back(e); };
            const auto r = train_on_targets(student, targets, train_ids, val_ids, config, options);
            curves.push_back(events);
            finals.push_back(r.adapters.snapshot());
        }
        QCOMPARE(curves[1].size(), curves[0].size());
        int updates = 0;
        for (size_t i = 0; i < curves[0].size(); ++i) {
            const TrainEvent &d = curves[0][i], &p = curves[1][i];
            QCOMPARE(static_cast<int>(p.kind), static_cast<int>(d.kind));
            if (d.kind == TrainEventKind::Update) {
                ++updates;
                QVERIFY2(p.t_loss == d.t_loss,
                         (std::to_string(p.t_loss) + " vs " + std::to_string(d.t_loss)).c_str());
            }
            if (d.kind == TrainEventKind::Validation)
                QVERIFY2(p.v_loss == d.v_loss,
                         (std::to_string(p.v_loss) + " vs " + std::to_string(d.v_loss)).c_str());
        }
        QCOMPARE(updates, 6);
        for (const auto& [name, t] : finals[0])
            QVERIFY2(torch::equal(t, finals[1].at(name)), name.c_str());
    }

    // Merging adapters into a packed linear makes it dense, with the dense student's values.
    void mergeMakesPackedLinearDense() {
        const LlamaModel fp = LlamaModel::random(test::tiny_llama_config(), 2);
        LlamaModel dense = packed_test_student(fp, {}, QuantStorage::Dense, {});
        LlamaModel packed = packed_test_student(fp, {}, QuantStorage::Packed, {});
        LoraSet a = test::attach_drawn_lora(dense), b = test::attach_drawn_lora(packed);
        merge_lora(dense, a);
        merge_lora(packed, b);
        for (const auto& name : fp.linear_names()) {
            QVERIFY(!packed.linear(name).packed);
            QVERIFY2(torch::equal(dense.linear(name).weight, packed.linear(name).weight), name.c_str());
        }
    }

    void badInput() {
        test::expect_error([] { PackedQuantWeight::pack(QuantResult{}); }, {"pack weight", "no codes"});
        test::expect_error(
            [] {
                pack_code_rows(torch::full({1, 3}, 4, torch::kUInt8), 2);
            },
            {"code 4 at [0, 0]", "does not fit in 2 bits"});
        QuantSpec spec;
        nlohmann::json j = quant_spec_json(spec);
        j["storage"] = "sparse";
        test::expect_error([&] { quant_spec_from_json(j, "$.quant"); },
                           {"$.quant.storage", "\"dense\"", "sparse"});
        j["storage"] = "packed";
        QVERIFY(quant_spec_from_json(j, "$.quant").storage == QuantStorage::Packed);
    }
};

RILQ_TEST_APPLESS_MAIN(TestPackedLinear)
#include "test_packed_linear.moc"
