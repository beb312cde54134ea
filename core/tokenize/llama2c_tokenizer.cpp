#include "core/tokenize/llama2c_tokenizer.h"

#include "core/tokenize/pair_merge.h"
#include "core/util/error.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace rilq {

namespace {

constexpr int32_t kFirstByteToken = 3; // run.c: byte b is token b + 3
constexpr int32_t kMaxSaneTokenLength = 1 << 16;

struct Record {
    float score = 0.0f;
    std::string_view piece;
};

// Parses the whole file; on failure returns false and says why in `error`.
bool parse(std::string_view content, int32_t& max_token_length, std::vector<Record>& records,
           std::string& error) {
    auto read_i32 = [&](size_t at, int32_t& v) {
        if (at + 4 > content.size()) return false;
        std::memcpy(&v, content.data() + at, 4); // little-endian file on a little-endian host
        return true;
    };
    if (!read_i32(0, max_token_length)) {
        error = "shorter than the 4-byte max_token_length header";
        return false;
    }
    if (max_token_length <= 0 || max_token_length > kMaxSaneTokenLength) {
        error = "max_token_length " + std::to_string(max_token_length) + " is not in 1.." +
                std::to_string(kMaxSaneTokenLength);
        return false;
    }
    records.clear();
    for (size_t at = 4; at < content.size();) {
        const std::string record =
            "token record " + std::to_string(records.size()) + " at byte " + std::to_string(at);
        Record r;
        int32_t len = 0;
        if (at + 8 > content.size() || !read_i32(at + 4, len)) {
            error = record + ": truncated header";
            return false;
        }
        std::memcpy(&r.score, content.data() + at, 4);
        if (!std::isfinite(r.score)) {
            error = record + ": score is not finite";
            return false;
        }
        if (len < 0 || len > max_token_length) {
            error = record + ": length " + std::to_string(len) + " is not in 0.." +
                    std::to_string(max_token_length);
            return false;
        }
        if (at + 8 + static_cast<size_t>(len) > content.size()) {
            error = record + ": truncated, needs " + std::to_string(len) + " bytes";
            return false;
        }
        r.piece = content.substr(at + 8, static_cast<size_t>(len));
        records.push_back(r);
        at += 8 + static_cast<size_t>(len);
    }
    return true;
}

std::string byte_piece(int b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    return buf;
}

// "<0xXX>" -> XX, else -1.
int parse_byte_piece(const std::string& piece) {
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
    int v = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = piece[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

} // namespace

bool looks_like_llama2c_tokenizer(std::string_view content) {
    int32_t max_len = 0;
    std::vector<Record> records;
    std::string error;
    return parse(content, max_len, records, error) && records.size() >= 3;
}

Llama2cTokenizer::Llama2cTokenizer(const std::string& path, std::string_view content) : path_(path) {
    std::vector<Record> records;
    std::string error;
    if (!parse(content, max_token_length_, records, error))
        throw Error("tokenizer file '" + path + "': not a llama2.c tokenizer.bin: " + error);
    const size_t needed = kFirstByteToken + 256;
    if (records.size() < needed)
        throw Error("tokenizer file '" + path + "': " + std::to_string(records.size()) +
                    " tokens, but run.c's byte fallback needs ids 3..258 to be <0x00>..<0xFF>");
    pieces_.reserve(records.size());
    scores_.reserve(records.size());
    for (const Record& r : records) {
        pieces_.emplace_back(r.piece);
        scores_.push_back(r.score);
    }
    for (int b = 0; b < 256; ++b) {
        const auto id = static_cast<size_t>(kFirstByteToken + b);
        if (pieces_[id] != byte_piece(b))
            throw Error("tokenizer file '" + path + "': token " + std::to_string(id) + " is '" + pieces_[id] +
                        "', expected the byte token " + byte_piece(b));
    }
    // run.c finds pieces by binary search in a sorted copy; duplicates do not occur in real
    // files, and the first id is kept if they do.
    id_of_piece_.reserve(pieces_.size());
    for (size_t id = 0; id < pieces_.size(); ++id)
        id_of_piece_.emplace(pieces_[id], static_cast<int32_t>(id));
    words_are_independent_ = true;
    for (const std::string& piece : pieces_)
        for (size_t i = 0; i + 1 < piece.size(); ++i)
            if (piece[i] != ' ' && piece[i + 1] == ' ') words_are_independent_ = false;
}

std::vector<int64_t> Llama2cTokenizer::encode(const std::string& text, bool add_bos) const {
    std::vector<int32_t> tokens;
    tokens.reserve(text.size() + 2);
    if (add_bos) tokens.push_back(1);
    if (!text.empty()) { // add_dummy_prefix, as SentencePiece does by default
        const auto space = id_of_piece_.find(" ");
        if (space == id_of_piece_.end())
            throw Error("tokenizer '" + path_ + "' has no ' ' piece for run.c's dummy prefix");
        tokens.push_back(space->second);
    }
    // One token per UTF-8 code point: a lead byte starts a new buffer, continuation bytes join
    // it while fewer than 4 (run.c's test, which also groups malformed sequences the same way).
    std::string buffer;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80) buffer.clear();
        buffer.push_back(static_cast<char>(c));
        const bool next_continues =
            i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
        if (next_continues && buffer.size() < 4) continue;
        const auto it = id_of_piece_.find(buffer);
        if (it != id_of_piece_.end()) {
            tokens.push_back(it->second);
        } else {
            for (const char b : buffer)
                tokens.push_back(static_cast<unsigned char>(b) + kFirstByteToken);
        }
        buffer.clear();
    }
    if (!words_are_independent_) {
        merge_all(tokens);
        return std::vector<int64_t>(tokens.begin(), tokens.end());
    }
    // Merge word by word (see words_are_independent_), each distinct word once per call.
    std::vector<int64_t> ids;
    ids.reserve(tokens.size());
    std::unordered_map<std::string, std::vector<int32_t>> cache;
    std::vector<int32_t> word;
    auto flush = [&] {
        if (word.empty()) return;
        std::string key(reinterpret_cast<const char*>(word.data()), word.size() * sizeof(int32_t));
        auto [it, inserted] = cache.try_emplace(std::move(key));
        if (inserted) {
            merge_all(word);
            it->second = word;
        }
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        word.clear();
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& piece = pieces_[static_cast<size_t>(tokens[i])];
        if (i > 0 && !piece.empty() && piece.front() == ' ') {
            const std::string& before = pieces_[static_cast<size_t>(tokens[i - 1])];
            if (!before.empty() && before.back() != ' ') flush();
        }
        word.push_back(tokens[i]);
    }
    flush();
    return ids;
}

void Llama2cTokenizer::merge_all(std::vector<int32_t>& tokens) const {
    std::string joined;
    merge_pairs(tokens, [&](int32_t left, int32_t right) -> std::optional<PairMerge> {
        const std::string& a = pieces_[static_cast<size_t>(left)];
        const std::string& b = pieces_[static_cast<size_t>(right)];
        joined.assign(a).append(b);
        const auto it = id_of_piece_.find(joined);
        if (it == id_of_piece_.end()) return std::nullopt;
        return PairMerge{-static_cast<double>(scores_[static_cast<size_t>(it->second)]), it->second};
    });
}

size_t Llama2cTokenizer::checked_index(int64_t id) const {
    if (id < 0 || id >= vocab_size())
        throw Error("token id " + std::to_string(id) + " is not in tokenizer '" + path_ + "' (vocab size " +
                    std::to_string(vocab_size()) + ")");
    return static_cast<size_t>(id);
}

std::string Llama2cTokenizer::token_text(int64_t id) const {
    return pieces_[checked_index(id)];
}

float Llama2cTokenizer::score(int64_t id) const {
    return scores_[checked_index(id)];
}

std::string Llama2cTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::string out;
    bool at_start = true; // start of the sequence or just after BOS
    for (const int64_t id : ids) {
        const std::string& piece = pieces_[checked_index(id)];
        if (id == bos_id()) {
            at_start = true;
            continue;
        }
        if (id == eos_id()) continue;
        const int byte = parse_byte_piece(piece);
        if (byte >= 0) {
            out.push_back(static_cast<char>(byte));
        } else if (at_start && !piece.empty() && piece[0] == ' ') {
            out.append(piece, 1, std::string::npos);
        } else {
            out += piece;
        }
        at_start = false;
    }
    return out;
}

int64_t Llama2cTokenizer::special_token_id(const std::string& text) const {
    if (text == "<s>") return bos_id();
    if (text == "</s>") return eos_id();
    if (text == "<unk>" && pieces_[0] == "<unk>") return 0;
    return -1;
}

} // namespace rilq
