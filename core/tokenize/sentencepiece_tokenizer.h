// SentencePiece tokenizer.model (Llama-2, stories tok512) through libsentencepiece, reached via
// the dlopen()ed rilq_spm shim (spm_library.h); rilq_core itself never links sentencepiece.
#pragma once
#include "core/tokenize/tokenizer.h"

#include <cstddef>
#include <string_view>

namespace rilq {

class SentencePieceTokenizer final : public Tokenizer {
  public:
    // Parses the serialized ModelProto; Error naming `path` when the library refuses it.
    SentencePieceTokenizer(const std::string& path, std::string_view serialized_model);
    ~SentencePieceTokenizer() override;

    // BOS once in front when add_bos (what HF's LlamaTokenizer does); the library applies the
    // model's own normaliser (Llama-2: identity; stories tok512: also collapses runs of spaces
    // and trims leading/trailing ones: remove_extra_whitespaces).
    std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
    // The library's decode: control tokens (BOS/EOS) vanish, byte pieces become bytes, the
    // dummy-prefix space of the first piece is dropped.
    std::string decode(const std::vector<int64_t>& ids) const override;
    int64_t vocab_size() const override;
    int64_t bos_id() const override;
    int64_t eos_id() const override;
    std::string kind() const override { return "sentencepiece"; }
    std::string path() const override { return path_; }
    std::string token_text(int64_t id) const override;
    int64_t special_token_id(const std::string& text) const override;

    // The library's encode time grows faster than linearly with the input (1.3 MB of WikiText:
    // 5-10 s in one call), so long texts go in chunks of about chunk_bytes(), cut just before a
    // space that follows a non-space. That gives the same ids as one call when (checked at load)
    // the model is BPE with the plain identity normaliser, a dummy-prefix "▁" and no whitespace
    // removal, and no piece has a non-"▁" character followed by "▁" (Llama-2's): no merge can
    // cross such a cut, and the dropped space comes back as the next chunk's dummy prefix.
    bool chunking_is_exact() const { return chunking_is_exact_; }
    size_t chunk_bytes() const { return chunk_bytes_; }
    // 0 = never chunk. Error when chunking would change the ids of this model.
    void set_chunk_bytes(size_t bytes);

  private:
    std::vector<int64_t> encode_once(std::string_view text) const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string path_;
    bool chunking_is_exact_ = false;
    size_t chunk_bytes_ = 0;
};

// True when the bytes parse as a SentencePiece model (used by format detection; loads the shim).
bool is_sentencepiece_model(std::string_view bytes);

} // namespace rilq
