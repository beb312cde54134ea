// Writes that never leave a half-written file in place of a good one: write to a temp
// file beside the target, flush, then rename over it (rename is atomic on POSIX).
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace rilq {

// Calls `write` with a stream on a temp file next to `path`, then renames it to `path`.
// On any exception the temp file is removed and `path` is untouched.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);

// Same for a directory: `fill` gets an empty temp folder beside `dir`; on success it replaces `dir`.
void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& fill);

} // namespace rilq
