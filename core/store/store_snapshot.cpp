#include "core/store/store_snapshot.h"

#include "core/util/checked_file.h"
#include "core/util/error.h"
#include "core/util/temp_sibling.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace rilq::store {

namespace {

// SQL string literal: quotes doubled.
std::string snapshot_sql_text(const std::string& s) {
    std::string out = "'";
    for (const char c : s) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

} // namespace

void write_store_snapshot(Database& live, const std::string& target) {
    const fs::path final_path = fs::absolute(target);
    const fs::path folder = final_path.parent_path();
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) throw Error(folder.string() + ": cannot create the folder for a store snapshot: " + ec.message());
    // Beside the target (same file system, so the rename is atomic), named after its writer; a
    // dead writer's leftovers are removed first (core/util/temp_sibling.h).
    clean_stale_temp_siblings(final_path.string());
    const std::string partial = temp_sibling(final_path.string());
    try {
        live.exec("VACUUM INTO " + snapshot_sql_text(partial));
        sync_path(partial);
        fs::rename(partial, final_path);
        sync_path(folder.string());
    } catch (const std::exception& e) {
        fs::remove(partial, ec);
        throw Error(final_path.string() + ": cannot write the store snapshot: " + e.what());
    }
}

bool is_snapshot_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot read: " + std::strerror(errno));
    char header[100] = {};
    in.read(header, sizeof header);
    static const char magic[] = "SQLite format 3";
    if (in.gcount() < 100 || std::memcmp(header, magic, sizeof magic) != 0)
        throw Error(path + ": not a run store (not an SQLite database file)");
    // Bytes 18 and 19: file format write / read version, 1 = rollback journal, 2 = WAL.
    return header[18] == 1 && header[19] == 1;
}

} // namespace rilq::store
