// NumPy's `np.random.default_rng(seed)` (numpy >= 1.17: SeedSequence + PCG64), far enough for
// `Generator.permutation(n)`, bit for bit. That permutation is what Hugging Face datasets'
// `train_test_split(test_size, shuffle=True, seed=42)` draws to hold rows out: irlora.py takes its
// Alpaca eval split that way (l. 657-665; shared/data/mmlu/PROTOCOL.md section 2).
//
// Sources followed: numpy/random/bit_generator.pyx (SeedSequence: hashmix, mix, mix_entropy,
// generate_state), numpy/random/src/pcg64/pcg64.h (128-bit LCG, XSL-RR output, next32 buffering),
// numpy/random/src/distributions/distributions.c (random_interval), _generator.pyx (shuffle).
#pragma once
#include <cstdint>
#include <vector>

namespace rilq {

// PCG64's 128-bit state; __extension__ keeps -Wpedantic quiet about the GCC/Clang type.
__extension__ typedef unsigned __int128 Uint128;

class NumpyPcg64 {
  public:
    // default_rng(seed) for a seed that fits 64 bits.
    explicit NumpyPcg64(uint64_t seed);

    uint64_t next_uint64();
    // The low half of a 64-bit draw; the high half is kept for the next call (pcg64_next32).
    uint32_t next_uint32();
    // Uniform in [0, max]: the smallest all-ones mask >= max, draws rejected while above max
    // (32-bit draws when max fits 32 bits).
    uint64_t random_interval(uint64_t max);
    // Generator.permutation(n): arange(n) shuffled by Fisher-Yates from the last element down.
    std::vector<int64_t> permutation(int64_t n);

  private:
    void step();

    Uint128 state_ = 0;
    Uint128 increment_ = 0;
    bool has_uint32_ = false;
    uint32_t buffered_uint32_ = 0;
};

} // namespace rilq
