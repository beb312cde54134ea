// A short, stable tag of a string (FNV-1a, 32 bits, as 8 hex digits): for names that must stay
// short and distinct (a host in a temp file name, a clipped folder name), never for security.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace rilq {

inline std::string short_hash_hex(const std::string& text) {
    uint32_t hash = 2166136261u;
    for (const unsigned char c : text) {
        hash ^= c;
        hash *= 16777619u;
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", hash);
    return hex;
}

} // namespace rilq
