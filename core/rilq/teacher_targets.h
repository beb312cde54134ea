// The FP teacher's outputs on the calibration windows, computed once before training so the
// teacher's weights can be released (the official code does the same: "Step 2-3 Extract FP
// Activation", then `del fp_model`).
//
// Storage rule (one rule for both kinds of target):
//   bytes = N * T * D * sizeof(teacher compute dtype),  D = C for "hid", V for "logit".
//   bytes <= memory_budget_bytes  -> an ordinary in-memory tensor;
//   otherwise                     -> a temp file written batch by batch, then memory-mapped
//                                    read-only and unlinked at once: the kernel pages rows in
//                                    on demand and can drop them under pressure, and nothing
//                                    is left on disk even if the process dies.
// With the default 4 GiB budget, hidden targets stay in memory for every model up to 70B at
// 320 x 512 windows (8192 * 320 * 512 * 2 B = 2.7 GB bf16); logit targets of a 32k-vocab model
// (320 x 512 x 32000 x 2 B = 10.5 GB bf16) go to the mapped file. Peak memory of a run is then
// about one model copy (the teacher while caching, the student afterwards) plus the in-memory
// targets; the caller drops the teacher as soon as compute() returns.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/util/tensor.h"

#include "core/rilq/train_config.h"
#include "core/util/progress.h"

namespace rilq {

class LlamaModel;

enum class TargetStorage { Memory, MappedFile };

struct TargetCachePolicy {
    int64_t memory_budget_bytes = int64_t{4} << 30;
    std::string temp_dir;   // for the mapped file; empty = the system temp folder
};

class TeacherTargets {
public:
    TeacherTargets() = default;

    // Runs the teacher (no grad) over ids (N, T) in batches of batch_size windows.
    // Cancellable between batches (throws rilq::Cancelled).
    static TeacherTargets compute(const LlamaModel& teacher, const torch::Tensor& ids, TargetType type,
                                  int64_t batch_size, const TargetCachePolicy& policy,
                                  const ProgressSink& progress = {});

    static TargetStorage storage_for(int64_t bytes, const TargetCachePolicy& policy);

    // Targets computed earlier and read back (a shared preparation, core/run/prepared_artifact.h):
    // `data` (N, T, D) in the teacher's compute dtype, held in memory.
    static TeacherTargets from_tensor(torch::Tensor data, TargetType type);

    // Rows [begin, end) as a view (B, T, D) in the teacher's compute dtype; no copy.
    torch::Tensor rows(int64_t begin, int64_t end) const;
    const torch::Tensor& all() const { return data_; }   // (N, T, D)
    int64_t count() const { return data_.defined() ? data_.size(0) : 0; }
    int64_t bytes() const { return bytes_; }
    TargetStorage storage() const { return storage_; }
    TargetType type() const { return type_; }

private:
  friend class TeacherTargetWriter;
  torch::Tensor data_;
  int64_t bytes_ = 0;
  TargetStorage storage_ = TargetStorage::Memory;
  TargetType type_ = TargetType::Hidden;
};

// Targets written batch by batch in window order, stored by the rule above: what compute() uses,
// and what the layer-streamed preparation (core/run/streamed_preparation.h) fills once the
// teacher's last layer has run.
class TeacherTargetWriter {
  public:
    TeacherTargetWriter(int64_t windows, int64_t seqlen, int64_t width, torch::Dtype dtype, TargetType type,
                        const TargetCachePolicy& policy);
    ~TeacherTargetWriter();
    TeacherTargetWriter(const TeacherTargetWriter&) = delete;
    TeacherTargetWriter& operator=(const TeacherTargetWriter&) = delete;

    void append(const torch::Tensor& rows); // (b, T, D): the next b windows
    TeacherTargets finish();                // Error unless every window was written

  private:
    class TargetFile;
    int64_t windows_, seqlen_, width_;
    torch::Dtype dtype_;
    int64_t written_ = 0;
    TeacherTargets out_;
    std::unique_ptr<TargetFile> file_;
};

} // namespace rilq
