#include "core/tokenize/hf_tokenizer_json.h"

#include "core/tokenize/byte_level_bpe_tokenizer.h"
#include "core/tokenize/llama3_pretokenizer.h"
#include "core/tokenize/utf8.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rilq {

using nlohmann::json;

char32_t byte_to_unicode(unsigned char byte) {
    // Printable Latin-1 bytes stand for themselves; the other 68 take 256, 257, ... in byte order.
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            t[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
        }
        return t;
    }();
    return table[byte];
}

namespace {

class JsonReader {
  public:
    explicit JsonReader(std::string path) : path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& json_path, const std::string& what) const {
        throw Error("tokenizer file '" + path_ + "' at " + json_path + ": " + what);
    }
    const json& member(const json& object, const std::string& json_path, const char* key) const {
        if (!object.is_object() || !object.contains(key))
            fail(json_path, std::string("missing \"") + key + "\"");
        return object.at(key);
    }
    std::string string_at(const json& value, const std::string& json_path) const {
        if (!value.is_string()) fail(json_path, "expected a string, found " + std::string(value.type_name()));
        return value.get<std::string>();
    }

  private:
    std::string path_;
};

// Vocab strings spell bytes with bytes_to_unicode; returns false on a code point outside it.
bool unicode_to_bytes(const std::string& text, std::string& bytes) {
    static const std::array<int, 324> byte_of = [] {
        std::array<int, 324> t{};
        t.fill(-1);
        for (int b = 0; b < 256; ++b)
            t[byte_to_unicode(static_cast<unsigned char>(b))] = b;
        return t;
    }();
    bytes.clear();
    for (size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const size_t len = utf8::decode(text, i, cp);
        if (len == 0 || cp >= byte_of.size() || byte_of[cp] < 0) return false;
        bytes.push_back(static_cast<char>(byte_of[cp]));
        i += len;
    }
    return true;
}

// Accepts exactly Llama-3's pre-tokenizer: Sequence[Split(Llama-3 regex, Isolated), ByteLevel(no regex)].
void check_pre_tokenizer(const JsonReader& r, const json& root) {
    const std::string where = "$.pre_tokenizer";
    if (!root.contains("pre_tokenizer") || root["pre_tokenizer"].is_null())
        r.fail(where, "missing; only the Llama-3 byte-level pre-tokenizer is supported");
    const json& pre = root["pre_tokenizer"];
    std::vector<std::pair<std::string, const json*>> steps;
    if (pre.value("type", "") == "Sequence") {
        const json& list = r.member(pre, where, "pretokenizers");
        for (size_t i = 0; i < list.size(); ++i)
            steps.emplace_back(where + ".pretokenizers[" + std::to_string(i) + "]", &list[i]);
    } else {
        steps.emplace_back(where, &pre);
    }
    bool split_seen = false;
    bool byte_level_seen = false;
    for (const auto& [step_path, step] : steps) {
        const std::string type = r.string_at(r.member(*step, step_path, "type"), step_path + ".type");
        if (type == "Split") {
            const json& pattern = r.member(*step, step_path, "pattern");
            const std::string regex =
                pattern.contains("Regex") ? r.string_at(pattern["Regex"], step_path + ".pattern.Regex") : "";
            if (regex != kLlama3PretokenizerPattern)
                r.fail(step_path + ".pattern",
                       "only the Llama-3 regex is supported, found " + pattern.dump());
            if (step->value("behavior", "") != "Isolated" || step->value("invert", false))
                r.fail(step_path, "expected behavior \"Isolated\" and invert false");
            split_seen = true;
        } else if (type == "ByteLevel") {
            if (step->value("add_prefix_space", false))
                r.fail(step_path + ".add_prefix_space", "true is not supported");
            if (step->value("use_regex", true))
                r.fail(step_path + ".use_regex",
                       "GPT-2's built-in regex is not supported (Llama-3 sets false)");
            byte_level_seen = true;
        } else {
            r.fail(step_path + ".type", "unsupported pre-tokenizer \"" + type + "\"");
        }
    }
    if (!split_seen || !byte_level_seen)
        r.fail(where, "expected a Split on the Llama-3 regex followed by ByteLevel");
}

// bos_token / eos_token of tokenizer_config.json beside the file: a string or {"content": ...}.
std::string config_token(const std::filesystem::path& config_path, const json& config, const char* key) {
    if (!config.contains(key) || config[key].is_null()) return "";
    const json& v = config[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    throw Error("tokenizer config '" + config_path.string() + "' at $." + key +
                ": expected a string or {\"content\": ...}");
}

json read_config(const std::filesystem::path& config_path) {
    std::ifstream in(config_path, std::ios::binary);
    if (!in) return json();
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_json(ss.str(), "tokenizer config '" + config_path.string() + "'");
}

std::unique_ptr<Tokenizer> load_parsed(const std::string& path, const json& root) {
    const JsonReader r(path);
    const json& model = r.member(root, "$", "model");
    const std::string type = model.contains("type") ? r.string_at(model["type"], "$.model.type") : "BPE";
    if (type != "BPE") r.fail("$.model.type", "only \"BPE\" is supported, found \"" + type + "\"");
    if (root.contains("normalizer") && !root["normalizer"].is_null())
        r.fail("$.normalizer",
               "a normalizer is not supported (Llama-3 has none), found " + root["normalizer"].dump());
    if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0.0)
        r.fail("$.model.dropout", "BPE dropout is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (model.contains(key) && !model[key].is_null() && model[key] != "")
            r.fail(std::string("$.model.") + key, "not supported with byte-level BPE");
    check_pre_tokenizer(r, root);

    ByteLevelBpeSpec spec;
    spec.kind = "hf-bpe";
    spec.path = path;
    spec.whole_piece_lookup = model.value("ignore_merges", false);

    std::unordered_map<int64_t, std::string> added; // id -> content
    if (root.contains("added_tokens")) {
        const json& list = root["added_tokens"];
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string at = "$.added_tokens[" + std::to_string(i) + "]";
            const json& id = r.member(list[i], at, "id");
            if (!id.is_number_integer() || id.get<int64_t>() < 0)
                r.fail(at + ".id", "expected a non-negative integer");
            const std::string text = r.string_at(r.member(list[i], at, "content"), at + ".content");
            added[id.get<int64_t>()] = text;
            spec.specials.emplace_back(text, id.get<int64_t>());
        }
    }

    const json& vocab = r.member(model, "$.model", "vocab");
    if (!vocab.is_object()) r.fail("$.model.vocab", "expected an object");
    std::unordered_map<std::string, int32_t> id_of_string;
    id_of_string.reserve(vocab.size());
    std::string bytes;
    for (const auto& [text, id_json] : vocab.items()) {
        // JSON paths are built only on failure: a real vocabulary has 128k entries.
        auto at = [&text = text] { return "$.model.vocab[" + json(text).dump() + "]"; };
        if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() > INT32_MAX)
            r.fail(at(), "expected a non-negative integer id");
        const auto id = id_json.get<int32_t>();
        id_of_string[text] = id;
        if (added.count(id)) continue; // decoded as its added-token text
        if (!unicode_to_bytes(text, bytes))
            r.fail(at(), "not a byte-level token (a character outside bytes_to_unicode)");
        if (static_cast<size_t>(id) >= spec.token_bytes.size())
            spec.token_bytes.resize(static_cast<size_t>(id) + 1);
        spec.token_bytes[static_cast<size_t>(id)] = bytes;
    }

    const json& merges = r.member(model, "$.model", "merges");
    if (!merges.is_array()) r.fail("$.model.merges", "expected an array");
    spec.merge_rule = MergeRule::MergeList;
    spec.merge_list.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        auto at = [i] { return "$.model.merges[" + std::to_string(i) + "]"; };
        std::string left, right;
        if (merges[i].is_string()) { // "a b": tokens never contain a raw space (it is spelled U+0120)
            const std::string& s = merges[i].get_ref<const std::string&>();
            const size_t space = s.find(' ');
            if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
                r.fail(at(), "expected \"left right\", found " + merges[i].dump());
            left = s.substr(0, space);
            right = s.substr(space + 1);
        } else if (merges[i].is_array() && merges[i].size() == 2) {
            if (!merges[i][0].is_string() || !merges[i][1].is_string()) r.fail(at(), "expected two strings");
            left = merges[i][0].get<std::string>();
            right = merges[i][1].get<std::string>();
        } else {
            r.fail(at(), "expected \"left right\" or [\"left\", \"right\"], found " + merges[i].dump());
        }
        const auto l = id_of_string.find(left);
        const auto rt = id_of_string.find(right);
        left += right; // the merged token
        const auto m = id_of_string.find(left);
        if (l == id_of_string.end() || rt == id_of_string.end() || m == id_of_string.end())
            r.fail(at(),
                   "a token of " + merges[i].dump() + " or their concatenation is not in $.model.vocab");
        // HF builds its merge map with later entries overwriting earlier ones; so do we.
        spec.merge_list[pair_key(l->second, rt->second)] = {static_cast<double>(i), m->second};
    }

    // BOS/EOS: tokenizer_config.json first (an Instruct model's EOS is <|eot_id|>), then Llama-3's names.
    const std::filesystem::path config_path =
        std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    const json config = read_config(config_path);
    auto id_of_token = [&](const std::string& text) -> int64_t {
        for (const auto& [special, id] : spec.specials)
            if (special == text) return id;
        const auto it = id_of_string.find(text);
        return it == id_of_string.end() ? -1 : it->second;
    };
    auto pick = [&](const char* key, const char* fallback) -> int64_t {
        const std::string name = config.is_object() ? config_token(config_path, config, key) : "";
        if (name.empty()) return id_of_token(fallback);
        const int64_t id = id_of_token(name);
        if (id < 0)
            throw Error("tokenizer config '" + config_path.string() + "' at $." + key + ": \"" + name +
                        "\" is not a token of '" + path + "'");
        return id;
    };
    spec.bos_id = pick("bos_token", "<|begin_of_text|>");
    spec.eos_id = pick("eos_token", "<|end_of_text|>");
    return std::make_unique<ByteLevelBpeTokenizer>(std::move(spec));
}

} // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::string_view content) {
    try {
        return load_parsed(path, parse_json(content.data(), content.data() + content.size(),
                                            "tokenizer file '" + path + "'"));
    } catch (const json::exception& e) { // a value of the wrong type somewhere we read with value()/get()
        throw Error("tokenizer file '" + path + "': invalid JSON: " + clip_for_message(e.what()));
    }
}

} // namespace rilq
