// MT19937 and its seeding follow CPython's Modules/_randommodule.c (which follows
// Matsumoto & Nishimura's mt19937ar.c); the layers above follow Lib/random.py of 3.11.
#include "core/data/python_random.h"

#include <string>

namespace rilq {

namespace {

constexpr int kShiftM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpperMask = 0x80000000U;
constexpr uint32_t kLowerMask = 0x7fffffffU;

int bit_length(uint64_t n) {
    int bits = 0;
    while (n != 0) {
        ++bits;
        n >>= 1;
    }
    return bits;
}

// start + offset for offset < width, computed in unsigned arithmetic so ranges wider than
// INT64_MAX (e.g. randint(-2**62, 2**62)) do not overflow.
int64_t add_offset(int64_t start, uint64_t offset) {
    return static_cast<int64_t>(static_cast<uint64_t>(start) + offset);
}

} // namespace

void PythonRandom::init_genrand(uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < kStateWords; ++i) {
        const uint32_t prev = mt_[static_cast<size_t>(i - 1)];
        mt_[static_cast<size_t>(i)] = 1812433253U * (prev ^ (prev >> 30)) + static_cast<uint32_t>(i);
    }
    mti_ = kStateWords;
}

void PythonRandom::init_by_array(const std::vector<uint32_t>& key) {
    init_genrand(19650218U);
    const size_t key_length = key.size();
    size_t i = 1;
    size_t j = 0;
    for (size_t k = (static_cast<size_t>(kStateWords) > key_length ? kStateWords : key_length); k > 0; --k) {
        mt_[i] =
            (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] + static_cast<uint32_t>(j);
        ++i;
        ++j;
        if (i >= static_cast<size_t>(kStateWords)) {
            mt_[0] = mt_[kStateWords - 1];
            i = 1;
        }
        if (j >= key_length) j = 0;
    }
    for (size_t k = kStateWords - 1; k > 0; --k) {
        mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
        ++i;
        if (i >= static_cast<size_t>(kStateWords)) {
            mt_[0] = mt_[kStateWords - 1];
            i = 1;
        }
    }
    mt_[0] = 0x80000000U; // MSB is 1, assuring a non-zero initial array
}

void PythonRandom::seed(uint64_t value) {
    std::vector<uint32_t> key;
    while (value != 0) {
        key.push_back(static_cast<uint32_t>(value & 0xffffffffU));
        value >>= 32;
    }
    seed_words(std::move(key));
}

void PythonRandom::seed_signed(int64_t value) {
    // abs() in unsigned arithmetic: well defined for INT64_MIN too.
    const uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    seed(magnitude);
}

void PythonRandom::seed_words(std::vector<uint32_t> key_little_endian) {
    // CPython drops leading zero words (it sizes the key by the int's bit length) and uses
    // the key [0] for seed 0.
    while (!key_little_endian.empty() && key_little_endian.back() == 0)
        key_little_endian.pop_back();
    if (key_little_endian.empty()) key_little_endian.push_back(0);
    init_by_array(key_little_endian);
}

uint32_t PythonRandom::next_uint32() {
    static constexpr uint32_t mag01[2] = {0x0U, kMatrixA};
    if (mti_ >= kStateWords) {
        int kk = 0;
        for (; kk < kStateWords - kShiftM; ++kk) {
            const uint32_t y =
                (mt_[static_cast<size_t>(kk)] & kUpperMask) | (mt_[static_cast<size_t>(kk + 1)] & kLowerMask);
            mt_[static_cast<size_t>(kk)] =
                mt_[static_cast<size_t>(kk + kShiftM)] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        for (; kk < kStateWords - 1; ++kk) {
            const uint32_t y =
                (mt_[static_cast<size_t>(kk)] & kUpperMask) | (mt_[static_cast<size_t>(kk + 1)] & kLowerMask);
            mt_[static_cast<size_t>(kk)] =
                mt_[static_cast<size_t>(kk + (kShiftM - kStateWords))] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        const uint32_t y = (mt_[kStateWords - 1] & kUpperMask) | (mt_[0] & kLowerMask);
        mt_[kStateWords - 1] = mt_[kShiftM - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
        mti_ = 0;
    }
    uint32_t y = mt_[static_cast<size_t>(mti_++)];
    // Tempering.
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

uint64_t PythonRandom::getrandbits(int k) {
    if (k < 0 || k > 64)
        throw Error("PythonRandom::getrandbits: k must be in [0, 64] (64-bit port), got " +
                    std::to_string(k));
    if (k == 0) return 0; // CPython >= 3.9 returns 0 without consuming state
    if (k <= 32) return next_uint32() >> (32 - k);
    // Least significant word first; the last word keeps only its top (k - 32) bits.
    const uint64_t low = next_uint32();
    const uint64_t high = next_uint32() >> (64 - k);
    return low | (high << 32);
}

uint64_t PythonRandom::randbelow(uint64_t n) {
    if (n == 0) throw Error("PythonRandom::randbelow: n must be >= 1");
    const int k = bit_length(n); // not (n-1): CPython uses n.bit_length() so that n = 1 works
    uint64_t r = getrandbits(k);
    while (r >= n)
        r = getrandbits(k);
    return r;
}

int64_t PythonRandom::randrange(int64_t start, int64_t stop) {
    if (stop <= start)
        throw Error("PythonRandom::randrange: empty range for randrange(" + std::to_string(start) + ", " +
                    std::to_string(stop) + ") (Python raises ValueError here)");
    const uint64_t width = static_cast<uint64_t>(stop) - static_cast<uint64_t>(start);
    return add_offset(start, randbelow(width));
}

int64_t PythonRandom::randint(int64_t a, int64_t b) {
    if (b < a)
        throw Error("PythonRandom::randint: empty range for randint(" + std::to_string(a) + ", " +
                    std::to_string(b) + ") (Python raises ValueError here)");
    const uint64_t width = static_cast<uint64_t>(b) - static_cast<uint64_t>(a) + 1;
    if (width == 0)
        throw Error("PythonRandom::randint: range randint(" + std::to_string(a) + ", " + std::to_string(b) +
                    ") is 2^64 wide; this port supports widths below 2^64");
    return add_offset(a, randbelow(width));
}

double PythonRandom::random() {
    const uint32_t a = next_uint32() >> 5; // 27 bits
    const uint32_t b = next_uint32() >> 6; // 26 bits
    return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) * (1.0 / 9007199254740992.0);
}

} // namespace rilq
