#include "core/util/atomic_file.h"

#include "core/util/checked_file.h"
#include "core/util/temp_sibling.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const fs::path target(path);
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fs::create_directories(parent);
    clean_stale_temp_siblings(path);
    const std::string tmp = temp_sibling(path);
    try {
        CheckedOutputFile file(tmp, path); // errors name the file the caller asked for
        write(file.stream());
        file.commit();
        fs::rename(tmp, target);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
    sync_path(parent.string()); // the rename itself is durable only once the folder is synced
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

} // namespace rilq
