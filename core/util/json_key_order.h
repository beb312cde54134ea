// Saving an edited JSON document in the key order its file had. nlohmann::json sorts object keys,
// so a document read, edited and written back would come out reordered and rewritten from top to
// bottom; an experiment the user laid out by hand should change only where it was edited.
#pragma once
#include <nlohmann/json.hpp>

namespace rilq {

// `edited` with every object's keys in the order they have in `original` (recursively, through
// arrays of objects by position); keys `original` lacks follow in `edited`'s order, keys `edited`
// dropped are gone. Values are always `edited`'s.
nlohmann::ordered_json in_original_key_order(const nlohmann::ordered_json& original,
                                             const nlohmann::json& edited);

} // namespace rilq
