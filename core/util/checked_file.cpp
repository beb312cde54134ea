#include "core/util/checked_file.h"

#include "core/util/error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <streambuf>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rilq {

namespace {

// Bytes left before an injected failure; negative = no injection.
std::atomic<int64_t> g_fail_after{-1};
std::atomic<int> g_fail_errno{ENOSPC};

// How many of `bytes` may be written before the injected failure (all when none is armed).
size_t injected_allowance(size_t bytes, int& err) {
    int64_t left = g_fail_after.load();
    while (left >= 0) {
        const int64_t take = std::min<int64_t>(left, static_cast<int64_t>(bytes));
        if (g_fail_after.compare_exchange_weak(left, left - take)) {
            if (take < static_cast<int64_t>(bytes)) err = g_fail_errno.load();
            return static_cast<size_t>(take);
        }
    }
    return bytes;
}

// write(2) until done; returns 0 or the errno of the failure.
int write_all(int fd, const char* data, size_t bytes) {
    int injected = 0;
    const size_t allowed = injected_allowance(bytes, injected);
    size_t done = 0;
    while (done < allowed) {
        const ssize_t n = ::write(fd, data + done, allowed - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        done += static_cast<size_t>(n);
    }
    return injected;
}

} // namespace

std::string write_failure_message(const std::string& path, int err) {
    if (err == ENOSPC || err == EDQUOT)
        return "disk full: cannot write " + path + " (" + std::strerror(err) + ")";
    return "cannot write " + path + ": " + std::strerror(err);
}

// A plain output buffer over the descriptor; a failed flush remembers errno for commit().
class CheckedOutputFile::Buffer : public std::streambuf {
  public:
    Buffer(int fd, int& error) : fd_(fd), error_(error) { setp(data_, data_ + sizeof data_); }
    int sync() override { return flush() ? 0 : -1; }

  protected:
    int_type overflow(int_type c) override {
        if (!flush()) return traits_type::eof();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (n >= static_cast<std::streamsize>(sizeof data_)) { // large blocks go straight through
            if (!flush()) return 0;
            const int err = write_all(fd_, s, static_cast<size_t>(n));
            if (err != 0) {
                if (error_ == 0) error_ = err;
                return 0;
            }
            return n;
        }
        return std::streambuf::xsputn(s, n);
    }

  private:
    bool flush() {
        if (error_ != 0) return false;
        const size_t pending = static_cast<size_t>(pptr() - pbase());
        if (pending == 0) return true;
        const int err = write_all(fd_, pbase(), pending);
        setp(data_, data_ + sizeof data_);
        if (err != 0) {
            error_ = err;
            return false;
        }
        return true;
    }
    int fd_;
    int& error_;
    char data_[1 << 16];
};

CheckedOutputFile::CheckedOutputFile(const std::string& path, const std::string& shown_as)
    : path_(path), shown_as_(shown_as.empty() ? path : shown_as) {
    do {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) {
        const int err = errno;
        throw Error(err == ENOSPC || err == EDQUOT ? write_failure_message(shown_as_, err)
                                                   : "cannot create " + path + ": " + std::strerror(err));
    }
}

CheckedOutputFile::~CheckedOutputFile() {
    stream_.reset();
    buffer_.reset();
    if (fd_ >= 0) ::close(fd_);
}

void CheckedOutputFile::check_stream() {
    if (stream_errno_ != 0) throw Error(write_failure_message(shown_as_, stream_errno_));
    if (stream_ && !*stream_) throw Error(write_failure_message(shown_as_, EIO));
}

void CheckedOutputFile::write(const void* data, size_t bytes) {
    if (fd_ < 0) throw Error("write after commit: " + path_);
    if (stream_) {
        stream_->flush();
        check_stream();
    }
    const int err = write_all(fd_, static_cast<const char*>(data), bytes);
    if (err != 0) throw Error(write_failure_message(shown_as_, err));
}

std::ostream& CheckedOutputFile::stream() {
    if (!stream_) {
        buffer_ = std::make_unique<Buffer>(fd_, stream_errno_);
        stream_ = std::make_unique<std::ostream>(buffer_.get());
    }
    return *stream_;
}

void CheckedOutputFile::commit() {
    if (fd_ < 0) throw Error("commit twice: " + path_);
    if (stream_) {
        stream_->flush();
        check_stream();
    }
    // Delayed allocation (ext4, XFS) may report a full disk only here.
    if (::fsync(fd_) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        throw Error(write_failure_message(shown_as_, err));
    }
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && errno != EINTR) throw Error(write_failure_message(shown_as_, errno));
}

void write_file_checked(const std::string& path, const std::string& bytes) {
    CheckedOutputFile file(path);
    file.write(bytes);
    file.commit();
}

void sync_path(const std::string& path) {
    int fd = -1;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw Error("cannot open " + path + " to sync it: " + std::strerror(errno));
    if (::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        // Some file systems cannot sync a folder; that loses nothing that was not at risk anyway.
        if (err == EINVAL || err == EROFS) return;
        throw Error(write_failure_message(path, err));
    }
    ::close(fd);
}

void sync_tree(const std::string& dir) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() || (entry.is_directory() && !entry.is_symlink()))
            sync_path(entry.path().string());
    }
    sync_path(dir);
}

void inject_write_failure_after(int64_t bytes, int err) {
    g_fail_errno = err;
    g_fail_after = bytes < 0 ? -1 : bytes;
}

} // namespace rilq
