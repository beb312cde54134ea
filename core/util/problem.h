// One problem with a settings document: where ("$.rilq.lora_r[2]") and what ("expected a
// non-negative integer, found -4"). Validation reports all of them at once.
#pragma once
#include <string>

namespace rilq::config {

struct Problem {
    std::string path;
    std::string message;
    std::string text() const { return path + ": " + message; }
};

} // namespace rilq::config
