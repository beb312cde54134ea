// Recognising a tokenizer file by its content, whatever it is called.
#pragma once
#include <string_view>

namespace rilq {

enum class TokenizerFormat {
    SentencePiece,   // serialized sentencepiece ModelProto (tokenizer.model of Llama-2)
    Tiktoken,        // "<base64> <rank>" lines (tokenizer.model of Llama-3)
    HfTokenizerJson, // HF tokenizer.json
    Llama2cBin,      // llama2.c tokenizer.bin
    Unknown,
};

// Checks in this order: JSON object, rank-file first line, llama2.c records that end exactly
// at the end of the file, a ModelProto SentencePiece accepts.
TokenizerFormat detect_tokenizer_format(std::string_view content);
const char* to_string(TokenizerFormat format);

} // namespace rilq
