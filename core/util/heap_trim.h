// Hands the heap's free pages back to the system (glibc malloc_trim). Tensors of 1-32 MB come from
// the heap rather than their own mappings (glibc raises its mmap threshold to the largest block
// freed, up to 32 MB), so long-lived ones (packed codes, LoRA and Adam state) end up between freed
// activations and quantizer scratch, and those holes stay resident: on the Llama-2-7B-shape memory
// bench about 1.3 GB after preparation. The layer-streamed preparation calls this after each layer
// and the trainer after each optimizer update; each call costs milliseconds.
#pragma once

namespace rilq {

void release_free_heap();

} // namespace rilq
