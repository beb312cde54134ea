// Access to the rilq_spm shim (spm_shim/spm_shim.h): found and dlopen()ed on first use with
// RTLD_DEEPBIND, so libsentencepiece's embedded protobuf never meets LibTorch's.
// Search order: $RILQ_SPM_SHIM, <exe dir>/../lib/rilq/librilq_spm.so, <exe dir>/librilq_spm.so,
// then the build tree's copy. Error listing every path tried when none loads.
#pragma once
#include "core/tokenize/spm_shim/spm_shim.h"

#include <string>

namespace rilq {

struct SpmApi {
    std::string library_path; // the file that was loaded
    decltype(&rilq_spm_load_from_bytes) load_from_bytes = nullptr;
    decltype(&rilq_spm_free) free_model = nullptr;
    decltype(&rilq_spm_piece_size) piece_size = nullptr;
    decltype(&rilq_spm_bos_id) bos_id = nullptr;
    decltype(&rilq_spm_eos_id) eos_id = nullptr;
    decltype(&rilq_spm_unk_id) unk_id = nullptr;
    decltype(&rilq_spm_encode) encode = nullptr;
    decltype(&rilq_spm_decode) decode = nullptr;
    decltype(&rilq_spm_free_buffer) free_buffer = nullptr;
    decltype(&rilq_spm_id_to_piece) id_to_piece = nullptr;
    decltype(&rilq_spm_piece_to_id) piece_to_id = nullptr;
    decltype(&rilq_spm_is_control) is_control = nullptr;
    decltype(&rilq_spm_is_unknown) is_unknown = nullptr;
    decltype(&rilq_spm_is_byte) is_byte = nullptr;
    decltype(&rilq_spm_train) train = nullptr;
};

// Loads the shim once per process (thread-safe); later calls return the same table.
const SpmApi& spm_api();

// Trains a SentencePiece model: `args` as for spm_train ("--input=... --model_prefix=...").
void train_sentencepiece(const std::string& args);

} // namespace rilq
