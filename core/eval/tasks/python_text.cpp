#include "core/eval/tasks/python_text.h"

#include "core/tokenize/utf8.h"
#include "core/util/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cwctype>
#include <locale.h>

namespace rilq::py {

namespace {

std::u32string decode_all(std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const size_t n = utf8::decode(s, i, cp);
        if (n == 0) throw Error("invalid UTF-8 at byte " + std::to_string(i));
        out.push_back(cp);
        i += n;
    }
    return out;
}

std::string encode_all(const std::u32string& cps) {
    std::string out;
    for (char32_t cp : cps)
        utf8::append(out, cp);
    return out;
}

// glibc's C.UTF-8 carries Unicode's simple case mapping; the "C" locale maps ASCII only.
locale_t utf8_locale() {
    static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (!locale) throw Error("the C.UTF-8 locale is not available (needed for Unicode case mapping)");
    return locale;
}

} // namespace

bool isspace(char32_t cp) {
    // Python's _PyUnicode_IsWhitespace: bidirectional types WS, B, S plus Zs.
    switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

std::string strip(std::string_view s) {
    const std::u32string cps = decode_all(s);
    size_t b = 0, e = cps.size();
    while (b < e && isspace(cps[b]))
        ++b;
    while (e > b && isspace(cps[e - 1]))
        --e;
    return encode_all(cps.substr(b, e - b));
}

std::string rstrip(std::string_view s) {
    const std::u32string cps = decode_all(s);
    size_t e = cps.size();
    while (e > 0 && isspace(cps[e - 1]))
        --e;
    return encode_all(cps.substr(0, e));
}

std::string capitalize(std::string_view s) {
    std::u32string cps = decode_all(s);
    const locale_t locale = utf8_locale();
    for (size_t i = 0; i < cps.size(); ++i) {
        const auto wc = static_cast<wint_t>(cps[i]);
        cps[i] = static_cast<char32_t>(i == 0 ? towupper_l(wc, locale) : towlower_l(wc, locale));
    }
    return encode_all(cps);
}

size_t length(std::string_view s) {
    return decode_all(s).size();
}

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const size_t n = utf8::decode(s, i, cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string float_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    // Shortest round-trip digits in scientific form "d.ddde+XX" (C++17 to_chars), then laid out
    // as Python's float_repr_style 'short' does: fixed notation while the decimal exponent e
    // satisfies -4 <= e < 16, scientific otherwise, and ".0" on an integral fixed value.
    char buffer[64];
    const auto res = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
    std::string sci(buffer, res.ptr);
    const bool negative = sci[0] == '-';
    if (negative) sci.erase(0, 1);
    const size_t e_pos = sci.find('e');
    std::string digits = sci.substr(0, e_pos);
    const int exponent = std::atoi(sci.c_str() + e_pos + 1);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end()); // "d" + "ddd"
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        const int magnitude = std::abs(exponent);
        out +=
            std::string(exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + std::to_string(magnitude);
    } else if (exponent < 0) {
        out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
        const auto int_digits = static_cast<size_t>(exponent) + 1;
        if (digits.size() <= int_digits) {
            out += digits + std::string(int_digits - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
        }
    }
    return out;
}

} // namespace rilq::py
