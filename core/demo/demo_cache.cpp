#include "core/demo/demo_cache.h"

#include <cstdlib>
#include <filesystem>

namespace rilq {

std::string workbench_cache_dir() {
    namespace fs = std::filesystem;
    fs::path base;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = fs::path(home) / ".cache";
    else
        base = fs::temp_directory_path();
    return (base / "rilq-workbench").string();
}

std::string default_demo_cache_dir() {
    if (const char* env = std::getenv("RILQ_DEMO_CACHE"); env && *env) return env;
    return (std::filesystem::path(workbench_cache_dir()) / "demo").string();
}

} // namespace rilq
