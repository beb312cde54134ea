#include "core/data/numpy_random.h"

#include <array>

#include "core/util/error.h"

namespace rilq {

namespace {

// SeedSequence's constants (bit_generator.pyx).
constexpr uint32_t kInitA = 0x43b0d7e5U;
constexpr uint32_t kMultA = 0x931e8875U;
constexpr uint32_t kInitB = 0x8b51f9ddU;
constexpr uint32_t kMultB = 0x58f38dedU;
constexpr uint32_t kMixMultL = 0xca01f9ddU;
constexpr uint32_t kMixMultR = 0x4973f715U;
constexpr int kXShift = 16;
constexpr size_t kPoolSize = 4;

// PCG_DEFAULT_MULTIPLIER_128
constexpr Uint128 kMultiplier = (static_cast<Uint128>(2549297995355413924ULL) << 64) + 4865540595714422341ULL;

// SeedSequence(seed).generate_state(4, np.uint64): the pool mixed from the seed's 32-bit words,
// then 8 output words hashed from it, read as 4 little-endian uint64.
std::array<uint64_t, 4> seed_sequence_state(uint64_t seed) {
    std::vector<uint32_t> entropy;
    do {
        entropy.push_back(static_cast<uint32_t>(seed));
        seed >>= 32;
    } while (seed != 0);

    uint32_t hash_const = kInitA;
    auto hashmix = [&](uint32_t value) {
        value ^= hash_const;
        hash_const *= kMultA;
        value *= hash_const;
        value ^= value >> kXShift;
        return value;
    };
    auto mix = [](uint32_t x, uint32_t y) {
        uint32_t result = kMixMultL * x - kMixMultR * y;
        result ^= result >> kXShift;
        return result;
    };
    std::array<uint32_t, kPoolSize> pool{};
    for (size_t i = 0; i < kPoolSize; ++i)
        pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0U);
    for (size_t src = 0; src < kPoolSize; ++src)
        for (size_t dst = 0; dst < kPoolSize; ++dst)
            if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    for (size_t src = kPoolSize; src < entropy.size(); ++src)
        for (size_t dst = 0; dst < kPoolSize; ++dst)
            pool[dst] = mix(pool[dst], hashmix(entropy[src]));

    uint32_t hash_b = kInitB;
    std::array<uint32_t, 8> words{};
    for (size_t i = 0; i < words.size(); ++i) {
        uint32_t v = pool[i % kPoolSize];
        v ^= hash_b;
        hash_b *= kMultB;
        v *= hash_b;
        v ^= v >> kXShift;
        words[i] = v;
    }
    std::array<uint64_t, 4> out{};
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = words[2 * i] | (static_cast<uint64_t>(words[2 * i + 1]) << 32);
    return out;
}

} // namespace

NumpyPcg64::NumpyPcg64(uint64_t seed) {
    // pcg64_set_seed(state, &val[0], &val[2]) -> pcg_setseq_128_srandom_r(initstate, initseq).
    const auto v = seed_sequence_state(seed);
    const Uint128 initstate = (static_cast<Uint128>(v[0]) << 64) | v[1];
    const Uint128 initseq = (static_cast<Uint128>(v[2]) << 64) | v[3];
    state_ = 0;
    increment_ = (initseq << 1) | 1;
    step();
    state_ += initstate;
    step();
}

void NumpyPcg64::step() {
    state_ = state_ * kMultiplier + increment_;
}

uint64_t NumpyPcg64::next_uint64() {
    // pcg_setseq_128_xsl_rr_64_random_r: advance, then output the new state.
    step();
    const uint64_t xored = static_cast<uint64_t>(state_ >> 64) ^ static_cast<uint64_t>(state_);
    const unsigned rotation = static_cast<unsigned>(state_ >> 122);
    return (xored >> rotation) | (xored << ((64U - rotation) & 63U));
}

uint32_t NumpyPcg64::next_uint32() {
    if (has_uint32_) {
        has_uint32_ = false;
        return buffered_uint32_;
    }
    const uint64_t next = next_uint64();
    has_uint32_ = true;
    buffered_uint32_ = static_cast<uint32_t>(next >> 32);
    return static_cast<uint32_t>(next);
}

uint64_t NumpyPcg64::random_interval(uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max;
    for (const int shift : {1, 2, 4, 8, 16, 32})
        mask |= mask >> shift;
    uint64_t value = 0;
    if (max <= 0xffffffffULL) {
        while ((value = (next_uint32() & mask)) > max) {
        }
    } else {
        while ((value = (next_uint64() & mask)) > max) {
        }
    }
    return value;
}

std::vector<int64_t> NumpyPcg64::permutation(int64_t n) {
    if (n < 0) throw Error("permutation: n must be >= 0, found " + std::to_string(n));
    std::vector<int64_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] = i;
    for (int64_t i = n - 1; i >= 1; --i) {
        const auto j = static_cast<size_t>(random_interval(static_cast<uint64_t>(i)));
        std::swap(out[static_cast<size_t>(i)], out[j]);
    }
    return out;
}

} // namespace rilq
