// Writing files so that no failure goes unnoticed: every write(2), the final fsync and close
// are checked, and a full disk is reported as "disk full: cannot write PATH (...)" instead of a
// silently short file (std::ofstream only sets a bit that callers forget to test; torch::save
// throws from a destructor and aborts the process).
#pragma once
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

namespace rilq {

// The message for a failed write or sync of `path` with errno `err`; ENOSPC and EDQUOT read
// "disk full: cannot write PATH (No space left on device)".
std::string write_failure_message(const std::string& path, int err);

// A file opened for writing (created or truncated, mode 0666 minus the umask). Nothing is
// written to disk unchecked: write() and stream() failures throw rilq::Error naming the path.
class CheckedOutputFile {
  public:
    // `shown_as`: the path errors name, when it differs (a temp file standing in for its target).
    explicit CheckedOutputFile(const std::string& path, const std::string& shown_as = "");
    ~CheckedOutputFile(); // closes without syncing; errors there are ignored (commit() reports them)
    CheckedOutputFile(const CheckedOutputFile&) = delete;
    CheckedOutputFile& operator=(const CheckedOutputFile&) = delete;

    void write(const void* data, size_t bytes);
    void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
    // A buffered stream over the file for code that writes to std::ostream; its failures surface
    // at the latest in commit().
    std::ostream& stream();
    // Flushes the stream, fsyncs and closes; throws on any failure. Call exactly once.
    void commit();
    const std::string& path() const { return path_; }

  private:
    class Buffer;
    void check_stream();
    std::string path_;
    std::string shown_as_;
    int fd_ = -1;
    int stream_errno_ = 0;
    std::unique_ptr<Buffer> buffer_;
    std::unique_ptr<std::ostream> stream_;
};

// Writes `bytes` to `path` (not atomic: for files inside a temp folder that is swapped in as a
// whole) and syncs it.
void write_file_checked(const std::string& path, const std::string& bytes);

// fsync of a file or folder (a folder's sync makes the names in it durable). Throws naming it.
void sync_path(const std::string& path);
// Every file and folder under `dir`, then `dir` itself.
void sync_tree(const std::string& dir);

// Fault injection for tests: after this process has written `bytes` more bytes through
// CheckedOutputFile, writes fail with `err` (ENOSPC: a full disk) until cleared. Negative
// `bytes` clears it.
void inject_write_failure_after(int64_t bytes, int err);

} // namespace rilq
