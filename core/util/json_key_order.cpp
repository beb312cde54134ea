#include "core/util/json_key_order.h"

namespace rilq {

nlohmann::ordered_json in_original_key_order(const nlohmann::ordered_json& original,
                                             const nlohmann::json& edited) {
    if (edited.is_object()) {
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        const bool was_object = original.is_object();
        if (was_object)
            for (const auto& [key, value] : original.items()) {
                const auto it = edited.find(key);
                if (it != edited.end()) out[key] = in_original_key_order(value, *it);
            }
        for (const auto& [key, value] : edited.items())
            if (!out.contains(key)) out[key] = in_original_key_order(nlohmann::ordered_json(), value);
        return out;
    }
    if (edited.is_array()) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (size_t i = 0; i < edited.size(); ++i)
            out.push_back(in_original_key_order(
                original.is_array() && i < original.size() ? original[i] : nlohmann::ordered_json(),
                edited[i]));
        return out;
    }
    return nlohmann::ordered_json::parse(edited.dump()); // a scalar, exactly as edited
}

} // namespace rilq
