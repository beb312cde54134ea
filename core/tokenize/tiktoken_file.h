// Llama-3's original tokenizer.model: tiktoken's rank file, one "<base64 token bytes> <rank>"
// per line (the format of tiktoken.load.load_tiktoken_bpe). The file holds only the ordinary
// tokens; Meta's tokenizer.py appends 256 special tokens after them, and so do we.
#pragma once
#include "core/tokenize/tokenizer.h"

#include <string_view>

namespace rilq {

// Meta's Llama-3 special tokens in id order, starting at the number of ranks (128000):
// <|begin_of_text|>, <|end_of_text|>, <|reserved_special_token_0..3|>, <|start_header_id|>,
// <|end_header_id|>, <|reserved_special_token_4|>, <|eot_id|>, <|reserved_special_token_5..250|>
// (llama3 tokenizer.py as released with Llama 3, April 2024).
std::vector<std::string> llama3_special_tokens();

// True when the first line has the rank-file shape (base64, one space, a number).
bool looks_like_tiktoken_file(std::string_view content);

// Builds the tokenizer from the file's bytes; BOS = <|begin_of_text|>, EOS = <|end_of_text|>.
// Errors name the file and line.
std::unique_ptr<Tokenizer> load_tiktoken_file(const std::string& path, std::string_view content);

} // namespace rilq
