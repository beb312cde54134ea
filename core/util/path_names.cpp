#include "core/util/path_names.h"

#include "core/util/short_hash.h"

namespace rilq {

namespace {
constexpr size_t kMaxComponentBytes = 200; // file systems allow 255; temp siblings add ~40
constexpr size_t kKeptBytes = 191;         // + "-" + 8 hex digits = 200
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
        out = out.substr(0, cut) + "-" + short_hash_hex(name);
    }
    return out;
}

} // namespace rilq
