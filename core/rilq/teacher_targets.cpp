#include "core/rilq/teacher_targets.h"

#include "core/model/llama_model.h"
#include "core/util/error.h"
#include "core/util/shape_text.h"

#include <torch/torch.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rilq {

// A temp file that is unlinked when this object dies (after mapping, or on error).
class TeacherTargetWriter::TargetFile {
  public:
    explicit TargetFile(const std::string& dir) {
        const fs::path base = dir.empty() ? fs::temp_directory_path() : fs::path(dir);
        std::random_device rd;
        path_ = (base / ("rilq-targets-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".bin")).string();
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd_ < 0) throw Error("cannot create the teacher-target file " + path_ + ": " + std::strerror(errno));
    }
    ~TargetFile() {
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    TargetFile(const TargetFile&) = delete;
    TargetFile& operator=(const TargetFile&) = delete;

    void append(const torch::Tensor& t) {
        const auto c = t.contiguous();
        const char* p = static_cast<const char*>(c.data_ptr());
        size_t left = static_cast<size_t>(c.numel()) * c.element_size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error("writing teacher targets to " + path_ + " failed: " + std::strerror(errno) +
                            " (disk full? lower the batch or raise target_memory_budget_bytes)");
            }
            p += n;
            left -= static_cast<size_t>(n);
        }
    }

    // Maps the whole file read-only; the mapping outlives the file's name and descriptor.
    torch::Tensor map(at::IntArrayRef sizes, torch::Dtype dtype, int64_t bytes) {
        void* addr = ::mmap(nullptr, static_cast<size_t>(bytes), PROT_READ, MAP_SHARED, fd_, 0);
        if (addr == MAP_FAILED) throw Error("cannot memory-map " + path_ + ": " + std::strerror(errno));
        const auto length = static_cast<size_t>(bytes);
        return torch::from_blob(
            addr, sizes, [length](void* p) { ::munmap(p, length); }, torch::TensorOptions().dtype(dtype));
    }

private:
    std::string path_;
    int fd_ = -1;
};

TeacherTargetWriter::TeacherTargetWriter(int64_t windows, int64_t seqlen, int64_t width, torch::Dtype dtype,
                                         TargetType type, const TargetCachePolicy& policy)
    : windows_(windows), seqlen_(seqlen), width_(width), dtype_(dtype) {
    out_.type_ = type;
    out_.bytes_ = windows * seqlen * width * static_cast<int64_t>(c10::elementSize(dtype));
    out_.storage_ = TeacherTargets::storage_for(out_.bytes_, policy);
    if (out_.storage_ == TargetStorage::Memory)
        out_.data_ = torch::empty({windows, seqlen, width}, torch::TensorOptions().dtype(dtype));
    else
        file_ = std::make_unique<TargetFile>(policy.temp_dir);
}

TeacherTargetWriter::~TeacherTargetWriter() = default;

void TeacherTargetWriter::append(const torch::Tensor& rows) {
    const int64_t b = rows.size(0);
    if (rows.dim() != 3 || written_ + b > windows_ || rows.size(1) != seqlen_ || rows.size(2) != width_)
        throw Error("teacher targets: rows " + shape_text(rows.sizes()) + " do not continue (" +
                    std::to_string(windows_) + ", " + std::to_string(seqlen_) + ", " +
                    std::to_string(width_) + ") after " + std::to_string(written_) + " windows");
    if (file_)
        file_->append(rows.to(torch::kCPU, dtype_));
    else
        out_.data_.slice(0, written_, written_ + b).copy_(rows);
    written_ += b;
}

TeacherTargets TeacherTargetWriter::finish() {
    if (written_ != windows_)
        throw Error("teacher targets: " + std::to_string(written_) + " of " + std::to_string(windows_) +
                    " windows written");
    if (file_) {
        out_.data_ = file_->map({windows_, seqlen_, width_}, dtype_, out_.bytes_);
        file_.reset();
    }
    return std::move(out_);
}

TeacherTargets TeacherTargets::from_tensor(torch::Tensor data, TargetType type) {
    if (data.dim() != 3)
        throw Error("teacher targets: expected (N, T, D), found " + shape_text(data.sizes()));
    TeacherTargets t;
    t.data_ = data.contiguous();
    t.bytes_ = t.data_.numel() * static_cast<int64_t>(t.data_.element_size());
    t.storage_ = TargetStorage::Memory;
    t.type_ = type;
    return t;
}

TargetStorage TeacherTargets::storage_for(int64_t bytes, const TargetCachePolicy& policy) {
    return bytes <= policy.memory_budget_bytes ? TargetStorage::Memory : TargetStorage::MappedFile;
}

TeacherTargets TeacherTargets::compute(const LlamaModel& teacher, const torch::Tensor& ids, TargetType type,
                                       int64_t batch_size, const TargetCachePolicy& policy,
                                       const ProgressSink& progress) {
    if (ids.dim() != 2) throw Error("teacher targets: token windows must be (N, T), found " + std::string(c10::str(ids.sizes())));
    if (batch_size < 1) throw Error("teacher targets: batch size must be >= 1, found " + std::to_string(batch_size));
    const auto& cfg = teacher.config();
    const int64_t N = ids.size(0), T = ids.size(1);
    const int64_t D = type == TargetType::Hidden ? cfg.hidden_size : cfg.vocab_size;
    const auto dtype = teacher.options().compute_dtype;

    TeacherTargetWriter writer(N, T, D, dtype, type, policy);
    torch::NoGradGuard no_grad;
    ForwardOptions opts;
    opts.want_logits = type == TargetType::Logit;
    opts.want_hidden = type == TargetType::Hidden;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < N; b += batch_size) {
        progress.check_cancel();
        const int64_t e = std::min(N, b + batch_size);
        const auto result = teacher.forward(ids.slice(0, b, e), opts);
        writer.append(type == TargetType::Hidden ? result.hidden : result.logits); // (b, T, D)
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        progress.report({"teacher targets (" + to_string(type) + ")", e, N, "windows", elapsed,
                         elapsed / static_cast<double>(e) * static_cast<double>(N - e)});
    }
    return writer.finish();
}

torch::Tensor TeacherTargets::rows(int64_t begin, int64_t end) const {
    if (begin < 0 || end > count() || begin >= end)
        throw Error("teacher targets: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") out of range (have " + std::to_string(count()) + ")");
    return data_.slice(0, begin, end);
}

} // namespace rilq
