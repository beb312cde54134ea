// Hand-written matcher for the Llama-3 pre-tokenizer regex. At each position the seven
// alternatives are tried in order, as a backtracking regex engine would; the comment over
// each branch gives the alternative and what backtracking leaves of it.
#include "core/tokenize/llama3_pretokenizer.h"

#include "core/tokenize/unicode_tables.h"
#include "core/tokenize/utf8.h"

#include <cstdint>

namespace rilq {

const char* const kLlama3PretokenizerPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

namespace {

enum class CharClass : uint8_t {
    Letter,          // \p{L}
    Number,          // \p{N}
    LineBreak,       // \r or \n (also whitespace)
    Space,           // U+0020 (also whitespace)
    OtherWhitespace, // the rest of White_Space
    Other,           // none of the above (punctuation, symbols, marks, invalid bytes)
};

struct Char {
    char32_t cp = 0;
    std::size_t offset = 0; // byte offset of its first byte
    CharClass cls = CharClass::Other;
};

bool is_whitespace(CharClass c) {
    return c == CharClass::LineBreak || c == CharClass::Space || c == CharClass::OtherWhitespace;
}

CharClass classify(char32_t cp) {
    if (cp < 0x80) { // ASCII fast path: most text never reaches the tables
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::Letter;
        if (cp >= '0' && cp <= '9') return CharClass::Number;
        if (cp == '\r' || cp == '\n') return CharClass::LineBreak;
        if (cp == ' ') return CharClass::Space;
        if (cp == '\t' || cp == 0x0B || cp == 0x0C) return CharClass::OtherWhitespace;
        return CharClass::Other;
    }
    if (unicode::in_table(unicode::kLetterTable, cp)) return CharClass::Letter;
    if (unicode::in_table(unicode::kNumberTable, cp)) return CharClass::Number;
    if (unicode::in_table(unicode::kWhitespaceTable, cp)) return CharClass::OtherWhitespace;
    return CharClass::Other;
}

std::vector<Char> decode_text(std::string_view text) {
    std::vector<Char> chars;
    chars.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const std::size_t len = utf8::decode(text, i, cp);
        if (len == 0) {
            chars.push_back({0xFFFD, i, CharClass::Other});
            i += 1;
        } else {
            chars.push_back({cp, i, classify(cp)});
            i += len;
        }
    }
    return chars;
}

// Simple case folding as the (?i:...) group sees it: 'S' and U+017F LATIN SMALL LETTER LONG S
// fold to 's' (the Rust regex crate and Python's `regex` both match "'ſ" with (?i:'s)).
char32_t fold_case(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + ('a' - 'A');
    if (cp == 0x17F) return 's';
    return cp;
}

class Matcher {
  public:
    explicit Matcher(const std::vector<Char>& chars) : c_(chars), n_(chars.size()) {}

    // Index one past the end of the match that starts at i (always > i).
    std::size_t match(std::size_t i) const {
        if (std::size_t end = contraction(i)) return end;
        if (std::size_t end = letters(i)) return end;
        if (std::size_t end = numbers(i)) return end;
        if (std::size_t end = punctuation(i)) return end;
        return whitespace(i);
    }

  private:
    bool is(std::size_t i, CharClass cls) const { return i < n_ && c_[i].cls == cls; }
    bool is_other(std::size_t i) const { return i < n_ && c_[i].cls == CharClass::Other; }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d): the second letters differ, so at most one can match.
    std::size_t contraction(std::size_t i) const {
        if (c_[i].cp != U'\'' || i + 1 >= n_) return 0;
        const char32_t a = fold_case(c_[i + 1].cp);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if (i + 2 >= n_) return 0;
        const char32_t b = fold_case(c_[i + 2].cp);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
        return 0;
    }

    std::size_t letter_run(std::size_t i) const {
        while (is(i, CharClass::Letter))
            ++i;
        return i;
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+ : one optional leading char that is not a line break, letter or
    // number (a space, a tab, punctuation...), then letters.
    std::size_t letters(std::size_t i) const {
        if (is(i, CharClass::Letter)) return letter_run(i);
        const CharClass cls = c_[i].cls;
        if (cls != CharClass::LineBreak && cls != CharClass::Number && is(i + 1, CharClass::Letter))
            return letter_run(i + 1);
        return 0;
    }

    // \p{N}{1,3}
    std::size_t numbers(std::size_t i) const {
        std::size_t j = i;
        while (j < i + 3 && is(j, CharClass::Number))
            ++j;
        return j == i ? 0 : j;
    }

    // " ?[^\s\p{L}\p{N}]+[\r\n]*" : an optional U+0020, a run of "other" chars, trailing line breaks.
    std::size_t punctuation(std::size_t i) const {
        std::size_t j = i;
        if (is(j, CharClass::Space) && is_other(j + 1)) ++j;
        if (!is_other(j)) return 0;
        while (is_other(j))
            ++j;
        while (is(j, CharClass::LineBreak))
            ++j;
        return j;
    }

    // Only whitespace can be left at i. Of the run [i, end):
    //   \s*[\r\n]+  backtracks to end just after the run's last line break, if it has one;
    //   \s+(?!\S)   takes the run to the end of the text, else the run but its last char
    //               (so that char can lead the next word, " word");
    //   \s+         takes a lone whitespace char.
    std::size_t whitespace(std::size_t i) const {
        std::size_t end = i;
        std::size_t after_last_break = 0;
        while (end < n_ && is_whitespace(c_[end].cls)) {
            if (c_[end].cls == CharClass::LineBreak) after_last_break = end + 1;
            ++end;
        }
        if (after_last_break != 0) return after_last_break;
        if (end == n_ || end - i == 1) return end;
        return end - 1;
    }

    const std::vector<Char>& c_;
    std::size_t n_;
};

} // namespace

std::vector<ByteSpan> llama3_pretokenize(std::string_view text) {
    const std::vector<Char> chars = decode_text(text);
    const Matcher matcher(chars);
    std::vector<ByteSpan> spans;
    spans.reserve(chars.size() / 4 + 1);
    auto byte_offset = [&](std::size_t char_index) {
        return char_index < chars.size() ? chars[char_index].offset : text.size();
    };
    for (std::size_t i = 0; i < chars.size();) {
        const std::size_t end = matcher.match(i);
        spans.push_back({chars[i].offset, byte_offset(end)});
        i = end;
    }
    return spans;
}

} // namespace rilq
