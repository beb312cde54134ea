#include "core/util/atomic_dir.h"

#include "core/util/checked_file.h"
#include "core/util/error.h"
#include "core/util/temp_sibling.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

namespace {

fs::path normalized_target(const std::string& dir) {
    fs::path target = fs::absolute(dir).lexically_normal();
    if (target.filename().empty()) target = target.parent_path();
    return target;
}

bool is_empty_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && !fs::is_symlink(dir, ec) && fs::is_empty(dir, ec);
}

// Swaps the two paths in one step; false when this file system cannot (then nothing changed).
bool exchange_paths(const fs::path& a, const fs::path& b) {
    if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
    const int err = errno;
    if (err == EINVAL || err == ENOSYS || err == ENOTSUP) return false;
    throw Error("cannot swap " + a.string() + " into place: " + std::strerror(err));
}

} // namespace

void check_replaceable(const std::string& dir, const ReplaceRule& rule) {
    const fs::path target = normalized_target(dir);
    std::error_code ec;
    const auto status = fs::symlink_status(target, ec);
    if (!fs::exists(status)) return;
    if (is_empty_dir(target)) return;
    const bool is_folder = fs::is_directory(status);
    if (is_folder && rule.recognises && rule.recognises(target.string())) return;
    throw Error("refusing to replace " + target.string() + ": it exists and is not " +
                (is_folder ? rule.describes : rule.describes + " (it is not even a folder)") +
                "; nothing was changed (move it away or choose another folder)");
}

void write_dir_atomic(const std::string& dir, const ReplaceRule& rule,
                      const std::function<void(const std::string&)>& fill) {
    const fs::path target = normalized_target(dir);
    const fs::path parent = target.parent_path();
    fs::create_directories(parent);
    clean_stale_temp_siblings(target.string());
    check_replaceable(target.string(), rule);
    const fs::path tmp = temp_sibling(target.string(), "tmp");
    fs::path old; // set while the previous version sits aside (two-rename fallback)
    bool swapped = false;
    try {
        try {
            fs::create_directory(tmp);
            fill(tmp.string());
            sync_tree(tmp.string());
        } catch (const Cancelled&) {
            throw;
        } catch (const fs::filesystem_error& e) { // copies and folders: std::filesystem's errors
            const bool full = e.code() == std::errc::no_space_on_device;
            throw Error("writing " + target.string() + ": " + (full ? "disk full: " : "") + e.what());
        } catch (const std::exception& e) { // the message names the temp file; say what it was for
            throw Error("writing " + target.string() + ": " + e.what());
        }
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(target, ec))) {
            fs::rename(tmp, target); // fails (nothing lost) if someone created a non-empty folder meanwhile
            swapped = true;
        } else {
            check_replaceable(target.string(), rule); // again: the slow fill gave others time
            if (is_empty_dir(target)) {
                fs::rename(tmp, target); // POSIX: a folder may replace an empty folder in one step
                swapped = true;
            } else if (exchange_paths(tmp, target)) {
                swapped = true; // the previous version now sits at `tmp`
                old = tmp;
            } else {
                old = temp_sibling(target.string(), "old");
                fs::rename(target, old);
                fs::rename(tmp, target); // a crash before this line: the next writer restores `old`
                swapped = true;
            }
        }
    } catch (...) {
        std::error_code ec;
        if (!swapped) {
            fs::remove_all(tmp, ec);
            if (!old.empty() && !fs::exists(target, ec)) fs::rename(old, target, ec);
        }
        throw;
    }
    sync_path(parent.string());
    std::error_code ec;
    if (!old.empty()) fs::remove_all(old, ec); // a leftover is a stale sibling: removed next time
}

} // namespace rilq
