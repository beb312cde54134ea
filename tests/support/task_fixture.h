// What the task-evaluation tests share: the fixtures written by tests/reference/tasks_reference.py
// and a way to catch the one-line error a bad input must produce.
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "tests/support/test_support.h"

namespace rilq::test {

inline nlohmann::json tasks_reference() {
    return nlohmann::json::parse(read_file(test_data("tasks/tasks_reference.json")));
}

// The message of the rilq::Error `f` throws; "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// True when `message` contains every fragment (for QVERIFY2 with the message as the reason).
inline bool mentions(const std::string& message, std::initializer_list<std::string> fragments) {
    if (message.empty()) return false;
    for (const auto& f : fragments)
        if (message.find(f) == std::string::npos) return false;
    return true;
}

} // namespace rilq::test
