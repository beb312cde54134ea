#include "core/cluster/run_backend.h"

#include "core/util/error.h"

namespace rilq::cluster {

const std::vector<std::string>& run_backend_names() {
    static const std::vector<std::string> names = {"local", "slurm"};
    return names;
}

std::string to_string(RunBackend backend) {
    return run_backend_names()[static_cast<size_t>(backend)];
}

RunBackend parse_run_backend(const std::string& name) {
    const auto& names = run_backend_names();
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<RunBackend>(i);
    std::string expected;
    for (const auto& n : names)
        expected += (expected.empty() ? "" : ", ") + n;
    throw Error("unknown backend \"" + name + "\" (expected one of: " + expected + ")");
}

} // namespace rilq::cluster
