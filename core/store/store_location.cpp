#include "core/store/store_location.h"

#include "core/util/error.h"

#include <cstdlib>
#include <filesystem>

namespace rilq::store {

namespace {
std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string();
}
} // namespace

std::string default_store_path() {
    const std::string from_env = env(kStoreEnvVar);
    if (!from_env.empty()) return from_env;
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    std::filesystem::path data_home = env("XDG_DATA_HOME");
    if (data_home.empty() || data_home.is_relative()) {
        const std::string home = env("HOME");
        if (home.empty()) {
            throw Error(
                "cannot place the run store: neither XDG_DATA_HOME nor HOME is set (use --db FILE or " +
                std::string(kStoreEnvVar) + ")");
        }
        data_home = std::filesystem::path(home) / ".local" / "share";
    }
    return (data_home / "rilq-workbench" / "runs.sqlite").string();
}

std::string resolve_store_path(const std::string& explicit_path) {
    return explicit_path.empty() ? default_store_path() : explicit_path;
}

} // namespace rilq::store
