#include "core/tokenize/sentencepiece_tokenizer.h"

#include "core/tokenize/spm_library.h"
#include "core/util/error.h"

namespace rilq {

struct SentencePieceTokenizer::Impl {
    const SpmApi* api = nullptr;
    rilq_spm_model* model = nullptr;
    int64_t vocab_size = 0;
    int64_t bos = -1;
    int64_t eos = -1;

    ~Impl() {
        if (model) api->free_model(model);
    }
};

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path, std::string_view serialized_model)
    : impl_(std::make_unique<Impl>()), path_(path) {
    impl_->api = &spm_api();
    char err[1024] = {0};
    impl_->model =
        impl_->api->load_from_bytes(serialized_model.data(), serialized_model.size(), err, sizeof err);
    if (!impl_->model) throw Error("tokenizer file '" + path + "': SentencePiece cannot load it: " + err);
    impl_->vocab_size = impl_->api->piece_size(impl_->model);
    impl_->bos = impl_->api->bos_id(impl_->model);
    impl_->eos = impl_->api->eos_id(impl_->model);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text, bool add_bos) const {
    int* pieces = nullptr;
    size_t n = 0;
    char err[1024] = {0};
    if (impl_->api->encode(impl_->model, text.data(), text.size(), &pieces, &n, err, sizeof err) != 0)
        throw Error("tokenizer '" + path_ + "': SentencePiece encode failed: " + err);
    std::vector<int64_t> ids;
    ids.reserve(n + 1);
    if (add_bos) {
        if (impl_->bos < 0) {
            impl_->api->free_buffer(pieces);
            throw Error("tokenizer '" + path_ + "' has no BOS token to add");
        }
        ids.push_back(impl_->bos);
    }
    ids.insert(ids.end(), pieces, pieces + n);
    impl_->api->free_buffer(pieces);
    return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::vector<int> pieces;
    pieces.reserve(ids.size());
    for (const int64_t id : ids) {
        if (id < 0 || id >= impl_->vocab_size)
            throw Error("token id " + std::to_string(id) + " is not in tokenizer '" + path_ +
                        "' (vocab size " + std::to_string(impl_->vocab_size) + ")");
        pieces.push_back(static_cast<int>(id));
    }
    char* text = nullptr;
    size_t size = 0;
    char err[1024] = {0};
    if (impl_->api->decode(impl_->model, pieces.data(), pieces.size(), &text, &size, err, sizeof err) != 0)
        throw Error("tokenizer '" + path_ + "': SentencePiece decode failed: " + err);
    std::string out(text, size);
    impl_->api->free_buffer(text);
    return out;
}

int64_t SentencePieceTokenizer::vocab_size() const {
    return impl_->vocab_size;
}
int64_t SentencePieceTokenizer::bos_id() const {
    return impl_->bos;
}
int64_t SentencePieceTokenizer::eos_id() const {
    return impl_->eos;
}

std::string SentencePieceTokenizer::token_text(int64_t id) const {
    size_t size = 0;
    const char* piece = id >= 0 && id < impl_->vocab_size
                            ? impl_->api->id_to_piece(impl_->model, static_cast<int>(id), &size)
                            : nullptr;
    if (!piece)
        throw Error("token id " + std::to_string(id) + " is not in tokenizer '" + path_ + "' (vocab size " +
                    std::to_string(impl_->vocab_size) + ")");
    return std::string(piece, size);
}

int64_t SentencePieceTokenizer::special_token_id(const std::string& text) const {
    const int id = impl_->api->piece_to_id(impl_->model, text.data(), text.size());
    if (id < 0) return -1;
    return impl_->api->is_control(impl_->model, id) || impl_->api->is_unknown(impl_->model, id) ? id : -1;
}

bool is_sentencepiece_model(std::string_view bytes) {
    const SpmApi& api = spm_api();
    rilq_spm_model* model = api.load_from_bytes(bytes.data(), bytes.size(), nullptr, 0);
    if (!model) return false;
    api.free_model(model);
    return true;
}

} // namespace rilq
