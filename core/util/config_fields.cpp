#include "core/util/config_fields.h"

#include "core/util/did_you_mean.h"

#include <algorithm>
#include <sstream>

namespace rilq::config {

std::string found_text(const json& value) {
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

std::string expected(const std::string& what, const json& value) {
    return "expected " + what + ", found " + found_text(value);
}

std::string one_of_text(const std::vector<std::string>& names) {
    std::string out = "one of ";
    for (size_t i = 0; i < names.size(); ++i)
        out += (i ? ", \"" : "\"") + names[i] + "\"";
    return out;
}

std::string integer_text(int64_t lo, int64_t hi) {
    const bool unbounded = hi >= kIntMax;
    if (unbounded && lo == 0) return "a non-negative integer";
    if (unbounded && lo == 1) return "a positive integer";
    if (unbounded) return "an integer >= " + std::to_string(lo);
    return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

namespace {
std::string short_number(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
}
} // namespace

std::string number_text(double lo, double hi, bool lo_open, bool hi_open) {
    if (std::isinf(hi) && lo == 0) return lo_open ? "a positive number" : "a non-negative number";
    if (std::isinf(hi)) return std::string("a number ") + (lo_open ? "> " : ">= ") + short_number(lo);
    return "a number in " + std::string(lo_open ? "(" : "[") + short_number(lo) + ", " + short_number(hi) +
           (hi_open ? ")" : "]");
}

std::vector<Problem> unknown_key_problems(const json& object, const std::vector<std::string>& known,
                                          const std::string& path) {
    std::vector<Problem> problems;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
        const std::string hint = closest_match(it.key(), known);
        std::string message = "unknown key";
        if (!hint.empty())
            message += ", did you mean \"" + hint + "\"?";
        else if (known.size() <= 10)
            message += " (expected " + one_of_text(known) + ")";
        problems.push_back({path + "." + it.key(), message});
    }
    return problems;
}

Problem problem_at(std::string path, std::string message) {
    if (!message.empty() && (message[0] == '[' || message[0] == '.')) {
        const size_t colon = message.find(": ");
        if (colon != std::string::npos) {
            path += message.substr(0, colon);
            message = message.substr(colon + 2);
        }
    }
    return {std::move(path), std::move(message)};
}

std::string describe_problems(const std::string& where, const std::vector<Problem>& problems) {
    if (problems.size() == 1) return where + ": " + problems[0].text();
    std::string out = where + ": " + std::to_string(problems.size()) + " problems:";
    for (const auto& p : problems)
        out += "\n  " + p.text();
    return out;
}

} // namespace rilq::config
