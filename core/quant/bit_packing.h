// Integer codes of 1..8 bits packed tightly into bytes, row by row. Layout: each row of the
// (rows, cols) code matrix is one little-endian bit stream of ceil(cols * bits / 8) bytes; code
// c of the row occupies stream bits [c * bits, (c + 1) * bits), bit k of the stream being bit
// k % 8 of byte k / 8. So 2- and 4-bit codes fill a byte from its low bits up (4 or 2 per byte),
// 8-bit codes are the bytes themselves, and 3-bit codes run across byte boundaries: 8 codes in
// every 3 bytes. Rows start on a byte boundary so any block of rows unpacks on its own.
#pragma once
#include <cstdint>

#include "core/util/tensor.h"

namespace rilq {

// Bytes of one packed row of `cols` codes.
int64_t packed_row_bytes(int64_t cols, int bits);

// codes: (rows, cols) uint8, each < 2^bits -> (rows, packed_row_bytes(cols, bits)) uint8.
// Throws rilq::Error on a code that does not fit in `bits` or a bits value outside 1..8.
torch::Tensor pack_code_rows(const torch::Tensor& codes, int bits);

// The `cols` codes of one packed row into out[0..cols).
void unpack_code_row(const uint8_t* row, int64_t cols, int bits, uint8_t* out);

} // namespace rilq
