// Hugging Face tokenizer.json with a byte-level BPE model (Llama-3's): model.vocab spelled in
// GPT-2's bytes_to_unicode alphabet, model.merges as "a b" strings or ["a", "b"] pairs (rank =
// index), added_tokens for the specials, model.ignore_merges. Only the Llama-3 pre-tokenizer
// (Split on its regex + ByteLevel without regex) and no normalizer are supported: anything
// else is refused with the JSON path, since encoding it with our splitter would be silently
// wrong. BOS/EOS come from tokenizer_config.json beside the file when it names them, else
// from <|begin_of_text|> / <|end_of_text|> when those tokens exist.
#pragma once
#include "core/tokenize/tokenizer.h"

#include <string_view>

namespace rilq {

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::string_view content);

// GPT-2's bytes_to_unicode: the code point that stands for each byte in vocab strings.
char32_t byte_to_unicode(unsigned char byte);

} // namespace rilq
