// Hands the heap's free pages back to the system (glibc malloc_trim). Tensors of 1-32 MB come from
// the heap rather than their own mappings (glibc raises its mmap threshold to the largest block
// freed, up to 32 MB), so long-lived ones (packed codes, LoRA and Adam state) end up between freed
// activations and quantizer scratch, and those holes stay resident: on the Llama-2-7B-shape memory
// bench about 1.3 GB after preparation. The layer-streamed preparation calls this after each layer.
#pragma once
#include <chrono>

namespace rilq {

void release_free_heap();

// release_free_heap() at most once per interval (the trainer, after optimizer updates): the pages
// handed back fault in again on the next step's allocations, which costs about a second per GB on
// this VM; a 7B update (over a minute) pays that once, while a small model's millisecond updates
// would pay it every time (measured: the dim-512 bench step fell from 590 to 207 tokens/s).
class PeriodicHeapRelease {
  public:
    explicit PeriodicHeapRelease(std::chrono::seconds interval = std::chrono::seconds(30));
    void operator()();

  private:
    std::chrono::seconds interval_;
    std::chrono::steady_clock::time_point last_;
};

} // namespace rilq
