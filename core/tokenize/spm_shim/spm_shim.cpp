// rilq_spm: implementation of spm_shim.h over libsentencepiece. Built as a separate shared
// library (see the header for why); it may not include anything from rilq_core.
#include "core/tokenize/spm_shim/spm_shim.h"

#include <sentencepiece_processor.h> // sentencepiece::SentencePieceProcessor
#include <sentencepiece_trainer.h>   // sentencepiece::SentencePieceTrainer

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct rilq_spm_model {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

int fail(char* err, size_t err_size, const std::string& message) {
    if (err && err_size > 0) {
        const size_t n = std::min(err_size - 1, message.size());
        std::memcpy(err, message.data(), n);
        err[n] = '\0';
    }
    return 1;
}

bool in_range(const rilq_spm_model* model, int id) {
    return id >= 0 && id < model->processor.GetPieceSize();
}

rilq_spm_model* finish_load(std::unique_ptr<rilq_spm_model> model, const sentencepiece::util::Status& status,
                            char* err, size_t err_size) {
    if (!status.ok()) {
        fail(err, err_size, status.ToString());
        return nullptr;
    }
    return model.release();
}

} // namespace

extern "C" {

int rilq_spm_abi_version(void) {
    return RILQ_SPM_ABI_VERSION;
}

rilq_spm_model* rilq_spm_load_from_bytes(const char* data, size_t size, char* err, size_t err_size) {
    try {
        auto model = std::make_unique<rilq_spm_model>();
        const auto status = model->processor.LoadFromSerializedProto(absl::string_view(data, size));
        return finish_load(std::move(model), status, err, err_size);
    } catch (const std::exception& e) {
        fail(err, err_size, e.what());
        return nullptr;
    }
}

rilq_spm_model* rilq_spm_load_file(const char* path, char* err, size_t err_size) {
    try {
        auto model = std::make_unique<rilq_spm_model>();
        const auto status = model->processor.Load(path);
        return finish_load(std::move(model), status, err, err_size);
    } catch (const std::exception& e) {
        fail(err, err_size, e.what());
        return nullptr;
    }
}

void rilq_spm_free(rilq_spm_model* model) {
    delete model;
}

int rilq_spm_piece_size(const rilq_spm_model* model) {
    return model->processor.GetPieceSize();
}
int rilq_spm_bos_id(const rilq_spm_model* model) {
    return model->processor.bos_id();
}
int rilq_spm_eos_id(const rilq_spm_model* model) {
    return model->processor.eos_id();
}
int rilq_spm_unk_id(const rilq_spm_model* model) {
    return model->processor.unk_id();
}

int rilq_spm_encode(const rilq_spm_model* model, const char* text, size_t text_size, int** ids, size_t* n_ids,
                    char* err, size_t err_size) {
    try {
        std::vector<int> out;
        const auto status = model->processor.Encode(absl::string_view(text, text_size), &out);
        if (!status.ok()) return fail(err, err_size, status.ToString());
        *ids = static_cast<int*>(std::malloc(std::max<size_t>(out.size(), 1) * sizeof(int)));
        if (!*ids) return fail(err, err_size, "out of memory");
        if (!out.empty()) std::memcpy(*ids, out.data(), out.size() * sizeof(int));
        *n_ids = out.size();
        return 0;
    } catch (const std::exception& e) {
        return fail(err, err_size, e.what());
    }
}

int rilq_spm_decode(const rilq_spm_model* model, const int* ids, size_t n_ids, char** text, size_t* text_size,
                    char* err, size_t err_size) {
    try {
        for (size_t i = 0; i < n_ids; ++i)
            if (!in_range(model, ids[i]))
                return fail(err, err_size, "id " + std::to_string(ids[i]) + " out of range");
        std::string out;
        const auto status = model->processor.Decode(std::vector<int>(ids, ids + n_ids), &out);
        if (!status.ok()) return fail(err, err_size, status.ToString());
        *text = static_cast<char*>(std::malloc(out.size() + 1));
        if (!*text) return fail(err, err_size, "out of memory");
        std::memcpy(*text, out.data(), out.size());
        (*text)[out.size()] = '\0';
        *text_size = out.size();
        return 0;
    } catch (const std::exception& e) {
        return fail(err, err_size, e.what());
    }
}

void rilq_spm_free_buffer(void* buffer) {
    std::free(buffer);
}

const char* rilq_spm_id_to_piece(const rilq_spm_model* model, int id, size_t* piece_size) {
    if (!in_range(model, id)) return nullptr;
    const std::string& piece = model->processor.IdToPiece(id);
    *piece_size = piece.size();
    return piece.data();
}

int rilq_spm_piece_to_id(const rilq_spm_model* model, const char* piece, size_t piece_size) {
    const absl::string_view wanted(piece, piece_size);
    const int id = model->processor.PieceToId(wanted); // answers unk for unknown pieces
    return model->processor.IdToPiece(id) == std::string(piece, piece_size) ? id : -1;
}

int rilq_spm_is_control(const rilq_spm_model* model, int id) {
    return in_range(model, id) && model->processor.IsControl(id);
}
int rilq_spm_is_unknown(const rilq_spm_model* model, int id) {
    return in_range(model, id) && model->processor.IsUnknown(id);
}
int rilq_spm_is_byte(const rilq_spm_model* model, int id) {
    return in_range(model, id) && model->processor.IsByte(id);
}

int rilq_spm_train(const char* args, char* err, size_t err_size) {
    try {
        const auto status = sentencepiece::SentencePieceTrainer::Train(absl::string_view(args));
        return status.ok() ? 0 : fail(err, err_size, status.ToString());
    } catch (const std::exception& e) {
        return fail(err, err_size, e.what());
    }
}

} // extern "C"
