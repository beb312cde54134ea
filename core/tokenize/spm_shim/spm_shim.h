/* rilq_spm: a plain C face over libsentencepiece, built as its own shared library.
 *
 * Why: Debian's libsentencepiece embeds protobuf-lite 3.14 and exports its symbols, while
 * LibTorch brings libprotobuf 3.21; both in one process crash in protobuf's static init before
 * main(). rilq_core never links sentencepiece: it dlopen()s this library with RTLD_DEEPBIND
 * (core/tokenize/spm_library.cpp) so that the shim and libsentencepiece bind to their own
 * protobuf copy. Only C types cross the boundary.
 *
 * Conventions: functions that can fail return 0 on success and non-zero on failure, writing a
 * NUL-terminated message into err[0..err_size). Buffers the shim allocates are released with
 * rilq_spm_free_buffer. */
#ifndef RILQ_SPM_SHIM_H
#define RILQ_SPM_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shim is built with hidden visibility; only these functions are exported. */
#define RILQ_SPM_API __attribute__((visibility("default")))

/* Bumped whenever a signature below changes; the loader refuses a mismatch. */
#define RILQ_SPM_ABI_VERSION 1

typedef struct rilq_spm_model rilq_spm_model;

RILQ_SPM_API int rilq_spm_abi_version(void);

/* A serialized ModelProto (the bytes of tokenizer.model). NULL on failure. */
RILQ_SPM_API rilq_spm_model* rilq_spm_load_from_bytes(const char* data, size_t size, char* err,
                                                      size_t err_size);
RILQ_SPM_API rilq_spm_model* rilq_spm_load_file(const char* path, char* err, size_t err_size);
RILQ_SPM_API void rilq_spm_free(rilq_spm_model* model);

RILQ_SPM_API int rilq_spm_piece_size(const rilq_spm_model* model);
RILQ_SPM_API int rilq_spm_bos_id(const rilq_spm_model* model); /* -1 when the model has none */
RILQ_SPM_API int rilq_spm_eos_id(const rilq_spm_model* model);
RILQ_SPM_API int rilq_spm_unk_id(const rilq_spm_model* model);

/* *ids receives a buffer of *n_ids ints (free with rilq_spm_free_buffer). */
RILQ_SPM_API int rilq_spm_encode(const rilq_spm_model* model, const char* text, size_t text_size, int** ids,
                                 size_t* n_ids, char* err, size_t err_size);
/* *text receives *text_size bytes plus a NUL (free with rilq_spm_free_buffer). */
RILQ_SPM_API int rilq_spm_decode(const rilq_spm_model* model, const int* ids, size_t n_ids, char** text,
                                 size_t* text_size, char* err, size_t err_size);
RILQ_SPM_API void rilq_spm_free_buffer(void* buffer);

/* The piece of an id (valid while the model lives), NULL when out of range. */
RILQ_SPM_API const char* rilq_spm_id_to_piece(const rilq_spm_model* model, int id, size_t* piece_size);
/* The id of a piece, -1 when the vocabulary has no such piece (not unk). */
RILQ_SPM_API int rilq_spm_piece_to_id(const rilq_spm_model* model, const char* piece, size_t piece_size);
RILQ_SPM_API int rilq_spm_is_control(const rilq_spm_model* model, int id);
RILQ_SPM_API int rilq_spm_is_unknown(const rilq_spm_model* model, int id);
RILQ_SPM_API int rilq_spm_is_byte(const rilq_spm_model* model, int id);

/* SentencePieceTrainer::Train with a flag string ("--input=a.txt --model_prefix=m --vocab_size=512"). */
RILQ_SPM_API int rilq_spm_train(const char* args, char* err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* RILQ_SPM_SHIM_H */
