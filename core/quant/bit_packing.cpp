#include "core/quant/bit_packing.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <cstring>
#include <string>

namespace rilq {

namespace {

// The code at stream position c of a packed row of `row_bytes` bytes (any width 1..8).
uint8_t packed_code_at(const uint8_t* row, int64_t row_bytes, int64_t c, int bits) {
    const int64_t bit = c * bits, byte = bit >> 3;
    uint32_t v = row[byte];
    if (byte + 1 < row_bytes) v |= static_cast<uint32_t>(row[byte + 1]) << 8;
    return static_cast<uint8_t>((v >> (bit & 7)) & ((1u << bits) - 1u));
}

} // namespace

int64_t packed_row_bytes(int64_t cols, int bits) {
    return (cols * bits + 7) / 8;
}

torch::Tensor pack_code_rows(const torch::Tensor& codes, int bits) {
    if (bits < 1 || bits > 8) throw Error("pack codes: bits must be 1..8, found " + std::to_string(bits));
    if (codes.dim() != 2 || codes.scalar_type() != torch::kUInt8)
        throw Error("pack codes: expected a 2-D uint8 code matrix");
    const auto c = codes.contiguous();
    const int64_t rows = c.size(0), cols = c.size(1), row_bytes = packed_row_bytes(cols, bits);
    auto packed = torch::zeros({rows, row_bytes}, torch::kUInt8);
    const uint8_t* in = c.data_ptr<uint8_t>();
    uint8_t* out = packed.data_ptr<uint8_t>();
    const uint32_t limit = 1u << bits;
    for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* src = in + r * cols;
        uint8_t* dst = out + r * row_bytes;
        for (int64_t i = 0; i < cols; ++i) {
            if (src[i] >= limit)
                throw Error("pack codes: code " + std::to_string(src[i]) + " at [" + std::to_string(r) +
                            ", " + std::to_string(i) + "] does not fit in " + std::to_string(bits) + " bits");
            const int64_t bit = i * bits, byte = bit >> 3;
            const uint32_t v = static_cast<uint32_t>(src[i]) << (bit & 7);
            dst[byte] = static_cast<uint8_t>(dst[byte] | (v & 0xffu));
            if (v > 0xffu) dst[byte + 1] = static_cast<uint8_t>(dst[byte + 1] | (v >> 8));
        }
    }
    return packed;
}

void unpack_code_row(const uint8_t* row, int64_t cols, int bits, uint8_t* out) {
    const int64_t row_bytes = packed_row_bytes(cols, bits);
    int64_t c = 0;
    switch (bits) {
    case 8:
        std::memcpy(out, row, static_cast<size_t>(cols));
        return;
    case 4:
        for (; c + 2 <= cols; c += 2) {
            const uint8_t b = row[c >> 1];
            out[c] = b & 0x0f;
            out[c + 1] = b >> 4;
        }
        break;
    case 2:
        for (; c + 4 <= cols; c += 4) {
            const uint8_t b = row[c >> 2];
            out[c] = b & 3;
            out[c + 1] = (b >> 2) & 3;
            out[c + 2] = (b >> 4) & 3;
            out[c + 3] = b >> 6;
        }
        break;
    case 3:
        // 8 codes in 3 bytes.
        for (; c + 8 <= cols; c += 8) {
            const uint8_t* p = row + (c >> 3) * 3;
            const uint32_t v =
                p[0] | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16);
            for (int k = 0; k < 8; ++k)
                out[c + k] = static_cast<uint8_t>((v >> (3 * k)) & 7u);
        }
        break;
    default:
        break;
    }
    for (; c < cols; ++c)
        out[c] = packed_code_at(row, row_bytes, c, bits);
}

} // namespace rilq
