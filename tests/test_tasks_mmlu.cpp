// MMLU as IR-QLoRA's evaluate_mmlu.py runs it (core/eval/tasks/mmlu.h), against
// shared/data/mmlu/PROTOCOL.md's reference prompts and tests/reference/tasks_reference.py:
// prompts byte for byte, shots dropped and long prompts truncated where the reference does it,
// per-question probabilities to 1e-4 on stories260K (512-token context) and on a random model with
// the Llama-2 tokenizer at the full 2048-token limit, with and without prefix reuse; categories;
// and the one-line errors for a bad MMLU folder.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "core/eval/tasks/mmlu.h"
#include "core/eval/tasks/mmlu_categories.h"
#include "core/eval/tasks/task.h"
#include "core/io/model_loader.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/sha256.h"
#include "tests/support/task_fixture.h"
#include "tests/support/tiny_llama.h"

#include <torch/torch.h>

#include <filesystem>

using namespace rilq;
using nlohmann::json;
using test::error_of;
using test::mentions;
namespace fs = std::filesystem;

namespace {

constexpr double kMmluTolerance = 1e-4;

// tasks_reference.py hashed_uniform: (2u - 1) * scale, u = (lowbias32(i + salt * 0x9E3779B9) >> 8) / 2^24.
torch::Tensor hashed_uniform(uint32_t salt, std::vector<int64_t> shape, float scale, float offset) {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        uint32_t x = static_cast<uint32_t>(i) + salt * 0x9E3779B9u;
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        const float u = static_cast<float>(x >> 8) * (1.0f / 16777216.0f);
        values[static_cast<size_t>(i)] = (2.0f * u - 1.0f) * scale + offset;
    }
    return torch::tensor(values).reshape(shape);
}

// The reference's random model: Llama-2 vocabulary, context 4096, weights from the hash.
LlamaModel hashed_llama2_vocab_model() {
    LlamaConfig c = test::tiny_llama_config(); // dim 32, 2 layers, 4 heads over 2 KV heads, FFN 64
    c.vocab_size = 32000;
    c.max_position_embeddings = 4096;
    std::map<std::string, torch::Tensor> s;
    uint32_t salt = 0;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset) {
        s[name] = hashed_uniform(salt++, std::move(shape), scale, offset);
    };
    add("model.embed_tokens.weight", {32000, 32}, 1.0f, 0.0f);
    for (int i = 0; i < 2; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        add(p + "input_layernorm.weight", {32}, 0.25f, 1.0f);
        add(p + "self_attn.q_proj.weight", {32, 32}, 0.5f, 0.0f);
        add(p + "self_attn.k_proj.weight", {16, 32}, 0.5f, 0.0f);
        add(p + "self_attn.v_proj.weight", {16, 32}, 0.25f, 0.0f);
        add(p + "self_attn.o_proj.weight", {32, 32}, 0.25f, 0.0f);
        add(p + "post_attention_layernorm.weight", {32}, 0.25f, 1.0f);
        add(p + "mlp.gate_proj.weight", {64, 32}, 0.25f, 0.0f);
        add(p + "mlp.up_proj.weight", {64, 32}, 0.25f, 0.0f);
        add(p + "mlp.down_proj.weight", {32, 64}, 0.25f, 0.0f);
    }
    add("model.norm.weight", {32}, 0.25f, 1.0f);
    add("lm_head.weight", {32000, 32}, 0.5f, 0.0f);
    return LlamaModel(c, s, {}, "hashed random model");
}

TaskSpec mmlu_spec(const json& section) {
    TaskSpec spec;
    spec.name = "mmlu";
    spec.path = test::shared_data("mmlu");
    spec.limit = section["limit"].get<int64_t>();
    spec.subjects = section["subjects"].get<std::vector<std::string>>();
    return spec;
}

// Compares every item with the reference; returns the largest probability difference.
double compare_items(const TaskResult& result, const json& expected) {
    if (result.items.size() != expected.size()) return 1e30;
    double worst = 0.0;
    for (size_t i = 0; i < expected.size(); ++i) {
        const ItemRecord& got = result.items[i];
        const json& want = expected[i];
        const std::string where = want["id"].get<std::string>();
        if (got.id != where || got.shots != want["shots"].get<int64_t>() ||
            got.prompt_tokens != want["prompt_tokens"].get<int64_t>() ||
            got.truncated != want["truncated"].get<bool>() || got.gold != want["gold"].get<int64_t>())
            qFatal("item %s differs: id %s shots %lld tokens %lld truncated %d", where.c_str(),
                   got.id.c_str(), static_cast<long long>(got.shots),
                   static_cast<long long>(got.prompt_tokens), got.truncated ? 1 : 0);
        for (size_t j = 0; j < 4; ++j)
            worst = std::max(worst, std::abs(got.scores[j] - want["probs"][j].get<double>()));
        if (got.pred != want["pred"].get<int64_t>()) {
            // Only a near tie may flip the argmax.
            const double gap = std::abs(want["probs"][static_cast<size_t>(got.pred)].get<double>() -
                                        want["probs"][want["pred"].get<size_t>()].get<double>());
            if (gap > 2 * kMmluTolerance) qFatal("item %s: prediction differs", where.c_str());
        }
    }
    return worst;
}

void write_mmlu_subject(const std::string& dir, const std::string& subject, const std::string& dev,
                        const std::string& test_rows) {
    fs::create_directories(dir + "/dev");
    fs::create_directories(dir + "/test");
    if (!dev.empty()) test::write_file(dir + "/dev/" + subject + "_dev.csv", dev);
    test::write_file(dir + "/test/" + subject + "_test.csv", test_rows);
}

} // namespace

class TestTasksMmlu : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void protocolPromptsReproduceBytesTokensSha() {
        // shared/data/mmlu/PROTOCOL.md, "Reference values": Llama-2 tokenizer, BOS counted.
        const auto tokenizer = load_tokenizer(test::shared_data("llama2-tokenizer/tokenizer.model"));
        QCOMPARE(mmlu_letter_ids(*tokenizer), (std::vector<int64_t>{319, 350, 315, 360}));
        const MmluData data =
            read_mmlu(test::shared_data("mmlu"), 5, 1,
                      {"abstract_algebra", "college_mathematics", "high_school_european_history"});
        struct Want {
            int64_t shots;
            size_t bytes;
            size_t tokens;
            const char* sha256;
        };
        const Want want[] = {
            {5, 994, 368, "da2912d4e148f4edca160fef6e2223e5a198274da16b2bdca2a16695df8b77de"},
            {5, 1808, 654, "387f73486aed261573cadf56f1e58cb29190547754400dc388486f869449e989"},
            {3, 7985, 1890, "cbd738f56d72a9a82f1bfac2052033b1bac4f33db4705cd29caa04959b77b8e0"}};
        for (size_t s = 0; s < 3; ++s) {
            const MmluPrompt p = fit_mmlu_prompt(*tokenizer, data.subjects[s], 0, 5, kMmluMaxLength, true);
            const std::string text = mmlu_prefix(data.subjects[s], p.shots) +
                                     mmlu_format_example(data.subjects[s].questions[0], false);
            QCOMPARE(p.shots, want[s].shots);
            QCOMPARE(text.size(), want[s].bytes);
            QCOMPARE(p.ids.size(), want[s].tokens);
            QCOMPARE(sha256_hex(text), std::string(want[s].sha256));
            QVERIFY(!p.truncated);
        }
        // The header's two spaces, and the start PROTOCOL.md quotes.
        QVERIFY(
            mmlu_prefix(data.subjects[0], 1)
                .rfind("The following are multiple choice questions (with answers) about  abstract "
                       "algebra.\n\nFind all c "
                       "in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n",
                       0) == 0);
        // college_mathematics dev row 2 carries CR bytes into every prompt of the subject.
        QVERIFY(mmlu_prefix(data.subjects[1], 5).find("\r\n") != std::string::npos);
    }

    void noneCellsPrintNan() {
        // PROTOCOL.md: under pandas 2.x the literal option "None" is NaN and prints "nan".
        const MmluData data =
            read_mmlu(test::shared_data("mmlu"), 5, 0, {"college_mathematics", "electrical_engineering"});
        QCOMPARE(data.subjects[0].questions[8].cells[1], std::string("nan"));
        QCOMPARE(data.subjects[0].questions[21].cells[1], std::string("nan"));
        QCOMPARE(data.subjects[1].questions[41].cells[4], std::string("nan"));
        QVERIFY(mmlu_format_example(data.subjects[0].questions[8], false).find("\nA. nan\nB. ") !=
                std::string::npos);
    }

    void stories260kMatchesReference() {
        const json ref = test::tasks_reference()["mmlu_stories260K"];
        const auto model = load_model(test::shared_data("stories260K/stories260K.bin"));
        const auto tokenizer = find_tokenizer(test::shared_data("stories260K/stories260K.bin"));
        QCOMPARE(mmlu_letter_ids(*tokenizer), ref["letter_ids"].get<std::vector<int64_t>>());
        const auto task = load_task(mmlu_spec(ref));
        for (const bool reuse : {true, false}) {
            TaskRunOptions options;
            options.prefix_reuse = reuse;
            options.batch_size = reuse ? 8 : 1;
            const TaskResult r = task->evaluate(model, *tokenizer, options);
            const double worst = compare_items(r, ref["items"]);
            QVERIFY2(worst < kMmluTolerance,
                     (std::string(reuse ? "reuse" : "plain") + ": " + std::to_string(worst)).c_str());
            QCOMPARE(r.protocol.max_length, int64_t{512});
            QCOMPARE(r.protocol.n_truncated, int64_t{21});
            QCOMPARE(r.protocol.n_items, int64_t{66});
            QCOMPARE(r.protocol.bos_rule, std::string("bos"));
            QCOMPARE(r.protocol.files.size(), size_t{6});
            QCOMPARE(r.protocol.files[0].first, std::string("dev/abstract_algebra_dev.csv"));
        }
    }

    void promptTextMatchesReference() {
        const json ref = test::tasks_reference()["mmlu_stories260K"];
        const auto tokenizer = find_tokenizer(test::shared_data("stories260K/stories260K.bin"));
        const MmluData data = read_mmlu(test::shared_data("mmlu"), 5, ref["limit"].get<int64_t>(),
                                        ref["subjects"].get<std::vector<std::string>>());
        size_t i = 0;
        for (const MmluSubject& s : data.subjects)
            for (size_t q = 0; q < s.questions.size(); ++q, ++i) {
                const json& want = ref["items"][i];
                const MmluPrompt p = fit_mmlu_prompt(*tokenizer, s, q, 5, 512, true);
                QCOMPARE(p.shots, want["shots"].get<int64_t>());
                if (want["prompt_sha256"].is_null()) continue; // truncated: only ids exist
                QCOMPARE(sha256_hex(mmlu_prefix(s, p.shots) + mmlu_format_example(s.questions[q], false)),
                         want["prompt_sha256"].get<std::string>());
            }
        QCOMPARE(i, ref["items"].size());
    }

    void llama2VocabModelAtThe2048Limit() {
        const json ref = test::tasks_reference()["mmlu_random_llama2_vocab"];
        const auto probe = hashed_uniform(0, {4}, 1.0f, 0.0f);
        for (int64_t i = 0; i < 4; ++i)
            QCOMPARE(static_cast<double>(probe[i].item<float>()),
                     ref["probe"][static_cast<size_t>(i)].get<double>());
        const LlamaModel model = hashed_llama2_vocab_model();
        const auto tokenizer = load_tokenizer(test::shared_data("llama2-tokenizer/tokenizer.model"));
        const auto task = load_task(mmlu_spec(ref));
        for (const bool reuse : {true, false}) {
            TaskRunOptions options;
            options.prefix_reuse = reuse;
            const TaskResult r = task->evaluate(model, *tokenizer, options);
            const double worst = compare_items(r, ref["items"]);
            QVERIFY2(worst < kMmluTolerance,
                     (std::string(reuse ? "reuse" : "plain") + ": " + std::to_string(worst)).c_str());
            QCOMPARE(r.protocol.max_length, kMmluMaxLength);
            QCOMPARE(r.protocol.n_fewer_shots, int64_t{4});
        }
    }

    void categoriesAreCategoriesJson() {
        const json shared = json::parse(test::read_file(test::shared_data("mmlu/categories.json")));
        QCOMPARE(mmlu_subcategories().size(), shared["subcategories"].size());
        for (const auto& [subject, sub] : mmlu_subcategories())
            QCOMPARE(sub, shared["subcategories"][subject].get<std::string>());
        // The category order is the file's (categories.py's): STEM, humanities, social sciences, other.
        const auto ordered =
            nlohmann::ordered_json::parse(test::read_file(test::shared_data("mmlu/categories.json")));
        QCOMPARE(mmlu_categories().size(), ordered["categories"].size());
        size_t i = 0;
        for (const auto& [category, subs] : ordered["categories"].items()) {
            QCOMPARE(mmlu_categories()[i].first, category);
            QCOMPARE(mmlu_categories()[i].second, subs.get<std::vector<std::string>>());
            ++i;
        }
        QCOMPARE(mmlu_subject_names(test::shared_data("mmlu")).size(), size_t{57});
    }

    void groupScoresAreMicroAverages() {
        // Categories and the overall number average questions, not subjects (evaluate_mmlu.py l. 422-434).
        const auto model = load_model(test::shared_data("stories260K/stories260K.bin"));
        const auto tokenizer = find_tokenizer(test::shared_data("stories260K/stories260K.bin"));
        TaskSpec spec = parse_task_spec("mmlu=" + test::shared_data("mmlu"));
        spec.subjects = {"abstract_algebra", "college_physics", "global_facts"};
        spec.limit = 3;
        spec.shots = 1;
        const TaskResult r = load_task(spec)->evaluate(model, *tokenizer, {});
        QCOMPARE(r.n, int64_t{9});
        QCOMPARE(r.protocol.shots, int64_t{1});
        double correct = 0;
        for (const ItemRecord& item : r.items)
            correct += item.pred == item.gold ? 1 : 0;
        QVERIFY(std::abs(r.acc - correct / 9.0) < 1e-12);
        QCOMPARE(r.subjects.size(), size_t{3});
        QCOMPARE(r.categories.size(), size_t{2}); // STEM (math, physics), other (other)
        QCOMPARE(r.categories[0].name, std::string("STEM"));
        QCOMPARE(r.categories[0].n, int64_t{6});
        QVERIFY(std::abs(r.categories[0].acc - (r.subjects[0].acc * 3 + r.subjects[1].acc * 3) / 6.0) <
                1e-12);
        QCOMPARE(r.subcategories[0].name, std::string("physics"));
    }

    void badInputNamesFileAndLine() {
        const std::string dir = test::make_temp_dir("mmlu-bad");
        const std::string dev = "q1,a,b,c,d,A\nq2,a,b,c,d,B\n";
        write_mmlu_subject(dir, "toy", dev, "q,a,b,c,d,A\n\"two\nlines\",a,b,c,d,E\n");
        std::string m = error_of([&] { (void)read_mmlu(dir, 2, 0, {}); });
        QVERIFY2(mentions(m, {dir + "/test/toy_test.csv:2", "answer \"E\""}), m.c_str());
        write_mmlu_subject(dir, "toy", dev, "q,a,b,c,d,A\nq,a,b,c,A\n");
        m = error_of([&] { (void)read_mmlu(dir, 2, 0, {}); });
        QVERIFY2(mentions(m, {dir + "/test/toy_test.csv:2", "5 fields, expected 6"}), m.c_str());
        write_mmlu_subject(dir, "toy", dev, "q,a,b,c,d,A\n");
        m = error_of([&] { (void)read_mmlu(dir, 5, 0, {}); });
        QVERIFY2(mentions(m, {dir + "/dev/toy_dev.csv", "2 rows, fewer than 5 shots"}), m.c_str());
        write_mmlu_subject(dir, "other", "", "q,a,b,c,d,A\n");
        m = error_of([&] { (void)read_mmlu(dir, 2, 0, {}); });
        QVERIFY2(mentions(m, {dir + "/dev/other_dev.csv", "missing"}), m.c_str());
        m = error_of([&] { (void)read_mmlu(dir, 2, 0, {"tyo"}); });
        QVERIFY2(mentions(m, {"no subject \"tyo\"", "did you mean \"toy\""}), m.c_str());
        write_mmlu_subject(dir, "toy", dev, "None,a,b,c,d,A\n");
        m = error_of([&] { (void)read_mmlu(dir, 2, 0, {"toy"}); });
        QVERIFY2(mentions(m, {dir + "/test/toy_test.csv:1", "question cell"}), m.c_str());
        m = error_of([&] { (void)load_task(parse_task_spec("mmlu=" + dir + "/test/toy_test.csv")); });
        QVERIFY2(mentions(m, {"not a folder"}), m.c_str());
        m = error_of([&] { (void)parse_task_spec("mmul=" + dir); });
        QVERIFY2(mentions(m, {"unknown task \"mmul\"", "did you mean \"mmlu\""}), m.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestTasksMmlu)
#include "test_tasks_mmlu.moc"
