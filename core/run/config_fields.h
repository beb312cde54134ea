// Building blocks of the experiment schema: one Field per JSON key, knowing how to read and
// check a value into a struct and how to write it back. The same table drives parsing,
// validation messages, sweep detection, the canonical document, the hash and the params.
// Internal to core/run.
#pragma once
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace rilq::run::detail {

using json = nlohmann::json;

// The found value as JSON text, shortened so one bad 10,000-element list stays one line.
inline std::string found_text(const json& value) {
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

inline std::string expected(const std::string& what, const json& value) {
    return "expected " + what + ", found " + found_text(value);
}

template <class T> struct Field {
    std::string key;
    bool sweepable = true;
    bool list_valued = false; // its natural value is a JSON array: a sweep is a list of lists
    bool in_hash = true;      // false for identity and location fields, which are not settings
    std::function<std::string(const json&, T&)> read; // "" when accepted, else the message
    std::function<json(const T&)> write;
};

template <class T> Field<T> fixed(Field<T> f) { // not sweepable, not a setting
    f.sweepable = false;
    f.in_hash = false;
    return f;
}

template <class T, class Get>
Field<T> integer(std::string key, Get get, int64_t lo, int64_t hi, std::string what) {
    Field<T> f;
    f.key = std::move(key);
    f.read = [=](const json& v, T& target) -> std::string {
        if (!v.is_number_integer()) return expected(what, v);
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) return expected(what, v);
        const int64_t x = v.get<int64_t>();
        if (x < lo || x > hi) return expected(what, v);
        auto& ref = get(target);
        ref = static_cast<std::remove_reference_t<decltype(ref)>>(x);
        return {};
    };
    f.write = [=](const T& source) { return json(get(source)); };
    return f;
}

// A finite number (integers accepted) for which `ok` holds.
template <class T, class Get, class Ok> Field<T> number(std::string key, Get get, Ok ok, std::string what) {
    Field<T> f;
    f.key = std::move(key);
    f.read = [=](const json& v, T& target) -> std::string {
        if (!v.is_number()) return expected(what, v);
        const double x = v.get<double>();
        if (!std::isfinite(x) || !ok(x)) return expected(what, v);
        get(target) = x;
        return {};
    };
    f.write = [=](const T& source) { return json(get(source)); };
    return f;
}

template <class T, class Get> Field<T> boolean(std::string key, Get get) {
    Field<T> f;
    f.key = std::move(key);
    f.read = [=](const json& v, T& target) -> std::string {
        if (!v.is_boolean()) return expected("true or false", v);
        get(target) = v.get<bool>();
        return {};
    };
    f.write = [=](const T& source) { return json(get(source)); };
    return f;
}

// A string; `check` returns "" or what was expected (e.g. a pattern description).
template <class T, class Get, class Check> Field<T> string(std::string key, Get get, Check check) {
    Field<T> f;
    f.key = std::move(key);
    f.read = [=](const json& v, T& target) -> std::string {
        if (!v.is_string()) return expected("a string", v);
        const std::string s = v.get<std::string>();
        const std::string problem = check(s);
        if (!problem.empty()) return expected(problem, v);
        get(target) = s;
        return {};
    };
    f.write = [=](const T& source) { return json(get(source)); };
    return f;
}

inline std::string one_of_text(const std::vector<std::string>& names) {
    std::string out = "one of ";
    for (size_t i = 0; i < names.size(); ++i)
        out += (i ? ", \"" : "\"") + names[i] + "\"";
    return out;
}

// A string from a fixed set, stored as an enum.
template <class T, class E, class Get>
Field<T> choice(std::string key, Get get, std::vector<std::pair<std::string, E>> options) {
    std::vector<std::string> names;
    for (const auto& o : options)
        names.push_back(o.first);
    const std::string what = one_of_text(names);
    Field<T> f;
    f.key = std::move(key);
    f.read = [=](const json& v, T& target) -> std::string {
        if (v.is_string()) {
            for (const auto& o : options) {
                if (o.first == v.get<std::string>()) {
                    get(target) = o.second;
                    return {};
                }
            }
        }
        return expected(what, v);
    };
    f.write = [=](const T& source) {
        for (const auto& o : options) {
            if (o.second == get(source)) return json(o.first);
        }
        return json();
    };
    return f;
}

// A list of strings, each from `allowed` when that is not empty.
template <class T, class Get>
Field<T> string_list(std::string key, Get get, std::vector<std::string> allowed, bool allow_empty) {
    const std::string item_what = allowed.empty() ? std::string("a string") : one_of_text(allowed);
    Field<T> f;
    f.key = std::move(key);
    f.list_valued = true;
    f.read = [=](const json& v, T& target) -> std::string {
        if (!v.is_array()) return expected("a list of strings", v);
        if (v.empty() && !allow_empty) return expected("a non-empty list of strings", v);
        std::vector<std::string> out;
        for (size_t i = 0; i < v.size(); ++i) {
            const auto& item = v[i];
            bool ok = item.is_string();
            if (ok && !allowed.empty()) {
                ok = false;
                for (const auto& a : allowed)
                    ok = ok || a == item.get<std::string>();
            }
            if (!ok) return "[" + std::to_string(i) + "]: " + expected(item_what, item);
            out.push_back(item.get<std::string>());
        }
        get(target) = out;
        return {};
    };
    f.write = [=](const T& source) { return json(get(source)); };
    return f;
}

} // namespace rilq::run::detail
