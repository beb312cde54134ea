// Byte-level BPE as Llama-3 uses it: the Llama-3 pre-tokenizer splits the text, each piece's
// UTF-8 bytes start as single-byte tokens and merge pairwise by rank (pair_merge.h).
// Two loaders fill it: the tiktoken rank file (tiktoken_file.h) and HF tokenizer.json
// (hf_tokenizer_json.h).
//
// Special tokens written in the input text are NOT recognised: "<|eot_id|>" in a string is
// encoded as ordinary text, as tiktoken's encode(..., allowed_special=set(), disallowed_special=())
// does in Meta's tokenizer.py. Special ids come only from add_bos or from callers that insert
// them (special_token_id). HF tokenizers would match added tokens in the text; we do not, so a
// prompt can never smuggle control tokens in.
// Unlike Meta's tokenizer.py the text is not cut into 400,000-char chunks before encoding
// (a workaround for a tiktoken stack limit that can split a piece at a chunk boundary); this
// matches tiktoken's Encoding.encode and HF on any text.
#pragma once
#include "core/tokenize/pair_merge.h"
#include "core/tokenize/tokenizer.h"

#include <array>
#include <string_view>
#include <unordered_map>

namespace rilq {

// How two adjacent tokens merge.
enum class MergeRule {
    // tiktoken: when their concatenated bytes are a token, at that token's rank (= id); looked
    // up on the fly, so loading precomputes nothing.
    ConcatenationRank,
    // tokenizer.json: only the pairs of model.merges, at their index there.
    MergeList,
};

struct ByteLevelBpeSpec {
    std::string kind;                     // "tiktoken" or "hf-bpe"
    std::string path;                     // file it came from, for messages
    std::vector<std::string> token_bytes; // id -> bytes; "" where an id is not an ordinary token
    std::vector<std::pair<std::string, int64_t>> specials; // text -> id, decoded as their text
    MergeRule merge_rule = MergeRule::ConcatenationRank;
    std::unordered_map<uint64_t, PairMerge> merge_list; // MergeList: pair_key(left, right) -> merge
    // Look a whole piece up in the vocabulary before merging: tiktoken always does; tokenizer.json
    // does when model.ignore_merges is true (Llama-3's does).
    bool whole_piece_lookup = true;
    int64_t bos_id = -1;
    int64_t eos_id = -1;
};

inline uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

class ByteLevelBpeTokenizer final : public Tokenizer {
  public:
    // Throws rilq::Error naming the file when a byte has no single-byte token.
    explicit ByteLevelBpeTokenizer(ByteLevelBpeSpec spec);
    // token_of_bytes_ views into spec_.token_bytes: a copy would dangle.
    ByteLevelBpeTokenizer(const ByteLevelBpeTokenizer&) = delete;
    ByteLevelBpeTokenizer& operator=(const ByteLevelBpeTokenizer&) = delete;

    std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
    // Concatenated token bytes (special tokens as their text); may end inside a UTF-8 character
    // when the ids stop there, as tiktoken's decode_bytes does.
    std::string decode(const std::vector<int64_t>& ids) const override;
    int64_t vocab_size() const override { return vocab_size_; }
    int64_t bos_id() const override { return spec_.bos_id; }
    int64_t eos_id() const override { return spec_.eos_id; }
    std::string kind() const override { return spec_.kind; }
    std::string path() const override { return spec_.path; }
    std::string token_text(int64_t id) const override;
    int64_t special_token_id(const std::string& text) const override;

  private:
    // Ids of one pre-tokenizer piece.
    void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

    ByteLevelBpeSpec spec_;
    int64_t vocab_size_ = 0;
    std::array<int32_t, 256> byte_token_{};
    std::unordered_map<std::string_view, int32_t> token_of_bytes_; // views into spec_.token_bytes
    std::unordered_map<int64_t, std::string> special_text_;
};

} // namespace rilq
