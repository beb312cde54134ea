// One interface over the tokenizers Llama models ship with:
//   SentencePiece tokenizer.model (Llama-2, stories), tiktoken-style tokenizer.model and HF
//   tokenizer.json byte-level BPE (Llama-3), llama2.c tokenizer.bin.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rilq {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // BOS is added once at the start of the stream when add_bos is true (as HF does).
    virtual std::vector<int64_t> encode(const std::string& text, bool add_bos) const = 0;
    virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
    virtual int64_t vocab_size() const = 0;
    virtual int64_t bos_id() const = 0;
    virtual int64_t eos_id() const = 0;
    virtual std::string kind() const = 0;   // "sentencepiece", "tiktoken", "hf-bpe", "llama2c"
    virtual std::string path() const = 0;   // the file it was loaded from

    // The vocabulary's own spelling of one token: the piece for SentencePiece and llama2.c
    // ("\xe2\x96\x81the" / " the", "<0x0A>"), the raw bytes for byte-level BPE, the text of a
    // special token. Error for an id outside the vocabulary.
    virtual std::string token_text(int64_t id) const { return decode({id}); }
    // The id of a special / control token by its text ("<|eot_id|>", "<s>"), -1 when absent.
    virtual int64_t special_token_id(const std::string& /*text*/) const { return -1; }
};

// Loads a tokenizer file, recognising its format by content (not by name; tokenizer_format.h).
// Special-token text inside encoded strings ("<|eot_id|>", "<s>") is ordinary text for every
// kind; special ids come only from add_bos or from callers (special_token_id).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& file);

// Finds the tokenizer that belongs to a model path: inside an HF folder, or beside a
// llama2.c .bin (tokenizer.json, tokenizer.model, tokenizer.bin, then tok*.model, tok*.bin).
// Error naming the path when none is found.
std::unique_ptr<Tokenizer> find_tokenizer(const std::string& model_path);

} // namespace rilq
