// Zero-shot multiple choice as lm-evaluation-harness scores it (core/eval/tasks/multiple_choice.h),
// against tests/reference/tasks_reference.py on stories260K: per-choice log-likelihoods to 1e-4,
// greedy flags, token counts, acc / acc_norm and their stderr, for ARC-Easy, ARC-Challenge and PIQA
// (shared data; PIQA also with BOS), and HellaSwag, WinoGrande, BoolQ (small files in their
// original formats, tests/data/tasks). Also the result JSON, the per-item log and the task list.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/sample_log.h"
#include "core/eval/tasks/task.h"
#include "core/io/model_loader.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "tests/support/task_fixture.h"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <set>

using namespace rilq;
using nlohmann::json;
using test::error_of;
using test::mentions;

namespace {

// Relative to max(1, |log-likelihood|): a choice's score is a sum over its continuation's tokens
// (up to a few hundred nats on stories260K), and fp32 accumulation orders that differ from
// PyTorch's (head-parallel attention, fused RMSNorm, row-split GEMMs) grow with the sum. A wrong
// token, boundary or normalisation moves a score by far more than this.
constexpr double kChoiceTolerance = 1e-5;

struct Case {
    const char* fixture; // key in tasks_reference.json
    const char* task;
    std::string path;
};

std::vector<Case> cases() {
    return {{"arc_easy", "arc_easy", test::shared_data("tasks/arc/ARC-Easy-Test.jsonl")},
            {"arc_challenge", "arc_challenge", test::shared_data("tasks/arc")},
            {"piqa", "piqa", test::shared_data("tasks/piqa/valid.jsonl")},
            {"piqa_bos", "piqa", test::shared_data("tasks/piqa")},
            {"hellaswag", "hellaswag", test::test_data("tasks/hellaswag/hellaswag_val.jsonl")},
            {"winogrande", "winogrande", test::test_data("tasks/winogrande")},
            {"boolq", "boolq", test::test_data("tasks/boolq/val.jsonl")}};
}

struct Stories {
    LlamaModel model = load_model(test::shared_data("stories260K/stories260K.bin"));
    std::unique_ptr<Tokenizer> tokenizer = find_tokenizer(test::shared_data("stories260K/stories260K.bin"));
};

TaskResult run_case(const Stories& s, const Case& c, const json& ref, const TaskRunOptions& options) {
    TaskSpec spec = parse_task_spec(std::string(c.task) + "=" + c.path);
    spec.limit = ref["summary"]["n"].get<int64_t>();
    if (ref["bos"].get<bool>()) spec.bos = true;
    return load_task(spec)->evaluate(s.model, *s.tokenizer, options);
}

// Largest |ll - reference| over all choices; fails on any other difference.
double compare_docs(const TaskResult& r, const json& ref, bool has_norm) {
    const json& docs = ref["docs"];
    if (r.items.size() != docs.size()) qFatal("%zu items, reference %zu", r.items.size(), docs.size());
    double worst = 0.0;
    for (size_t i = 0; i < docs.size(); ++i) {
        const ItemRecord& got = r.items[i];
        const json& want = docs[i];
        const std::string id = want["id"].get<std::string>();
        if (got.id != id || got.gold != want["gold"].get<int64_t>() ||
            got.prompt_tokens != want["prompt_tokens"].get<int64_t>() ||
            got.continuation_tokens != want["continuation_tokens"].get<std::vector<int64_t>>() ||
            got.is_greedy != want["is_greedy"].get<std::vector<bool>>())
            qFatal("doc %s: id, gold, token counts or greedy flags differ", id.c_str());
        for (size_t j = 0; j < got.scores.size(); ++j) {
            const double expected = want["loglikelihoods"][j].get<double>();
            worst = std::max(worst, std::abs(got.scores[j] - expected) / std::max(1.0, std::abs(expected)));
        }
        if (got.pred != want["pred"].get<int64_t>()) qFatal("doc %s: prediction differs", id.c_str());
        if (has_norm && got.pred_norm != want["pred_norm"].get<int64_t>())
            qFatal("doc %s: acc_norm prediction differs", id.c_str());
    }
    const json& sum = ref["summary"];
    if (std::abs(r.acc - sum["acc"].get<double>()) > 1e-12 ||
        std::abs(r.acc_stderr - sum["acc_stderr"].get<double>()) > 1e-12)
        qFatal("acc or its stderr differs");
    if (has_norm && (std::abs(r.acc_norm - sum["acc_norm"].get<double>()) > 1e-12 ||
                     std::abs(r.acc_norm_stderr - sum["acc_norm_stderr"].get<double>()) > 1e-12))
        qFatal("acc_norm or its stderr differs");
    if (!has_norm && !std::isnan(r.acc_norm)) qFatal("a task without acc_norm reports one");
    return worst;
}

} // namespace

class TestTasksMultipleChoice : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void loglikelihoodsMatchReference_data() {
        QTest::addColumn<int>("index");
        const auto all = cases();
        for (size_t i = 0; i < all.size(); ++i)
            QTest::newRow(all[i].fixture) << static_cast<int>(i);
    }

    void loglikelihoodsMatchReference() {
        QFETCH(int, index);
        static const Stories stories;
        static const json reference = test::tasks_reference()["multiple_choice_stories260K"];
        const Case c = cases()[static_cast<size_t>(index)];
        const json& ref = reference[c.fixture];
        const bool has_norm = task_info(c.task).has_acc_norm;
        const TaskResult r = run_case(stories, c, ref, {});
        const double worst = compare_docs(r, ref, has_norm);
        QVERIFY2(worst < kChoiceTolerance, std::to_string(worst).c_str());
        QCOMPARE(r.protocol.bos_rule, std::string(ref["bos"].get<bool>() ? "bos" : "none"));
        QCOMPARE(r.protocol.max_length, int64_t{512});
        QCOMPARE(r.protocol.n_items, ref["summary"]["n"].get<int64_t>());
        QVERIFY(!r.protocol.data_sha256.empty());
        if (index == 0) { // the same numbers without prefix reuse, one choice per forward
            TaskRunOptions plain;
            plain.prefix_reuse = false;
            plain.batch_size = 1;
            QVERIFY(compare_docs(run_case(stories, c, ref, plain), ref, has_norm) < kChoiceTolerance);
        }
    }

    void continuationLongerThanTheContext() {
        // PIQA doc 314 has a 624-token choice for stories260K's 512-token context: the last 512
        // continuation tokens are scored, each predicted from the window before it (checked here
        // against one plain forward over the last 513 tokens), and the item is counted.
        const Stories s;
        McData data = read_piqa(test::shared_data("tasks/piqa/valid.jsonl"));
        data.docs = {data.docs.at(314)};
        TaskSpec spec = parse_task_spec("piqa=" + test::shared_data("tasks/piqa"));
        const TaskResult r =
            make_multiple_choice_task(task_info("piqa"), spec, data)->evaluate(s.model, *s.tokenizer, {});
        QCOMPARE(r.protocol.n_truncated, int64_t{1});
        QCOMPARE(nlohmann::json(r.protocol)["n_truncated"].get<int64_t>(), int64_t{1}); // stored with it
        const ItemRecord& item = r.items.at(0);
        QVERIFY(item.truncated);
        const int64_t context = s.model.config().max_position_embeddings; // 512
        bool cut = false;
        for (size_t j = 0; j < data.docs[0].requests.size(); ++j) {
            const McRequest& req = data.docs[0].requests[j];
            const EncodedPair pair = encode_pair(*s.tokenizer, req.context, req.continuation, false);
            std::vector<int64_t> whole = pair.context;
            whole.insert(whole.end(), pair.continuation.begin(), pair.continuation.end());
            const auto n = static_cast<int64_t>(whole.size());
            const int64_t start = std::max<int64_t>(0, n - context - 1);
            const std::vector<int64_t> window(whole.begin() + start, whole.end());
            const auto scored = std::min<int64_t>(static_cast<int64_t>(pair.continuation.size()), context);
            cut = cut || static_cast<int64_t>(pair.continuation.size()) > context;
            QCOMPARE(item.continuation_tokens[j], scored);
            const auto input =
                torch::tensor(std::vector<int64_t>(window.begin(), window.end() - 1)).unsqueeze(0);
            const auto logp = torch::log_softmax(s.model.logits(input)[0].to(torch::kFloat64), -1);
            const auto w = static_cast<int64_t>(window.size());
            double want = 0.0;
            for (int64_t t = w - scored; t < w; ++t)
                want += logp[t - 1][window[static_cast<size_t>(t)]].item<double>();
            QVERIFY2(std::abs(item.scores[j] - want) / std::max(1.0, std::abs(want)) < kChoiceTolerance,
                     (std::to_string(item.scores[j]) + " vs " + std::to_string(want)).c_str());
        }
        QVERIFY(cut);
    }

    void encodePairMovesTrailingSpace() {
        const auto tokenizer = load_tokenizer(test::shared_data("llama2-tokenizer/tokenizer.model"));
        // "Answer: " + "A": the space goes to the continuation, whose ids are cut from the joint string.
        const EncodedPair p = encode_pair(*tokenizer, "Answer: ", "A", false);
        QCOMPARE(p.context, tokenizer->encode("Answer:", false));
        QCOMPARE(p.continuation, (std::vector<int64_t>{319})); // "▁A"
        const EncodedPair b = encode_pair(*tokenizer, "Answer:", " A", true);
        QCOMPARE(b.context.front(), int64_t{1});
        QCOMPARE(b.continuation, (std::vector<int64_t>{319}));
        const EncodedPair empty = encode_pair(*tokenizer, "  ", "yes", false);
        QCOMPARE(empty.context, (std::vector<int64_t>{1})); // lm-eval: [prefix_token_id]
    }

    void resultJsonAndSampleLog() {
        static const Stories stories;
        TaskSpec arc = parse_task_spec("arc_easy=" + test::shared_data("tasks/arc/ARC-Easy-Test.jsonl"));
        arc.limit = 3;
        TaskSpec mmlu = parse_task_spec("mmlu=" + test::shared_data("mmlu"));
        mmlu.limit = 2;
        mmlu.subjects = {"virology"};
        const std::vector<TaskResult> results = {
            load_task(arc)->evaluate(stories.model, *stories.tokenizer, {}),
            load_task(mmlu)->evaluate(stories.model, *stories.tokenizer, {})};
        const json j = results[0];
        QCOMPARE(j["task"].get<std::string>(), std::string("arc_easy"));
        QCOMPARE(j["n"].get<int64_t>(), int64_t{3});
        QVERIFY(j["acc_norm"].is_number());
        QCOMPARE(
            j["protocol"]["data_sha256"].get<std::string>(),
            std::string("ce32a0774b4beb1977d2c6b16dda5dd2b24fdc9c7f506882c452678676bd09be")); // PROVENANCE.md
        const json m = results[1];
        QVERIFY(m["acc_norm"].is_null());
        QCOMPARE(m["categories"][0]["name"].get<std::string>(), std::string("other"));
        QCOMPARE(m["protocol"]["subjects"][0].get<std::string>(), std::string("virology"));

        const std::string file = test::make_temp_dir("sample-log") + "/samples.jsonl";
        write_sample_log(file, results);
        std::ifstream in(file);
        std::vector<json> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(json::parse(line));
        QCOMPARE(lines.size(), size_t{5});
        QCOMPARE(lines[0]["task"].get<std::string>(), std::string("arc_easy"));
        QCOMPARE(lines[0]["id"].get<std::string>(), results[0].items[0].id);
        QCOMPARE(lines[0]["loglikelihoods"].size(), size_t{4});
        QVERIFY(lines[0].contains("acc_norm"));
        QCOMPARE(lines[3]["id"].get<std::string>(), std::string("virology/0"));
        QCOMPARE(lines[3]["probs"].size(), size_t{4});
        QVERIFY(lines[3].contains("shots") && lines[3].contains("truncated"));
    }

    void taskListIsTheOneSource() {
        std::set<std::string> names;
        for (const TaskInfo& info : task_infos()) {
            QVERIFY(names.insert(info.name).second);
            QCOMPARE(task_info(info.name).name, info.name);
        }
        QCOMPARE(names, (std::set<std::string>{"mmlu", "arc_easy", "arc_challenge", "piqa", "hellaswag",
                                               "winogrande", "boolq"}));
        std::string m = error_of([] { (void)parse_task_spec("arc_easy"); });
        QVERIFY2(mentions(m, {"NAME=PATH"}), m.c_str());
        TaskSpec spec = parse_task_spec("piqa=" + test::shared_data("tasks/piqa"));
        spec.shots = 5;
        m = error_of([&] { (void)load_task(spec); });
        QVERIFY2(mentions(m, {"piqa", "zero-shot"}), m.c_str());
        m = error_of([&] { (void)load_task(parse_task_spec("boolq=/no/such/val.jsonl")); });
        QVERIFY2(mentions(m, {"boolq", "/no/such/val.jsonl"}), m.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestTasksMultipleChoice)
#include "test_tasks_multiple_choice.moc"
