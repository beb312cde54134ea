// One exception type for every user-facing failure in core. The message is the whole
// story: it names the file, tensor, JSON path or value, what was expected and what was found.
#pragma once
#include <stdexcept>
#include <string>

namespace rilq {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown when a long operation sees its cancel flag; callers mark the run KILLED, not FAILED.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

} // namespace rilq
