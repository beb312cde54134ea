// A bit-exact re-implementation of CPython 3.11's `random.Random` (MT19937 core plus the
// pure-Python layers randrange / randint / random / shuffle / choice), so that windows
// sampled with `random.seed(0)` (GPTQ/OmniQuant C4 evaluation) or `random.seed(42)` (RILQ
// calibration) pick exactly the documents and offsets the reference Python scripts pick.
//
// Integers are limited to 64 bits (Python's are unbounded): getrandbits(k) for k <= 64,
// ranges of width < 2^64. Seeds of any size can be given as 32-bit words.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/util/error.h"

namespace rilq {

class PythonRandom {
  public:
    explicit PythonRandom(uint64_t seed_value = 0) { seed(seed_value); }

    // random.seed(n) for an int n >= 0.
    void seed(uint64_t value);
    // random.seed(n) for any int64: CPython seeds with abs(n).
    void seed_signed(int64_t value);
    // random.seed(n) for an arbitrary-size n >= 0 given as 32-bit words, least significant
    // first (CPython's init_by_array key). An empty key or all-zero key means n = 0.
    void seed_words(std::vector<uint32_t> key_little_endian);

    // One raw MT19937 output (CPython's genrand_uint32).
    uint32_t next_uint32();
    // random.getrandbits(k), 0 <= k <= 64. For k > 32 CPython fills 32-bit words from the
    // least significant end and shifts the last (most significant) word right.
    uint64_t getrandbits(int k);
    // random._randbelow(n): rejection sampling with k = n.bit_length() bits; n >= 1.
    uint64_t randbelow(uint64_t n);
    // random.randrange(start, stop) with step 1; Error when the range is empty (Python
    // raises ValueError there).
    int64_t randrange(int64_t start, int64_t stop);
    // random.randint(a, b) = randrange(a, b + 1); Error when b < a.
    int64_t randint(int64_t a, int64_t b);
    // random.random(): 53-bit float in [0, 1).
    double random();

    // random.shuffle(x) as in CPython 3.11:
    //   for i in reversed(range(1, len(x))): j = _randbelow(i + 1); x[i], x[j] = x[j], x[i]
    template <class T> void shuffle(std::vector<T>& items) {
        for (size_t i = items.size(); i-- > 1;) {
            const size_t j = static_cast<size_t>(randbelow(static_cast<uint64_t>(i) + 1));
            std::swap(items[i], items[j]);
        }
    }

    // random.choice(seq) = seq[_randbelow(len(seq))]; Error on an empty sequence.
    template <class T> const T& choice(const std::vector<T>& items) {
        if (items.empty()) throw Error("PythonRandom::choice: cannot choose from an empty sequence");
        return items[static_cast<size_t>(randbelow(items.size()))];
    }

  private:
    static constexpr int kStateWords = 624;
    void init_genrand(uint32_t s);
    void init_by_array(const std::vector<uint32_t>& key);

    std::array<uint32_t, kStateWords> mt_{};
    int mti_ = kStateWords + 1;
};

} // namespace rilq
