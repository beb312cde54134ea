// What the task-evaluation tests share: the fixtures written by tests/reference/tasks_reference.py
// and a way to catch the one-line error a bad input must produce.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_errors.h" // error_of
#include "tests/support/test_support.h"

namespace rilq::test {

inline nlohmann::json tasks_reference() {
    return nlohmann::json::parse(read_file(test_data("tasks/tasks_reference.json")));
}

// True when `message` contains every fragment (for QVERIFY2 with the message as the reason).
inline bool mentions(const std::string& message, std::initializer_list<std::string> fragments) {
    if (message.empty()) return false;
    for (const auto& f : fragments)
        if (message.find(f) == std::string::npos) return false;
    return true;
}

} // namespace rilq::test
