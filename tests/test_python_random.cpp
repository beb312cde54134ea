// rilq::PythonRandom against CPython 3.11's own `random` module: every sequence here was
// produced by tests/reference/python_random_reference.py and is replayed call for call.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/data/python_random.h"
#include "tests/support/test_support.h"

using nlohmann::json;

namespace {

json load_reference() {
    return json::parse(rilq::test::read_file(rilq::test::test_data("python_random_reference.json")));
}

// Parses "-123" or "123" seeds from the fixture's key (the values stay exact beyond 2^64).
void seed_from_name(rilq::PythonRandom& rng, const std::string& name) {
    if (name == "0")
        rng.seed(0);
    else if (name == "42")
        rng.seed(42);
    else if (name == "2^32+7")
        rng.seed((uint64_t{1} << 32) + 7);
    else if (name == "12345678901234567890")
        rng.seed(12345678901234567890ULL);
    else if (name == "2^70+3")
        rng.seed_words({3u, 0u, 64u}); // 2^70 = word 2, bit 6
    else if (name == "-42")
        rng.seed_signed(-42);
    else
        QFAIL(("unknown seed in fixture: " + name).c_str());
}

} // namespace

class TestPythonRandom : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void mt19937_reference_vector();
    void replays_cpython_sequences();
    void module_level_seed0();
    void seed_words_equal_integer_seed();
    void empty_ranges_are_errors();
};

// MT19937 with init_by_array({0x123, 0x234, 0x345, 0x456}): the first outputs printed by
// Matsumoto & Nishimura's mt19937ar.c test program (mt19937ar.out).
void TestPythonRandom::mt19937_reference_vector() {
    rilq::PythonRandom rng;
    rng.seed_words({0x123u, 0x234u, 0x345u, 0x456u});
    const uint32_t expected[] = {1067595299u, 955945823u, 477289528u, 4107218783u, 4228976476u};
    for (uint32_t e : expected)
        QCOMPARE(rng.next_uint32(), e);
}

void TestPythonRandom::replays_cpython_sequences() {
    const json ref = load_reference();
    QVERIFY(ref.at("seeds").size() >= 6);
    for (const auto& [name, rec] : ref.at("seeds").items()) {
        rilq::PythonRandom rng;
        seed_from_name(rng, name);
        const std::string where = "seed " + name;
        for (const auto& v : rec.at("uint32"))
            QCOMPARE(rng.getrandbits(32), v.get<uint64_t>());
        for (const auto& r : rec.at("randint")) {
            const int64_t a = r.at(0).get<int64_t>();
            const int64_t b = r.at(1).get<int64_t>();
            for (const auto& v : r.at(2)) {
                const int64_t got = rng.randint(a, b);
                if (got != v.get<int64_t>())
                    QFAIL((where + " randint(" + std::to_string(a) + ", " + std::to_string(b) + "): got " +
                           std::to_string(got) + ", Python " + v.dump())
                              .c_str());
            }
        }
        for (const auto& v : rec.at("random")) {
            const double expected = std::strtod(v.get<std::string>().c_str(), nullptr); // float.hex()
            QCOMPARE(rng.random(), expected); // exact: both sides build the same 53-bit value
        }
        for (const auto& g : rec.at("getrandbits")) {
            const int k = g.at(0).get<int>();
            for (const auto& v : g.at(1))
                QCOMPARE(rng.getrandbits(k), v.get<uint64_t>());
        }
        std::vector<int> items10(10);
        for (int i = 0; i < 10; ++i)
            items10[static_cast<size_t>(i)] = i;
        rng.shuffle(items10);
        QCOMPARE(items10, rec.at("shuffle10").get<std::vector<int>>());
        std::vector<int> items100(100);
        for (int i = 0; i < 100; ++i)
            items100[static_cast<size_t>(i)] = i + 1;
        rng.shuffle(items100);
        QCOMPARE(items100, rec.at("shuffle100").get<std::vector<int>>());
        const std::vector<std::string> letters = {"a", "b", "c", "d", "e"};
        for (const auto& v : rec.at("choice"))
            QCOMPARE(rng.choice(letters), v.get<std::string>());
        for (const auto& r : rec.at("randrange")) {
            const int64_t a = r.at(0).get<int64_t>();
            const int64_t b = r.at(1).get<int64_t>();
            for (const auto& v : r.at(2))
                QCOMPARE(rng.randrange(a, b), v.get<int64_t>());
        }
    }
}

void TestPythonRandom::module_level_seed0() {
    const json ref = load_reference();
    rilq::PythonRandom rng(0);
    for (const auto& v : ref.at("module_seed0_randint_45575"))
        QCOMPARE(rng.randint(0, 45575), v.get<int64_t>());
}

// A seed given as a 64-bit integer and as its little-endian words (with redundant zero words)
// must seed identically; seed 0 is the key [0], not an empty key.
void TestPythonRandom::seed_words_equal_integer_seed() {
    rilq::PythonRandom a;
    rilq::PythonRandom b;
    a.seed(0x0000000500000003ULL);
    b.seed_words({3u, 5u, 0u, 0u});
    for (int i = 0; i < 20; ++i)
        QCOMPARE(a.next_uint32(), b.next_uint32());
    rilq::PythonRandom zero_int(0);
    rilq::PythonRandom zero_words;
    zero_words.seed_words({});
    for (int i = 0; i < 5; ++i)
        QCOMPARE(zero_int.next_uint32(), zero_words.next_uint32());
    rilq::PythonRandom other(1);
    rilq::PythonRandom zero_again(0);
    QVERIFY(other.next_uint32() != zero_again.next_uint32());
}

void TestPythonRandom::empty_ranges_are_errors() {
    rilq::PythonRandom rng(0);
    QVERIFY_THROWS_EXCEPTION(rilq::Error, rng.randint(0, -1));
    QVERIFY_THROWS_EXCEPTION(rilq::Error, rng.randrange(5, 5));
    QVERIFY_THROWS_EXCEPTION(rilq::Error, rng.getrandbits(65));
    QVERIFY_THROWS_EXCEPTION(rilq::Error, rng.choice(std::vector<int>{}));
    try {
        rng.randint(0, -1);
    } catch (const rilq::Error& e) {
        QVERIFY(std::string(e.what()).find("randint(0, -1)") != std::string::npos);
    }
}

RILQ_TEST_APPLESS_MAIN(TestPythonRandom)
#include "test_python_random.moc"
