#include "core/tokenize/sentencepiece_tokenizer.h"

#include "core/tokenize/sentencepiece_model_info.h"
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

    const SentencePieceModelInfo info = read_sentencepiece_model_info(path, serialized_model);
    chunking_is_exact_ = info.model_type == 2 && !info.treat_whitespace_as_suffix &&
                         info.normalizer_name == "identity" && !info.has_precompiled_charsmap &&
                         info.add_dummy_prefix && !info.remove_extra_whitespaces && info.escape_whitespaces;
    static const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's space
    for (int64_t id = 0; chunking_is_exact_ && id < impl_->vocab_size; ++id) {
        const std::string piece = token_text(id);
        for (size_t at = piece.find(kSpace, 1); at != std::string::npos; at = piece.find(kSpace, at + 1))
            if (at < kSpace.size() || piece.compare(at - kSpace.size(), kSpace.size(), kSpace) != 0)
                chunking_is_exact_ = false; // "x▁": a merge could join a word to the next space
    }
    chunk_bytes_ = chunking_is_exact_ ? 16384 : 0;
}

void SentencePieceTokenizer::set_chunk_bytes(size_t bytes) {
    if (bytes > 0 && !chunking_is_exact_)
        throw Error("tokenizer '" + path_ +
                    "': chunked encoding would change its ids (its normaliser or vocabulary "
                    "lets merges cross spaces)");
    chunk_bytes_ = bytes;
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode_once(std::string_view text) const {
    int* pieces = nullptr;
    size_t n = 0;
    char err[1024] = {0};
    if (impl_->api->encode(impl_->model, text.data(), text.size(), &pieces, &n, err, sizeof err) != 0)
        throw Error("tokenizer '" + path_ + "': SentencePiece encode failed: " + err);
    std::vector<int64_t> ids(pieces, pieces + n);
    impl_->api->free_buffer(pieces);
    return ids;
}

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text, bool add_bos) const {
    std::vector<int64_t> ids;
    if (add_bos) {
        if (impl_->bos < 0) throw Error("tokenizer '" + path_ + "' has no BOS token to add");
        ids.push_back(impl_->bos);
    }
    const std::string_view all(text);
    size_t start = 0;
    while (start < all.size()) {
        size_t end = all.size();
        if (chunk_bytes_ > 0 && all.size() - start > chunk_bytes_) {
            // The first space after the target size that follows a non-space and has text after it.
            for (size_t cut = start + chunk_bytes_; cut + 1 < all.size(); ++cut) {
                if (all[cut] == ' ' && all[cut - 1] != ' ') {
                    end = cut;
                    break;
                }
            }
        }
        // Later chunks start at a cut space: drop it, SentencePiece's dummy prefix stands for it.
        const std::string_view chunk =
            start == 0 ? all.substr(0, end) : all.substr(start + 1, end - start - 1);
        const std::vector<int64_t> part = encode_once(chunk);
        ids.insert(ids.end(), part.begin(), part.end());
        start = end;
    }
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
