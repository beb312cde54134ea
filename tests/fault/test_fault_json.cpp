// Hostile JSON (issue 13, item 5): documents nested 100,000 levels deep crashed the process
// (recursive dump()/copies) and 50,000 levels gave 100 KB error lines. Nesting is now limited
// while parsing (core/util/json_read.h) for safetensors headers, config.json, experiment files
// and --set values, and values quoted in errors are clipped: one short line naming the file.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/fault/fault_support.h"
#include "tests/support/test_errors.h"

#include "core/eval/tasks/task_files.h"
#include "core/finetune/alpaca_data.h"
#include "core/io/safetensors.h"
#include "core/model/llama_config.h"
#include "core/run/experiment_config.h"
#include "core/util/json_read.h"

#include <cstdint>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

constexpr size_t kShortLine = 400; // an error a person reads, not a dump

std::string nested(size_t depth) {
    return "{\"a\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
}

// A safetensors file whose header is `header` and whose data area is empty.
void write_safetensors(const std::string& path, const std::string& header) {
    std::string bytes(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    test::write_file(path, bytes + header);
}

} // namespace

class TestFaultJson : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void deepSafetensorsHeader() {
        const std::string path = test::make_temp_dir("fault-json") + "/model.safetensors";
        write_safetensors(path, nested(100000));
        const std::string e = test::error_of([&] { SafetensorsFile file(path); });
        QVERIFY2(fault::contains(e, path) && fault::contains(e, "nested deeper than 64 levels"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
    }

    void deepConfigJson() {
        const std::string path = test::make_temp_dir("fault-json") + "/config.json";
        test::write_file(path, nested(100000));
        const std::string e = test::error_of([&] { LlamaConfig::from_file(path); });
        QVERIFY2(fault::contains(e, path) && fault::contains(e, "nested deeper"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
    }

    void deepExperimentFileAndSetValue() {
        const std::string path = test::make_temp_dir("fault-json") + "/deep.json";
        test::write_file(path, nested(100000));
        const std::string e = test::error_of([&] { run::parse_experiment_file(path); });
        QVERIFY2(fault::contains(e, path) && fault::contains(e, "nested deeper"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
        // --set values are JSON too.
        nlohmann::json doc = fault::tiny_experiment("set-test");
        const std::string deep_set = "rilq.lora_r=" + std::string(100000, '[') + std::string(100000, ']');
        const std::string s = test::error_of([&] { run::apply_override(doc, deep_set); });
        QVERIFY2(fault::contains(s, "nested deeper"), s.c_str());
        QVERIFY2(s.size() < kShortLine, s.c_str());
        // Depth 64 is fine (the limit is not off by one), 65 is not.
        QVERIFY(parse_json(std::string(64, '[') + std::string(64, ']'), "ok").is_array());
        QVERIFY_THROWS_EXCEPTION(JsonParseError,
                                 parse_json(std::string(65, '[') + std::string(65, ']'), "deep"));
    }

    // The data readers that came with fine-tuning and tasks: Alpaca files (an array or JSON
    // Lines) and task JSON Lines files are bounded the same way.
    void deepAlpacaAndTaskFiles() {
        const std::string dir = test::make_temp_dir("fault-json");
        const std::string deep_array = "[" + nested(100000) + "]";
        std::string e = test::error_of([&] { parse_alpaca_text(deep_array, dir + "/alpaca.json"); });
        QVERIFY2(fault::contains(e, dir + "/alpaca.json") && fault::contains(e, "nested deeper"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
        e = test::error_of([&] { parse_alpaca_text(nested(100000) + "\n", dir + "/alpaca.jsonl"); });
        QVERIFY2(fault::contains(e, "line 1") && fault::contains(e, "nested deeper"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
        // A string where text belongs is quoted clipped.
        std::string sevens;
        for (int i = 0; i < 50000; ++i)
            sevens += "7,";
        sevens += "7";
        e = test::error_of([&] {
            parse_alpaca_text("[{\"instruction\": [" + sevens + "], \"output\": \"o\"}]",
                              dir + "/alpaca.json");
        });
        QVERIFY2(fault::contains(e, "expected a string, found [7,7,7") && e.size() < kShortLine, e.c_str());

        test::write_file(dir + "/task.jsonl", "{\"question\": \"q\"}\n" + nested(100000) + "\n");
        e = test::error_of([&] { read_jsonl(dir + "/task.jsonl"); });
        QVERIFY2(fault::contains(e, dir + "/task.jsonl") && fault::contains(e, "nested deeper"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());
    }

    // Values quoted back in errors are clipped (they were dumped whole).
    void bigValuesInErrorsAreClipped() {
        const std::string dir = test::make_temp_dir("fault-json");
        std::string numbers = "[";
        for (int i = 0; i < 50000; ++i)
            numbers += std::to_string(i) + ",";
        numbers.back() = ']';
        write_safetensors(dir + "/meta.safetensors", "{\"__metadata__\": {\"format\": " + numbers + "}}");
        std::string e = test::error_of([&] { SafetensorsFile file(dir + "/meta.safetensors"); });
        QVERIFY2(fault::contains(e, "must be a string, found [0,1,2"), e.c_str());
        QVERIFY2(fault::contains(e, "more bytes)"), e.c_str());
        QVERIFY2(e.size() < kShortLine, e.c_str());

        test::write_file(dir + "/config.json", "{\"model_type\": \"llama\", \"hidden_size\": \"" +
                                                   std::string(1000000, 'x') + "\"}");
        e = test::error_of([&] { LlamaConfig::from_file(dir + "/config.json"); });
        QVERIFY2(fault::contains(e, "hidden_size") && e.size() < kShortLine, e.c_str());

        test::write_file(dir + "/broken.json",
                         "{\"a\": \"" + std::string(1000000, 'y')); // unterminated string
        e = test::error_of([&] { read_json_file(dir + "/broken.json"); });
        QVERIFY2(fault::contains(e, dir + "/broken.json") && e.size() < kShortLine, e.c_str());
    }

    // The real programs: one short line and exit 1, no crash.
    void theCliReportsDeepFilesInOneLine() {
        const std::string dir = test::make_temp_dir("fault-json-cli");
        test::write_file(dir + "/deep.json", nested(100000));
        auto r = fault::run_process(fault::rilq_binary(),
                                    {QStringLiteral("run"), QString::fromStdString(dir + "/deep.json"),
                                     QStringLiteral("--db"), QString::fromStdString(dir + "/runs.db")},
                                    60000);
        QVERIFY2(r.finished && !r.crashed, r.err.c_str());
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(fault::contains(r.err, "nested deeper") && r.err.size() < kShortLine, r.err.c_str());

        fs::create_directories(dir + "/model");
        test::write_file(dir + "/model/config.json", nested(100000));
        r = fault::run_process(fault::rilq_binary(),
                               {QStringLiteral("info"), QString::fromStdString(dir + "/model")}, 60000);
        QVERIFY2(r.finished && !r.crashed, r.err.c_str());
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(fault::contains(r.err, "nested deeper") && r.err.size() < kShortLine, r.err.c_str());
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultJson)
#include "test_fault_json.moc"
