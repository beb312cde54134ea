// SHA-256 (FIPS 180-4) for file hashes in eval protocols and artifact records.
#pragma once
#include <string>

namespace rilq {

std::string sha256_hex(const std::string& bytes);
std::string sha256_file(const std::string& path);   // streams the file; Error if unreadable

} // namespace rilq
