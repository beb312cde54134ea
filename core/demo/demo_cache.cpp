#include "core/demo/demo_cache.h"

#include <cstdlib>
#include <filesystem>

namespace rilq {

std::string default_demo_cache_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("RILQ_DEMO_CACHE"); env && *env) return env;
    fs::path base;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = fs::path(home) / ".cache";
    else
        base = fs::temp_directory_path();
    return (base / "rilq-workbench" / "demo").string();
}

} // namespace rilq
