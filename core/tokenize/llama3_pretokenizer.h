// The Llama-3 pre-tokenizer: splits text into the pieces that byte-level BPE then encodes one
// at a time. It reproduces, by hand over UTF-8 code points, the matches of Meta's regex
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (tiktoken's find_iter; HF's Split with behavior Isolated gives the same pieces).
// std::regex cannot express \p{L}; the classes come from unicode_tables.h.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

namespace rilq {

// The exact Llama-3 pattern, as it appears in Meta's tokenizer.py and in tokenizer.json.
extern const char* const kLlama3PretokenizerPattern;

struct ByteSpan {
    std::size_t begin = 0; // byte offset into the text
    std::size_t end = 0;   // one past the last byte
};

// Consecutive, non-empty spans that cover the whole text. Bytes that are not valid UTF-8
// count as one "other" character each (neither letter, number nor whitespace), so they
// still reach BPE as raw bytes.
std::vector<ByteSpan> llama3_pretokenize(std::string_view text);

} // namespace rilq
