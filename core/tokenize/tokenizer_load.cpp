// load_tokenizer / find_tokenizer (tokenizer.h) and format detection (tokenizer_format.h).
#include "core/tokenize/tokenizer.h"

#include "core/tokenize/hf_tokenizer_json.h"
#include "core/tokenize/llama2c_tokenizer.h"
#include "core/tokenize/sentencepiece_tokenizer.h"
#include "core/tokenize/tiktoken_file.h"
#include "core/tokenize/tokenizer_format.h"
#include "core/util/error.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace rilq {

TokenizerFormat detect_tokenizer_format(std::string_view content) {
    const size_t first = content.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && content[first] == '{') return TokenizerFormat::HfTokenizerJson;
    if (looks_like_tiktoken_file(content)) return TokenizerFormat::Tiktoken;
    // Before SentencePiece: a tokenizer.bin with max_token_length 10 starts with 0x0A like a
    // ModelProto, but only a real tokenizer.bin parses as records to the last byte.
    if (looks_like_llama2c_tokenizer(content)) return TokenizerFormat::Llama2cBin;
    // A serialized ModelProto starts with its first piece (field 1, length-delimited: 0x0A);
    // only then is the SentencePiece library asked.
    if (!content.empty() && content[0] == '\x0A' && is_sentencepiece_model(content))
        return TokenizerFormat::SentencePiece;
    return TokenizerFormat::Unknown;
}

const char* to_string(TokenizerFormat format) {
    switch (format) {
    case TokenizerFormat::SentencePiece:
        return "SentencePiece model";
    case TokenizerFormat::Tiktoken:
        return "tiktoken rank file";
    case TokenizerFormat::HfTokenizerJson:
        return "HF tokenizer.json";
    case TokenizerFormat::Llama2cBin:
        return "llama2.c tokenizer.bin";
    case TokenizerFormat::Unknown:
        break;
    }
    return "unknown";
}

namespace {

std::string read_whole_file(const std::string& file) {
    std::error_code ec;
    if (fs::is_directory(file, ec))
        throw Error("tokenizer file '" + file + "' is a folder (find_tokenizer looks inside model folders)");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error("tokenizer file '" + file + "' cannot be opened");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error("tokenizer file '" + file + "' cannot be read");
    return ss.str();
}

std::string hex_prefix(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < std::min<size_t>(bytes.size(), 8); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        if (i) out += ' ';
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

} // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& file) {
    const std::string content = read_whole_file(file);
    if (content.empty()) throw Error("tokenizer file '" + file + "' is empty");
    switch (detect_tokenizer_format(content)) {
    case TokenizerFormat::SentencePiece:
        return std::make_unique<SentencePieceTokenizer>(file, content);
    case TokenizerFormat::Tiktoken:
        return load_tiktoken_file(file, content);
    case TokenizerFormat::HfTokenizerJson:
        return load_hf_tokenizer_json(file, content);
    case TokenizerFormat::Llama2cBin:
        return std::make_unique<Llama2cTokenizer>(file, content);
    case TokenizerFormat::Unknown:
        break;
    }
    throw Error("tokenizer file '" + file +
                "' is not a recognised format (expected a SentencePiece model, a tiktoken rank file, an HF "
                "tokenizer.json or a llama2.c tokenizer.bin); it starts with bytes " +
                hex_prefix(content));
}

std::unique_ptr<Tokenizer> find_tokenizer(const std::string& model_path) {
    std::error_code ec;
    if (!fs::exists(model_path, ec)) throw Error("model path '" + model_path + "' does not exist");
    const fs::path dir =
        fs::is_directory(model_path, ec) ? fs::path(model_path) : fs::path(model_path).parent_path();
    const fs::path folder = dir.empty() ? fs::path(".") : dir;

    std::vector<fs::path> candidates;
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer.bin"})
        if (fs::is_regular_file(folder / name, ec)) candidates.push_back(folder / name);
    for (const char* extension : {".model", ".bin"}) { // tok512.model before tok512.bin
        std::vector<fs::path> matches;
        for (const auto& entry : fs::directory_iterator(folder, ec)) {
            const std::string name = entry.path().filename().string();
            if (entry.is_regular_file(ec) && name.rfind("tok", 0) == 0 &&
                entry.path().extension() == extension && name.rfind("tokenizer.", 0) != 0)
                matches.push_back(entry.path());
        }
        std::sort(matches.begin(), matches.end());
        candidates.insert(candidates.end(), matches.begin(), matches.end());
    }
    if (candidates.empty())
        throw Error("no tokenizer found for model '" + model_path + "': looked in '" + folder.string() +
                    "' for tokenizer.json, tokenizer.model, tokenizer.bin, tok*.model, tok*.bin");

    // The first candidate that loads wins: an HF Llama-2 folder's tokenizer.json (Metaspace,
    // not byte-level) is refused, and its tokenizer.model is the original anyway.
    std::string failures;
    for (const fs::path& candidate : candidates) {
        try {
            return load_tokenizer(candidate.string());
        } catch (const Error& e) {
            failures += std::string("\n  ") + e.what();
        }
    }
    throw Error("no usable tokenizer for model '" + model_path + "':" + failures);
}

} // namespace rilq
