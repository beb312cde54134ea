#include "core/util/atomic_file.h"

#include "core/util/error.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rilq {

namespace {
std::string unique_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000007ULL);
}
} // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const fs::path target(path);
    if (target.has_parent_path()) fs::create_directories(target.parent_path());
    const std::string tmp = path + unique_suffix();
    try {
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) throw Error("cannot create " + tmp);
            write(out);
            out.flush();
            if (!out) throw Error("write failed for " + tmp + " (disk full?)");
        }
        fs::rename(tmp, target);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string&)>& fill) {
    fs::path target = fs::absolute(dir).lexically_normal();
    if (target.filename().empty()) target = target.parent_path();
    if (target.has_parent_path()) fs::create_directories(target.parent_path());
    const fs::path tmp = target.string() + unique_suffix();
    const fs::path old = target.string() + unique_suffix() + ".old";
    try {
        fs::create_directories(tmp);
        fill(tmp.string());
        if (fs::exists(target)) fs::rename(target, old);
        fs::rename(tmp, target);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        if (!fs::exists(target) && fs::exists(old)) fs::rename(old, target, ec);
        throw;
    }
    std::error_code ec;
    fs::remove_all(old, ec);
}

} // namespace rilq
