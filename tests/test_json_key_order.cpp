// in_original_key_order: an edited document comes back in its file's key order, recursively.
#include "core/util/json_key_order.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

class TestJsonKeyOrder : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void keeps_order_adds_new_keys_last_and_drops_removed_ones() {
        const auto original = nlohmann::ordered_json::parse(
            R"({"z": 1, "a": {"y": [{"q": 1, "b": 2}], "c": 3}, "gone": true})");
        nlohmann::json edited = nlohmann::json::parse(original.dump()); // sorted keys
        edited["a"]["y"][0]["b"] = 5;
        edited["a"]["new"] = "x";
        edited.erase("gone");
        edited["added"] = {{"k2", 1}, {"k1", 2}};
        QCOMPARE(QString::fromStdString(rilq::in_original_key_order(original, edited).dump()),
                 QString(R"({"z":1,"a":{"y":[{"q":1,"b":5}],"c":3,"new":"x"},"added":{"k1":2,"k2":1}})"));
    }

    void no_original_gives_the_edited_order_and_values() {
        const nlohmann::json edited = nlohmann::json::parse(R"({"b": [1, 2.5, "s", null], "a": false})");
        QCOMPARE(QString::fromStdString(rilq::in_original_key_order({}, edited).dump()),
                 QString::fromStdString(edited.dump()));
    }
};

RILQ_TEST_MAIN(TestJsonKeyOrder)
#include "test_json_key_order.moc"
