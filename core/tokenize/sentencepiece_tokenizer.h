// SentencePiece tokenizer.model (Llama-2, stories tok512) through libsentencepiece, reached via
// the dlopen()ed rilq_spm shim (spm_library.h); rilq_core itself never links sentencepiece.
#pragma once
#include "core/tokenize/tokenizer.h"

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

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string path_;
};

// True when the bytes parse as a SentencePiece model (used by format detection; loads the shim).
bool is_sentencepiece_model(std::string_view bytes);

} // namespace rilq
