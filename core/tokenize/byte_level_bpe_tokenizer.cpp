#include "core/tokenize/byte_level_bpe_tokenizer.h"

#include "core/tokenize/llama3_pretokenizer.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstdio>

namespace rilq {

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(ByteLevelBpeSpec spec) : spec_(std::move(spec)) {
    vocab_size_ = static_cast<int64_t>(spec_.token_bytes.size());
    token_of_bytes_.reserve(spec_.token_bytes.size());
    for (size_t id = 0; id < spec_.token_bytes.size(); ++id) {
        const std::string& bytes = spec_.token_bytes[id];
        if (bytes.empty()) continue;
        const auto [it, inserted] =
            token_of_bytes_.emplace(std::string_view(bytes), static_cast<int32_t>(id));
        if (!inserted)
            throw Error("tokenizer file '" + spec_.path + "': tokens " + std::to_string(it->second) +
                        " and " + std::to_string(id) + " have the same bytes");
    }
    for (const auto& [text, id] : spec_.specials) {
        special_text_[id] = text;
        vocab_size_ = std::max(vocab_size_, id + 1);
    }
    for (int b = 0; b < 256; ++b) {
        const char byte = static_cast<char>(b);
        const auto it = token_of_bytes_.find(std::string_view(&byte, 1));
        if (it == token_of_bytes_.end()) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", b);
            throw Error("tokenizer file '" + spec_.path + "': byte " + hex +
                        " has no single-byte token; byte-level BPE needs all 256");
        }
        byte_token_[static_cast<size_t>(b)] = it->second;
    }
}

void ByteLevelBpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
    if (spec_.whole_piece_lookup) {
        const auto it = token_of_bytes_.find(piece);
        if (it != token_of_bytes_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    std::vector<int32_t> symbols(piece.size());
    for (size_t i = 0; i < piece.size(); ++i)
        symbols[i] = byte_token_[static_cast<unsigned char>(piece[i])];
    if (spec_.merge_rule == MergeRule::ConcatenationRank) {
        std::string joined;
        merge_pairs(symbols, [&](int32_t left, int32_t right) -> std::optional<PairMerge> {
            joined.assign(spec_.token_bytes[static_cast<size_t>(left)])
                .append(spec_.token_bytes[static_cast<size_t>(right)]);
            const auto it = token_of_bytes_.find(joined);
            if (it == token_of_bytes_.end()) return std::nullopt;
            return PairMerge{static_cast<double>(it->second), it->second};
        });
    } else {
        merge_pairs(symbols, [this](int32_t left, int32_t right) -> std::optional<PairMerge> {
            const auto it = spec_.merge_list.find(pair_key(left, right));
            if (it == spec_.merge_list.end()) return std::nullopt;
            return it->second;
        });
    }
    out.insert(out.end(), symbols.begin(), symbols.end());
}

std::vector<int64_t> ByteLevelBpeTokenizer::encode(const std::string& text, bool add_bos) const {
    std::vector<int64_t> ids;
    if (add_bos) {
        if (spec_.bos_id < 0) throw Error("tokenizer '" + spec_.path + "' has no BOS token to add");
        ids.push_back(spec_.bos_id);
    }
    // Real text repeats its words: each distinct piece is merged once per call. The cache
    // stores (offset, count) into one flat buffer; keys view into `text`, which outlives it.
    std::unordered_map<std::string_view, std::pair<size_t, size_t>> cache;
    std::vector<int32_t> piece_ids;
    const std::string_view all(text);
    for (const ByteSpan& span : llama3_pretokenize(all)) {
        const std::string_view piece = all.substr(span.begin, span.end - span.begin);
        auto [it, inserted] = cache.try_emplace(piece, piece_ids.size(), 0);
        if (inserted) {
            encode_piece(piece, piece_ids);
            it->second.second = piece_ids.size() - it->second.first;
        }
        const auto first = piece_ids.begin() + static_cast<std::ptrdiff_t>(it->second.first);
        ids.insert(ids.end(), first, first + static_cast<std::ptrdiff_t>(it->second.second));
    }
    return ids;
}

std::string ByteLevelBpeTokenizer::token_text(int64_t id) const {
    if (id >= 0 && id < static_cast<int64_t>(spec_.token_bytes.size()) &&
        !spec_.token_bytes[static_cast<size_t>(id)].empty())
        return spec_.token_bytes[static_cast<size_t>(id)];
    const auto it = special_text_.find(id);
    if (it != special_text_.end()) return it->second;
    throw Error("token id " + std::to_string(id) + " is not in tokenizer '" + spec_.path + "' (vocab size " +
                std::to_string(vocab_size_) + ")");
}

std::string ByteLevelBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::string out;
    for (const int64_t id : ids)
        out += token_text(id);
    return out;
}

int64_t ByteLevelBpeTokenizer::special_token_id(const std::string& text) const {
    for (const auto& [special, id] : spec_.specials)
        if (special == text) return id;
    return -1;
}

} // namespace rilq
