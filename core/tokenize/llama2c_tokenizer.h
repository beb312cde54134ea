// llama2.c's tokenizer.bin: int32 max_token_length, then per token {float32 score, int32 len,
// len bytes}, little-endian, until the end of the file (the vocab size is not stored). Pieces
// are SentencePiece's with U+2581 replaced by ' ', BOS/EOS spelled "\n<s>\n" / "\n</s>\n", bytes
// as "<0xXX>" at ids 3..258.
//
// encode follows run.c's encode(): a dummy-prefix " " token when the text is non-empty, one
// token per UTF-8 code point (up to 4 bytes) or its bytes as <0xXX> (id byte + 3), then merges
// of the adjacent pair whose concatenation has the highest score (leftmost on ties) until none
// is left; BOS takes part in the loop as in run.c. The quadratic rescan is replaced by the
// equivalent heap (pair_merge.h).
// What run.c does NOT do that SentencePiece does: no normaliser. Llama-2's model uses the
// identity normaliser, so ids agree; stories tok512.model also removes extra whitespace (runs
// of spaces collapsed, leading/trailing spaces dropped) and tok512.bin does not, so texts with
// such spaces get different ids (tests/test_tokenizer_llama2c.cpp shows both).
#pragma once
#include "core/tokenize/tokenizer.h"

#include <string_view>
#include <unordered_map>

namespace rilq {

class Llama2cTokenizer final : public Tokenizer {
  public:
    // Error naming `path` and the record when the file is truncated or not this format.
    Llama2cTokenizer(const std::string& path, std::string_view content);
    // id_of_piece_ views into pieces_: a copy would dangle, a move keeps the strings in place.
    Llama2cTokenizer(const Llama2cTokenizer&) = delete;
    Llama2cTokenizer& operator=(const Llama2cTokenizer&) = delete;
    Llama2cTokenizer(Llama2cTokenizer&&) = default;

    std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
    // run.c's decode(): <0xXX> pieces become their byte, the leading space of the first piece
    // (of the sequence, or after BOS) is dropped. BOS/EOS render as nothing, as SentencePiece
    // decodes them, instead of run.c's "\n<s>\n" (run.c never prints them).
    std::string decode(const std::vector<int64_t>& ids) const override;
    int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
    int64_t bos_id() const override { return 1; } // fixed in run.c
    int64_t eos_id() const override { return 2; }
    std::string kind() const override { return "llama2c"; }
    std::string path() const override { return path_; }
    std::string token_text(int64_t id) const override;
    int64_t special_token_id(const std::string& text) const override;

    int32_t max_token_length() const { return max_token_length_; }
    float score(int64_t id) const;

  private:
    size_t checked_index(int64_t id) const;             // Error naming the file when out of range
    void merge_all(std::vector<int32_t>& tokens) const; // run.c's merge loop over one sequence

    std::string path_;
    int32_t max_token_length_ = 0;
    std::vector<std::string> pieces_;
    std::vector<float> scores_;
    std::unordered_map<std::string_view, int32_t> id_of_piece_; // views into pieces_
    // True when no piece has a non-space byte followed by a space (Llama-2's and tok512's do
    // not: only all-space pieces contain inner spaces). Then no merge can join a token ending
    // in a non-space to a following token starting with a space, so the sequence splits there
    // into words that merge independently, and repeated words are merged once: the same ids as
    // one global loop, 5x faster on WikiText.
    bool words_are_independent_ = false;
};

// True when the bytes parse as tokenizer.bin records that end exactly at the end of the file.
bool looks_like_llama2c_tokenizer(std::string_view content);

} // namespace rilq
