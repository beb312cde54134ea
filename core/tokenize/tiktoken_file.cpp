#include "core/tokenize/tiktoken_file.h"

#include "core/tokenize/byte_level_bpe_tokenizer.h"
#include "core/util/error.h"

#include <optional>

namespace rilq {

namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Standard base64 with '=' padding, as Python's base64.b64decode accepts it from this file.
std::optional<std::string> decode_base64(std::string_view s) {
    if (s.empty() || s.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(s.size() / 4 * 3);
    for (size_t i = 0; i < s.size(); i += 4) {
        int v[4];
        int padding = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s[i + static_cast<size_t>(k)];
            if (c == '=' && i + 4 == s.size() && k >= 2) {
                v[k] = 0;
                ++padding;
            } else {
                if (padding > 0) return std::nullopt; // data after '='
                v[k] = base64_value(c);
                if (v[k] < 0) return std::nullopt;
            }
        }
        const unsigned triple = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                                (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
        out.push_back(static_cast<char>((triple >> 16) & 0xFF));
        if (padding < 2) out.push_back(static_cast<char>((triple >> 8) & 0xFF));
        if (padding < 1) out.push_back(static_cast<char>(triple & 0xFF));
    }
    return out;
}

bool parse_rank(std::string_view s, int64_t& rank) {
    if (s.empty() || s.size() > 9) return false;
    rank = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        rank = rank * 10 + (c - '0');
    }
    return true;
}

struct RankLine {
    std::string_view token_b64;
    std::string_view rank;
};

std::optional<RankLine> split_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
        return std::nullopt;
    return RankLine{line.substr(0, space), line.substr(space + 1)};
}

} // namespace

std::vector<std::string> llama3_special_tokens() {
    std::vector<std::string> tokens = {
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",
        "<|reserved_special_token_2|>",
        "<|reserved_special_token_3|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|reserved_special_token_4|>",
        "<|eot_id|>",
    };
    const int kReserved = 256; // num_reserved_special_tokens in Meta's tokenizer.py
    for (int i = 5; i < kReserved - 5; ++i)
        tokens.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
    return tokens;
}

bool looks_like_tiktoken_file(std::string_view content) {
    const std::string_view first = content.substr(0, content.find('\n'));
    const auto parts = split_line(first);
    int64_t rank = 0;
    return parts && decode_base64(parts->token_b64).has_value() && parse_rank(parts->rank, rank);
}

std::unique_ptr<Tokenizer> load_tiktoken_file(const std::string& path, std::string_view content) {
    ByteLevelBpeSpec spec;
    spec.kind = "tiktoken";
    spec.path = path;
    spec.whole_piece_lookup = true; // tiktoken's encode looks each piece up before merging
    spec.merge_rule = MergeRule::ConcatenationRank;

    int64_t line_number = 0;
    size_t n_ranks = 0;
    for (size_t pos = 0; pos < content.size();) {
        size_t end = content.find('\n', pos);
        if (end == std::string_view::npos) end = content.size();
        const std::string_view line = content.substr(pos, end - pos);
        pos = end + 1;
        ++line_number;
        if (line.empty() || line == "\r") continue; // load_tiktoken_bpe skips empty lines
        const std::string where = "tokenizer file '" + path + "' line " + std::to_string(line_number);
        const auto parts = split_line(line);
        if (!parts)
            throw Error(where + ": expected '<base64 bytes> <rank>', found '" +
                        std::string(line.substr(0, 80)) + "'");
        const auto bytes = decode_base64(parts->token_b64);
        if (!bytes) throw Error(where + ": invalid base64 '" + std::string(parts->token_b64) + "'");
        int64_t rank = 0;
        if (!parse_rank(parts->rank, rank))
            throw Error(where + ": invalid rank '" + std::string(parts->rank) + "'");
        if (static_cast<size_t>(rank) >= spec.token_bytes.size())
            spec.token_bytes.resize(static_cast<size_t>(rank) + 1);
        if (!spec.token_bytes[static_cast<size_t>(rank)].empty())
            throw Error(where + ": rank " + std::to_string(rank) + " appears twice");
        spec.token_bytes[static_cast<size_t>(rank)] = *bytes;
        ++n_ranks;
    }
    if (n_ranks == 0) throw Error("tokenizer file '" + path + "': no ranks found");

    // Meta numbers the special tokens from len(mergeable_ranks).
    const std::vector<std::string> specials = llama3_special_tokens();
    for (size_t i = 0; i < specials.size(); ++i) {
        const auto id = static_cast<int64_t>(n_ranks + i);
        if (id < static_cast<int64_t>(spec.token_bytes.size()) &&
            !spec.token_bytes[static_cast<size_t>(id)].empty())
            throw Error("tokenizer file '" + path + "': ranks are not 0.." + std::to_string(n_ranks - 1) +
                        ", so special token " + specials[i] + " would take id " + std::to_string(id) +
                        " of an ordinary token");
        spec.specials.emplace_back(specials[i], id);
    }
    spec.bos_id = static_cast<int64_t>(n_ranks);     // <|begin_of_text|>
    spec.eos_id = static_cast<int64_t>(n_ranks) + 1; // <|end_of_text|>
    return std::make_unique<ByteLevelBpeTokenizer>(std::move(spec));
}

} // namespace rilq
