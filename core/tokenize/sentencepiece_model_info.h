// The few settings of a SentencePiece ModelProto that decide whether a long text may be
// encoded in chunks (sentencepiece_tokenizer.cpp), read straight from the protobuf wire
// format: the library's headers do not expose the proto, and its fields are stable
// (sentencepiece_model.proto: ModelProto.trainer_spec = 2, .normalizer_spec = 3).
#pragma once
#include <string>
#include <string_view>

namespace rilq {

struct SentencePieceModelInfo {
    int model_type = 1;                      // TrainerSpec.model_type (3): 1 unigram, 2 BPE
    bool treat_whitespace_as_suffix = false; // TrainerSpec field 24
    std::string normalizer_name;             // NormalizerSpec.name (1): "identity", "nmt_nfkc", ...
    bool has_precompiled_charsmap = false;   // NormalizerSpec field 2 non-empty: a real normaliser
    bool add_dummy_prefix = true;            // NormalizerSpec field 3 (default true)
    bool remove_extra_whitespaces = true;    // NormalizerSpec field 4 (default true)
    bool escape_whitespaces = true;          // NormalizerSpec field 5 (default true)
};

// Throws rilq::Error naming `path` when the bytes are not well-formed protobuf.
SentencePieceModelInfo read_sentencepiece_model_info(const std::string& path, std::string_view bytes);

} // namespace rilq
