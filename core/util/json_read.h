// Reading JSON the user (or a downloaded file) hands us, with limits: nesting deeper than
// kMaxJsonDepth is refused while parsing (deeper documents crashed the recursive dump() and
// copies; no real config, header or experiment comes close), and text quoted back in error
// messages is clipped, so one bad file gives one readable line, not 100 KB.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace rilq {

constexpr int kMaxJsonDepth = 64;

// A syntax error or a document nested too deeply. what() = "<source>: invalid JSON: <detail>";
// detail() is the part after it, for callers that format their own message.
class JsonParseError : public Error {
  public:
    JsonParseError(const std::string& source, const std::string& detail);
    const std::string& detail() const { return detail_; }

  private:
    std::string detail_;
};

// Parses [begin, end) (or `text`). `also` sees every parser event as nlohmann's callback does
// (it must return true; the depth check runs first). Throws JsonParseError naming `source`.
nlohmann::json parse_json(const char* begin, const char* end, const std::string& source,
                          const nlohmann::json::parser_callback_t& also = nullptr);
nlohmann::json parse_json(const std::string& text, const std::string& source);
// The whole file; Error "<path>: cannot open" when it cannot be read.
nlohmann::json read_json_file(const std::string& path);

// `text` cut to `max_chars` (at a UTF-8 boundary) with "... (N more bytes)" appended.
std::string clip_for_message(const std::string& text, size_t max_chars = 200);
// A JSON value as it would be quoted in an error message: dump(), clipped.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

} // namespace rilq
