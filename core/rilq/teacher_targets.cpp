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

namespace {

// A temp file that is unlinked when this object dies (after mapping, or on error).
class TempFile {
public:
    explicit TempFile(const std::string& dir) {
        const fs::path base = dir.empty() ? fs::temp_directory_path() : fs::path(dir);
        std::random_device rd;
        path_ = (base / ("rilq-targets-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".bin")).string();
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd_ < 0) throw Error("cannot create the teacher-target file " + path_ + ": " + std::strerror(errno));
    }
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

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

} // namespace

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
    const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));

    TeacherTargets out;
    out.type_ = type;
    out.bytes_ = N * T * D * elem;
    out.storage_ = storage_for(out.bytes_, policy);

    torch::NoGradGuard no_grad;
    ForwardOptions opts;
    opts.want_logits = type == TargetType::Logit;
    opts.want_hidden = type == TargetType::Hidden;
    std::unique_ptr<TempFile> file;
    if (out.storage_ == TargetStorage::Memory) out.data_ = torch::empty({N, T, D}, torch::TensorOptions().dtype(dtype));
    else file = std::make_unique<TempFile>(policy.temp_dir);

    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < N; b += batch_size) {
        progress.check_cancel();
        const int64_t e = std::min(N, b + batch_size);
        const auto result = teacher.forward(ids.slice(0, b, e), opts);
        const auto& y = type == TargetType::Hidden ? result.hidden : result.logits;   // (b, T, D)
        if (file) file->append(y.to(torch::kCPU));
        else out.data_.slice(0, b, e).copy_(y);
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        progress.report({"teacher targets (" + to_string(type) + ")", e, N, "windows", elapsed,
                         elapsed / static_cast<double>(e) * static_cast<double>(N - e)});
    }
    if (file) out.data_ = file->map({N, T, D}, dtype, out.bytes_);
    return out;
}

torch::Tensor TeacherTargets::rows(int64_t begin, int64_t end) const {
    if (begin < 0 || end > count() || begin >= end)
        throw Error("teacher targets: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") out of range (have " + std::to_string(count()) + ")");
    return data_.slice(0, begin, end);
}

} // namespace rilq
