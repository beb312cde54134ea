#include "core/util/path_names.h"

#include <cstdint>
#include <cstdio>

namespace rilq {

namespace {
constexpr size_t kMaxComponentBytes = 200; // file systems allow 255; temp siblings add ~40
constexpr size_t kKeptBytes = 191;         // + "-" + 8 hex digits = 200

std::string hash_hex(const std::string& s) {
    uint32_t hash = 2166136261u; // FNV-1a
    for (const unsigned char c : s) {
        hash ^= c;
        hash *= 16777619u;
    }
    char text[9];
    std::snprintf(text, sizeof text, "%08x", hash);
    return text;
}
} // namespace

std::string safe_path_component(const std::string& name) {
    std::string out;
    out.reserve(name.size());
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        const bool bad = c < 0x20 || c == 0x7f || ch == '/' || ch == '\\' || ch == '{' || ch == '}';
        out += bad ? '_' : ch;
    }
    if (out.empty() || out == ".") return "_";
    if (out == "..") return "__";
    if (out.size() > kMaxComponentBytes) {
        size_t cut = kKeptBytes;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
            --cut;
        out = out.substr(0, cut) + "-" + hash_hex(name);
    }
    return out;
}

} // namespace rilq
