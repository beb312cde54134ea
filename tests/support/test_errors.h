// Asserting on the one error message a bad input must produce (rilq::Error, naming the file,
// field or value).
#pragma once
#include "core/util/error.h"

#include <QtTest/QtTest>

#include <functional>
#include <string>
#include <vector>

namespace rilq::test {

// The message of the rilq::Error that `f` throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const rilq::Error& e) {
        return e.what();
    }
    return "";
}

// Fails the current test unless `fn` throws a rilq::Error whose message contains every needle.
inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
    try {
        fn();
    } catch (const rilq::Error& e) {
        for (const std::string& needle : needles)
            QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
        return;
    }
    QFAIL("expected rilq::Error");
}

} // namespace rilq::test
