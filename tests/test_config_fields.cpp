// The settings-table machinery every config struct uses (core/util/config_fields.h): each builder
// reads what it accepts into its member, refuses the rest with the message the experiment
// reference promises, writes the member back as the value it read; nested members, named
// entries, unknown keys and problem paths.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "core/util/config_fields.h"

using namespace rilq::config;

// Plain `at` would be ambiguous with LibTorch's namespace ::at (the tests' precompiled header).
constexpr auto config_at = [](auto... members) { return rilq::config::at(members...); };

namespace {

enum class Colour { Red, Green };

const EnumNames<Colour>& colour_names() {
    static const EnumNames<Colour> names = {{Colour::Red, "red"}, {Colour::Green, "green"}};
    return names;
}

struct Task {
    std::string path;
    int64_t shots = 0;
};

struct Inner {
    double rate = 0.5;
};

struct Settings {
    int64_t count = 3;
    uint64_t seed = 42;
    Inner inner;
    bool on = false;
    Colour colour = Colour::Red;
    std::vector<std::string> items = {"a"};
    std::vector<Colour> palette = {Colour::Red};
    std::map<std::string, Task> tasks;
};

std::vector<Field<Task>> task_fields() {
    return {text<Task>("path", config_at(&Task::path), non_empty_text),
            integer<Task>("shots", config_at(&Task::shots), 0, 25)};
}

std::vector<Field<Settings>> fields() {
    using S = Settings;
    return {
        integer<S>("count", config_at(&S::count), 1, 10),
        integer<S>("seed", config_at(&S::seed), 0, kInt64Max),
        lift<S>(number<Inner>("rate", config_at(&Inner::rate), 0, 1, false, true), config_at(&S::inner)),
        boolean<S>("on", config_at(&S::on)),
        choice<S>("colour", config_at(&S::colour), colour_names()),
        text_list<S>("items", config_at(&S::items), {"a", "b"}, false),
        choice_list<S>("palette", config_at(&S::palette), colour_names()),
        entries<S>("tasks", config_at(&S::tasks), task_fields(), "{path, shots}"),
    };
}

std::string read_one(const std::string& key, const json& value) {
    Settings s;
    const auto problems = read_fields(fields(), json{{key, value}}, s, "$");
    return problems.empty() ? std::string() : problems.front().text();
}

} // namespace

class TestConfigFields : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void values_round_trip() {
        const json doc = json::parse(R"({"count": 7, "seed": 9223372036854775807, "rate": 0.25, "on": true,
            "colour": "green", "items": ["b", "a"], "palette": ["green", "red"],
            "tasks": {"mmlu": {"path": "m.jsonl", "shots": 5}, "arc": {"path": "a.jsonl"}}})");
        Settings s;
        QVERIFY(read_fields(fields(), doc, s, "$").empty());
        QCOMPARE(s.count, int64_t{7});
        QCOMPARE(s.seed, uint64_t{9223372036854775807ULL}); // the largest seed a document may give
        QCOMPARE(s.inner.rate, 0.25);
        QVERIFY(s.on);
        QVERIFY(s.colour == Colour::Green);
        QCOMPARE(s.items, (std::vector<std::string>{"b", "a"}));
        QCOMPARE(s.tasks.at("mmlu").shots, int64_t{5});
        QCOMPARE(s.tasks.at("arc").shots, int64_t{0}); // an entry starts from its defaults
        json written = write_fields(fields(), s);
        QCOMPARE(written["tasks"]["arc"], json::parse(R"({"path": "a.jsonl", "shots": 0})"));
        Settings again;
        QVERIFY(read_fields(fields(), written, again, "$").empty());
        QVERIFY(write_fields(fields(), again) == written);
    }

    void refusals_name_the_path_and_the_value() {
        QCOMPARE(read_one("count", 11), std::string("$.count: expected an integer in [1, 10], found 11"));
        QCOMPARE(read_one("count", 2.5), std::string("$.count: expected an integer in [1, 10], found 2.5"));
        QCOMPARE(read_one("seed", -1), std::string("$.seed: expected a non-negative integer, found -1"));
        QCOMPARE(read_one("seed", json(std::numeric_limits<uint64_t>::max())),
                 std::string("$.seed: expected a non-negative integer, found 18446744073709551615"));
        QCOMPARE(read_one("rate", 1), std::string("$.rate: expected a number in [0, 1), found 1"));
        QCOMPARE(read_one("on", "yes"), std::string(R"($.on: expected true or false, found "yes")"));
        QCOMPARE(read_one("colour", "blue"),
                 std::string(R"($.colour: expected one of "red", "green", found "blue")"));
        QCOMPARE(read_one("items", json::array()),
                 std::string("$.items: expected a non-empty list of strings, found []"));
        QCOMPARE(read_one("items", json::parse(R"(["a", "c"])")),
                 std::string(R"($.items[1]: expected one of "a", "b", found "c")"));
        QCOMPARE(read_one("palette", json::parse(R"(["red", 3])")),
                 std::string(R"($.palette[1]: expected one of "red", "green", found 3)"));
        QCOMPARE(read_one("tasks", json::parse(R"({"mmlu": {"shots": 30}})")),
                 std::string("$.tasks.mmlu.shots: expected an integer in [0, 25], found 30"));
        QCOMPARE(read_one("tasks", json::parse(R"({"mmlu": {"shot": 3}})")),
                 std::string(R"($.tasks.mmlu.shot: unknown key, did you mean "shots"?)"));
        QCOMPARE(read_one("tasks", json::parse(R"({"a b": {}})")),
                 std::string(R"($.tasks.a b: expected a name without commas or spaces, found "a b")"));
        QCOMPARE(read_one("cuont", 3), std::string(R"($.cuont: unknown key, did you mean "count"?)"));
    }

    // A struct's own values are checked with the same rules and messages as a document.
    void struct_values_are_checked_like_documents() {
        Settings s;
        QVERIFY(field_problems(fields(), s, "").empty());
        s.count = 0;
        s.inner.rate = -1;
        const auto problems = field_problems(fields(), s, "");
        QCOMPARE(problems.size(), size_t{2});
        QCOMPARE(problems[0].text(), std::string("count: expected an integer in [1, 10], found 0"));
        QCOMPARE(problems[1].text(), std::string("rate: expected a number in [0, 1), found -1.0"));
        QCOMPARE(describe_problems("settings", problems),
                 std::string("settings: 2 problems:\n  count: expected an integer in [1, 10], found 0\n"
                             "  rate: expected a number in [0, 1), found -1.0"));
    }

    void field_info_describes_each_field() {
        const auto f = fields();
        QVERIFY(f[0].kind == FieldKind::Integer);
        QCOMPARE(f[0].lo, 1.0);
        QCOMPARE(f[0].hi, 10.0);
        QCOMPARE(f[4].choices, (std::vector<std::string>{"red", "green"}));
        QVERIFY(f[5].list_valued);
        QVERIFY(f[7].kind == FieldKind::Entries);
        QVERIFY(!f[7].sweepable);
        QCOMPARE(f[7].entries.size(), size_t{2});
        QCOMPARE(f[7].entries[1].default_doc, std::string("`0`"));
        QCOMPARE(name_of(colour_names(), Colour::Green), std::string("green"));
    }
};

RILQ_TEST_APPLESS_MAIN(TestConfigFields)
#include "test_config_fields.moc"
