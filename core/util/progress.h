// Progress reporting and cancellation for long work (evaluation, quantization, training).
// Core never blocks on the observer: it calls it from the working thread, and front ends
// (the CLI's progress bar, the GUI's queued signals) decide how to show it.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/util/error.h"

namespace rilq {

struct ProgressInfo {
    std::string stage;        // "eval wikitext2", "quantize layers.3.mlp.up_proj", ...
    int64_t done = 0;         // units finished (tokens, layers, steps)
    int64_t total = 0;        // units in all, 0 when unknown
    std::string unit;         // "tokens", "layers", "steps"
    double elapsed_s = 0.0;
    double eta_s = -1.0;      // negative while unknown
};

using ProgressCallback = std::function<void(const ProgressInfo&)>;

// A cancel flag shared between a worker and whoever may stop it.
class CancelToken {
public:
    void cancel() { flag_.store(true, std::memory_order_relaxed); }
    bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
    void throw_if_cancelled() const {
        if (cancelled()) throw Cancelled();
    }

private:
    std::atomic<bool> flag_{false};
};

// What long operations take: both parts optional.
struct ProgressSink {
    ProgressCallback on_progress;
    const CancelToken* cancel = nullptr;

    void report(const ProgressInfo& info) const {
        if (on_progress) on_progress(info);
    }
    void check_cancel() const {
        if (cancel) cancel->throw_if_cancelled();
    }
};

} // namespace rilq
