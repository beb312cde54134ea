#include "core/quant/gptq_settings.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <set>
#include <type_traits>

namespace rilq {

namespace {

[[noreturn]] void settings_error(const std::string& path, const std::string& expected, const std::string& found) {
    throw Error(path + ": expected " + expected + ", found " + found);
}

template <typename T> T read_setting(const nlohmann::json& v, const std::string& path, const char* expected) {
    const bool ok = std::is_same_v<T, bool> ? v.is_boolean()
                    : std::is_integral_v<T> ? v.is_number_integer()
                                            : v.is_number();
    if (!ok) settings_error(path, expected, v.dump());
    return v.get<T>();
}

} // namespace

void GptqSettings::validate(const std::string& path) const {
    if (!(damp_percent >= 0.0 && damp_percent < 1.0))
        settings_error(path + ".damp_percent", "0 <= damp_percent < 1 (a fraction of the mean Hessian diagonal)",
            std::to_string(damp_percent));
    if (!(damp_increment > 0.0 && damp_increment < 1.0))
        settings_error(path + ".damp_increment", "0 < damp_increment < 1", std::to_string(damp_increment));
    if (block_size < 1) settings_error(path + ".block_size", "a positive number of columns", std::to_string(block_size));
    if (!(mse_norm > 0.0)) settings_error(path + ".mse_norm", "a positive exponent", std::to_string(mse_norm));
    if (mse_grid < 1) settings_error(path + ".mse_grid", "a positive number of shrink steps", std::to_string(mse_grid));
    if (!(mse_max_shrink > 0.0 && mse_max_shrink <= 1.0))
        settings_error(path + ".mse_max_shrink", "0 < mse_max_shrink <= 1", std::to_string(mse_max_shrink));
}

nlohmann::json gptq_settings_json(const GptqSettings& g) {
    return {{"damp_percent", g.damp_percent}, {"damp_increment", g.damp_increment},
            {"block_size", g.block_size},     {"act_order", g.act_order},
            {"static_groups", g.static_groups}, {"mse", g.mse},
            {"mse_norm", g.mse_norm},         {"mse_grid", g.mse_grid},
            {"mse_max_shrink", g.mse_max_shrink}};
}

GptqSettings gptq_settings_from_json(const nlohmann::json& j, const std::string& p) {
    if (!j.is_object()) settings_error(p, "an object", j.dump());
    static const std::set<std::string> known = {"damp_percent", "damp_increment", "block_size",
                                                "act_order",    "static_groups",  "mse",
                                                "mse_norm",     "mse_grid",       "mse_max_shrink"};
    for (const auto& [key, value] : j.items()) {
        (void)value;
        if (!known.count(key))
            settings_error(p + "." + key,
                "one of damp_percent, damp_increment, block_size, act_order, static_groups, mse, mse_norm, "
                "mse_grid, mse_max_shrink",
                "unknown key");
    }
    GptqSettings g;
    if (j.contains("damp_percent")) g.damp_percent = read_setting<double>(j["damp_percent"], p + ".damp_percent", "a number");
    if (j.contains("damp_increment"))
        g.damp_increment = read_setting<double>(j["damp_increment"], p + ".damp_increment", "a number");
    if (j.contains("block_size")) g.block_size = read_setting<int64_t>(j["block_size"], p + ".block_size", "an integer");
    if (j.contains("act_order")) g.act_order = read_setting<bool>(j["act_order"], p + ".act_order", "true or false");
    if (j.contains("static_groups"))
        g.static_groups = read_setting<bool>(j["static_groups"], p + ".static_groups", "true or false");
    if (j.contains("mse")) g.mse = read_setting<bool>(j["mse"], p + ".mse", "true or false");
    if (j.contains("mse_norm")) g.mse_norm = read_setting<double>(j["mse_norm"], p + ".mse_norm", "a number");
    if (j.contains("mse_grid")) g.mse_grid = read_setting<int>(j["mse_grid"], p + ".mse_grid", "an integer");
    if (j.contains("mse_max_shrink"))
        g.mse_max_shrink = read_setting<double>(j["mse_max_shrink"], p + ".mse_max_shrink", "a number");
    return g;
}

} // namespace rilq
