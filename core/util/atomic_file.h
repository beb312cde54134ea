// Writes that never leave a half-written file in place of a good one: write to a temp file
// beside the target (core/util/temp_sibling.h), check every write and fsync it, then rename it
// over the target (atomic on POSIX) and fsync the folder, so after a crash or power loss the
// target is the old version or the new one, never a mix. A full disk is an Error saying
// "disk full" and naming the file; the temp file is removed and the target is untouched.
// Folders: core/util/atomic_dir.h.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace rilq {

// Calls `write` with a stream on a temp file next to `path`, then renames it to `path`.
// On any exception the temp file is removed and `path` is untouched.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);

} // namespace rilq
