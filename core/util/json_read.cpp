#include "core/util/json_read.h"

#include <fstream>
#include <sstream>

namespace rilq {

namespace {

struct TooDeep {};

// nlohmann's messages start with "[json.exception.parse_error.101] "; the id helps nobody.
std::string without_exception_id(const std::string& what) {
    if (what.rfind("[json.exception.", 0) != 0) return what;
    const size_t bracket = what.find("] ");
    return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

} // namespace

JsonParseError::JsonParseError(const std::string& source, const std::string& detail)
    : Error(source + ": invalid JSON: " + detail), detail_(detail) {}

nlohmann::json parse_json(const char* begin, const char* end, const std::string& source,
                          const nlohmann::json::parser_callback_t& also) {
    using json = nlohmann::json;
    // `depth` is the number of enclosing containers when one opens: the new one is one deeper.
    const json::parser_callback_t guard = [&also](int depth, json::parse_event_t event, json& parsed) {
        if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
            depth + 1 > kMaxJsonDepth)
            throw TooDeep{};
        return also ? also(depth, event, parsed) : true;
    };
    try {
        return json::parse(begin, end, guard);
    } catch (const TooDeep&) {
        throw JsonParseError(source, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } catch (const json::parse_error& e) {
        throw JsonParseError(source, clip_for_message(without_exception_id(e.what())));
    }
}

nlohmann::json parse_json(const std::string& text, const std::string& source) {
    return parse_json(text.data(), text.data() + text.size(), source);
}

nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(path + ": cannot read");
    return parse_json(text.str(), path);
}

std::string clip_for_message(const std::string& text, size_t max_chars) {
    if (text.size() <= max_chars) return text;
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) // not inside a UTF-8 sequence
        --cut;
    return text.substr(0, cut) + "... (" + std::to_string(text.size() - cut) + " more bytes)";
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
    // Values come from parse_json, so their depth is bounded and dump() cannot recurse away.
    return clip_for_message(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_chars);
}

} // namespace rilq
