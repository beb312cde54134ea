#include "core/finetune/sft_example.h"

#include "core/finetune/alpaca_prompt.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <algorithm>

namespace rilq {

namespace {

// The text HF spells a special token with: the vocabulary's own piece ("<s>", "<|begin_of_text|>")
// or, where that piece is decorated (llama2.c's "\n<s>\n"), the SentencePiece name.
std::string special_text(const Tokenizer& tok, int64_t id, const std::string& sentencepiece_name,
                         const char* what) {
    if (id < 0)
        throw Error("tokenizer '" + tok.path() + "' has no " + what + " token, which Alpaca examples need");
    for (const std::string& candidate : {tok.token_text(id), sentencepiece_name})
        if (tok.special_token_id(candidate) == id) return candidate;
    throw Error("tokenizer '" + tok.path() + "': cannot spell its " + what + " token (id " +
                std::to_string(id) + ")");
}

} // namespace

std::vector<int64_t> SftExample::labels(bool train_on_source) const {
    std::vector<int64_t> out = ids;
    if (!train_on_source) std::fill(out.begin(), out.begin() + source_tokens, kIgnoreIndex);
    return out;
}

SftTokenizer::SftTokenizer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
    bos_text_ = special_text(tokenizer, tokenizer.bos_id(), "<s>", "BOS");
    eos_text_ = special_text(tokenizer, tokenizer.eos_id(), "</s>", "EOS");
    specials_ = {{bos_text_, tokenizer.bos_id()}, {eos_text_, tokenizer.eos_id()}};
    const int64_t unk = tokenizer.special_token_id("<unk>");
    if (unk >= 0) specials_.emplace_back("<unk>", unk);
}

std::vector<int64_t> SftTokenizer::encode(const std::string& text) const {
    std::vector<int64_t> ids;
    auto add_text = [&](size_t begin, size_t end) {
        if (end <= begin) return;
        const auto part = tokenizer_.encode(text.substr(begin, end - begin), false);
        ids.insert(ids.end(), part.begin(), part.end());
    };
    size_t pos = 0;
    while (pos < text.size()) {
        // The leftmost special text; of two starting at the same place, the longer.
        size_t best = std::string::npos;
        const std::pair<std::string, int64_t>* hit = nullptr;
        for (const auto& special : specials_) {
            const size_t at = text.find(special.first, pos);
            if (at == std::string::npos) continue;
            if (at < best || (at == best && special.first.size() > hit->first.size())) {
                best = at;
                hit = &special;
            }
        }
        if (!hit) {
            add_text(pos, text.size());
            break;
        }
        add_text(pos, best);
        ids.push_back(hit->second);
        pos = best + hit->first.size();
    }
    return ids;
}

SftExample SftTokenizer::example(const AlpacaRecord& record, int64_t source_max_len,
                                 int64_t target_max_len) const {
    const std::string prompt = alpaca_prompt(record);
    auto source = encode(bos_text_ + prompt);
    auto target = encode(record.output + eos_text_);
    SftExample e;
    e.source_truncated = static_cast<int64_t>(source.size()) > source_max_len;
    e.target_truncated = static_cast<int64_t>(target.size()) > target_max_len;
    if (e.source_truncated) source.resize(static_cast<size_t>(source_max_len));
    if (e.target_truncated) target.resize(static_cast<size_t>(target_max_len));
    e.source_tokens = static_cast<int64_t>(source.size());
    e.ids = std::move(source);
    e.ids.insert(e.ids.end(), target.begin(), target.end());
    e.length_chars = alpaca_length_chars(record);
    return e;
}

} // namespace rilq
