// The building blocks of every settings table: one Field per JSON key, bound to a member of a
// plain struct. A field knows how to read and check a JSON value into its member, how to write
// it back, and what every front end needs to show it (kind, range, choices, doc, flags), so one
// table per struct drives parsing, validation messages, sweeps, the canonical document and hash,
// the stored params, the experiment form and the README reference.
//
// The tables live beside their structs (LoraConfig, TrainConfig, QuantSpec); the experiment
// schema (core/run/config_schema.h) composes them. Adding a setting = a struct member plus one
// line in its struct's table.
#pragma once
#include "core/util/problem.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace rilq::config {

using json = nlohmann::json;

// The found value as JSON text, shortened so one bad 10,000-element list stays one line.
std::string found_text(const json& value);
// "expected <what>, found <value>"
std::string expected(const std::string& what, const json& value);
// one of "a", "b", "c"
std::string one_of_text(const std::vector<std::string>& names);

// ---- enums as text ------------------------------------------------------------------------
// Each enum has one table of (value, name); its to_string, its parsing and its schema choices
// all read that table.
template <class E> using EnumNames = std::vector<std::pair<E, std::string>>;

template <class E> std::string name_of(const EnumNames<E>& names, E value) {
    for (const auto& [v, name] : names)
        if (v == value) return name;
    return "?";
}

template <class E> bool find_value(const EnumNames<E>& names, const std::string& text, E& out) {
    for (const auto& [v, name] : names) {
        if (name == text) {
            out = v;
            return true;
        }
    }
    return false;
}

template <class E> std::vector<std::string> names_of(const EnumNames<E>& names) {
    std::vector<std::string> out;
    for (const auto& entry : names)
        out.push_back(entry.second);
    return out;
}

// ---- fields -------------------------------------------------------------------------------

enum class FieldKind {
    Integer,    // a whole number in [lo, hi]
    Number,     // a finite number in its range
    Boolean,    // true / false
    Text,       // a string
    Path,       // a string naming a file or folder
    Choice,     // one string of `choices`
    TextList,   // a list of strings, each from `choices` when that is not empty
    ChoiceList, // a list of strings from `choices`, stored as enums
    Entries,    // an object of named entries, each with fields of its own (`entries`)
    Custom,     // anything else (a [begin, end] range, a version number)
};

// What a field changes, so points of a sweep can share the work it does not affect.
enum class Phase {
    Preparation, // data, the quantized model, FP / quantized evaluations
    Targets,     // the teacher's cached outputs (besides preparation)
    Training,    // only the adapters' training
};

struct FieldInfo {
    std::string key; // the JSON key inside its section
    FieldKind kind = FieldKind::Custom;
    double lo = -std::numeric_limits<double>::infinity(); // Integer, Number
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false, hi_open = false;
    std::vector<std::string> choices; // Choice, TextList, ChoiceList
    std::vector<FieldInfo> entries;   // Entries: each entry's fields (default_doc = their default)
    std::string what;                 // "a non-negative integer": messages and the README's valid values
    std::string label;                // short title for the form ("Learning rate")
    std::string doc;                  // the README's meaning column and the form's tooltip
    std::string origin;               // "official" (the RILQ code's argument) | "workbench" | ""
    std::string default_doc;          // the README's default when not the written value ("required")
    std::string group;                // the form's box ("LoRA", "Training")
    bool sweepable = true;            // a list in the experiment sweeps it
    bool list_valued = false;         // its value is a JSON list: a sweep is a list of lists
    bool setting = true;              // changes results: hashed, compared; false for names and places
    bool resumable = false;           // may differ between a run and its resume
    Phase phase = Phase::Preparation;
};

template <class T> struct Field : FieldInfo {
    std::function<std::string(const json&, T&)> read; // "" when accepted, else what was wrong
    std::function<json(const T&)> write;

    Field& titled(std::string text) {
        label = std::move(text);
        return *this;
    }
    Field& help(std::string text) {
        doc = std::move(text);
        return *this;
    }
    Field& official() {
        origin = "official";
        return *this;
    }
    Field& workbench() {
        origin = "workbench";
        return *this;
    }
    Field& shows_default(std::string text) {
        default_doc = std::move(text);
        return *this;
    }
    Field& in_group(std::string name) {
        group = std::move(name);
        return *this;
    }
    Field& in_phase(Phase p) {
        phase = p;
        return *this;
    }
    Field& resumable_field() {
        resumable = true;
        return *this;
    }
    Field& unswept() {
        sweepable = false;
        return *this;
    }
    // Identity and location fields: not sweepable, not a setting.
    Field& fixed() {
        sweepable = false;
        setting = false;
        return *this;
    }
};

// ---- member access ------------------------------------------------------------------------

template <class O> O& follow(O& object) {
    return object;
}
template <class O, class M, class... Rest> auto& follow(O& object, M member, Rest... rest) {
    return follow(object.*member, rest...);
}

// at(&RunConfig::train, &TrainConfig::lora, &LoraConfig::r): a getter usable on const and
// non-const objects.
template <class... M> auto at(M... members) {
    return [=](auto& object) -> auto& {
        return follow(object, members...);
    };
}

// A field of an inner struct as a field of the outer one (TrainConfig's lora_r inside RunConfig).
template <class Outer, class Inner, class Get> Field<Outer> lift(const Field<Inner>& inner, Get get) {
    Field<Outer> f;
    static_cast<FieldInfo&>(f) = inner;
    f.read = [read = inner.read, get](const json& v, Outer& o) { return read(v, get(o)); };
    f.write = [write = inner.write, get](const Outer& o) { return write(get(o)); };
    return f;
}

template <class Outer, class Inner, class Get>
std::vector<Field<Outer>> lift_all(const std::vector<Field<Inner>>& inner, Get get) {
    std::vector<Field<Outer>> out;
    for (const auto& f : inner)
        out.push_back(lift<Outer>(f, get));
    return out;
}

// Removes the field `key` from `fields` and returns it (a field placed in another section).
template <class T> Field<T> take(std::vector<Field<T>>& fields, const std::string& key) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (it->key != key) continue;
        Field<T> f = *it;
        fields.erase(it);
        return f;
    }
    throw std::logic_error("config table has no field " + key);
}

// ---- builders -----------------------------------------------------------------------------

std::string integer_text(int64_t lo, int64_t hi);
std::string number_text(double lo, double hi, bool lo_open, bool hi_open);

inline constexpr int64_t kIntMax = std::numeric_limits<int>::max();
inline constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// `what` replaces the generated "a non-negative integer" where a hint helps ("(0 = all)").
template <class T, class Get>
Field<T> integer(std::string key, Get get, int64_t lo, int64_t hi, std::string what = {}) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Integer;
    f.lo = static_cast<double>(lo);
    f.hi = static_cast<double>(hi);
    f.what = what.empty() ? integer_text(lo, hi) : std::move(what);
    f.read = [get, lo, hi, what = f.what](const json& v, T& target) -> std::string {
        if (!v.is_number_integer()) return expected(what, v);
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) return expected(what, v);
        const int64_t x = v.get<int64_t>();
        if (x < lo || x > hi) return expected(what, v);
        auto& ref = get(target);
        ref = static_cast<std::remove_reference_t<decltype(ref)>>(x);
        return {};
    };
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

// A finite number (integers accepted) in [lo, hi], either end open.
template <class T, class Get>
Field<T> number(std::string key, Get get, double lo, double hi, bool lo_open = false, bool hi_open = false,
                std::string what = {}) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Number;
    f.lo = lo;
    f.hi = hi;
    f.lo_open = lo_open;
    f.hi_open = hi_open;
    f.what = what.empty() ? number_text(lo, hi, lo_open, hi_open) : std::move(what);
    f.read = [get, lo, hi, lo_open, hi_open, what = f.what](const json& v, T& target) -> std::string {
        if (!v.is_number()) return expected(what, v);
        const double x = v.get<double>();
        const bool above = lo_open ? x > lo : x >= lo;
        const bool below = hi_open ? x < hi : x <= hi;
        if (!std::isfinite(x) || !above || !below) return expected(what, v);
        get(target) = x;
        return {};
    };
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

template <class T, class Get> Field<T> boolean(std::string key, Get get) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Boolean;
    f.what = "true or false";
    f.read = [get](const json& v, T& target) -> std::string {
        if (!v.is_boolean()) return expected("true or false", v);
        get(target) = v.get<bool>();
        return {};
    };
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

// A string; `check` returns "" or what was expected (e.g. a pattern description).
template <class T, class Get, class Check>
Field<T> text(std::string key, Get get, Check check, std::string what = "a string") {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Text;
    f.what = std::move(what);
    f.read = [get, check](const json& v, T& target) -> std::string {
        if (!v.is_string()) return expected("a string", v);
        const std::string s = v.get<std::string>();
        const std::string problem = check(s);
        if (!problem.empty()) return expected(problem, v);
        get(target) = s;
        return {};
    };
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

inline std::string any_text(const std::string&) {
    return {};
}
inline std::string non_empty_text(const std::string& s) {
    return s.empty() ? "a non-empty string" : "";
}

template <class T, class Get> Field<T> path(std::string key, Get get, std::string what = "path") {
    Field<T> f = text<T>(std::move(key), get, any_text, std::move(what));
    f.kind = FieldKind::Path;
    return f;
}

// A string member restricted to `choices`.
template <class T, class Get>
Field<T> choice_text(std::string key, Get get, std::vector<std::string> choices) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Choice;
    f.choices = choices;
    f.what = one_of_text(choices);
    f.read = [get, choices, what = f.what](const json& v, T& target) -> std::string {
        if (v.is_string()) {
            for (const auto& c : choices) {
                if (c == v.get<std::string>()) {
                    get(target) = c;
                    return {};
                }
            }
        }
        return expected(what, v);
    };
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

// An enum member, written as its name.
template <class T, class E, class Get> Field<T> choice(std::string key, Get get, const EnumNames<E>& names) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Choice;
    f.choices = names_of(names);
    f.what = one_of_text(f.choices);
    f.read = [get, names, what = f.what](const json& v, T& target) -> std::string {
        E value{};
        if (v.is_string() && find_value(names, v.get<std::string>(), value)) {
            get(target) = value;
            return {};
        }
        return expected(what, v);
    };
    f.write = [get, names](const T& source) { return json(name_of(names, get(source))); };
    return f;
}

// A list of strings, each from `allowed` when that is not empty. Messages about one element
// start with "[i]: " (callers move it into the JSON path).
template <class T, class Get>
Field<T> text_list(std::string key, Get get, std::vector<std::string> allowed, bool allow_empty) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::TextList;
    f.list_valued = true;
    f.choices = allowed;
    f.what = allowed.empty() ? std::string("a list of strings") : "a list of " + one_of_text(allowed);
    const std::string item_what = allowed.empty() ? std::string("a string") : one_of_text(allowed);
    f.read = [get, allowed, allow_empty, item_what](const json& v, T& target) -> std::string {
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
    f.write = [get](const T& source) { return json(get(source)); };
    return f;
}

// A non-empty list of enum names, stored as a vector of enums.
template <class T, class E, class Get>
Field<T> choice_list(std::string key, Get get, const EnumNames<E>& names) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::ChoiceList;
    f.list_valued = true;
    f.choices = names_of(names);
    f.what = "a non-empty list of " + one_of_text(f.choices).substr(7); // without "one of "
    f.read = [get, names, what = f.what, item_what = one_of_text(f.choices)](const json& v,
                                                                             T& target) -> std::string {
        if (!v.is_array() || v.empty()) return expected(what, v);
        std::vector<E> out;
        for (size_t i = 0; i < v.size(); ++i) {
            E value{};
            if (!v[i].is_string() || !find_value(names, v[i].get<std::string>(), value))
                return "[" + std::to_string(i) + "]: " + expected(item_what, v[i]);
            out.push_back(value);
        }
        get(target) = out;
        return {};
    };
    f.write = [get, names](const T& source) {
        json out = json::array();
        for (const E value : get(source))
            out.push_back(name_of(names, value));
        return out;
    };
    return f;
}

template <class T> json write_fields(const std::vector<Field<T>>& fields, const T& object);
template <class T>
std::vector<Problem> read_fields(const std::vector<Field<T>>& fields, const json& object, T& target,
                                 const std::string& path);

// An object of named entries, {"mmlu": {"shots": 5}, ...}, read into a std::map<std::string, E>,
// each entry starting from E{} and read with `entry_fields`; names must be non-empty and free of
// commas and spaces (they are referred to in lists). A problem names its entry and key:
// ".mmlu.shots: expected ..." (problem_at moves that into the path). Not sweepable.
template <class T, class E, class Get>
Field<T> entries(std::string key, Get get, std::vector<Field<E>> entry_fields, std::string entry_what) {
    Field<T> f;
    f.key = std::move(key);
    f.kind = FieldKind::Entries;
    f.sweepable = false;
    f.what = "an object of NAME -> " + entry_what;
    const E defaults{};
    for (const auto& e : entry_fields) {
        f.entries.push_back(e);
        if (f.entries.back().default_doc.empty()) f.entries.back().default_doc = "`" + e.write(defaults).dump() + "`";
    }
    f.read = [get, entry_fields, what = f.what](const json& v, T& target) -> std::string {
        if (!v.is_object()) return expected(what, v);
        std::map<std::string, E> out;
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string& name = it.key();
            if (name.empty() || name.find_first_of(", \t") != std::string::npos)
                return "." + name + ": expected a name without commas or spaces, found \"" + name + "\"";
            E entry{};
            const auto problems = read_fields(entry_fields, it.value(), entry, "");
            if (!problems.empty()) return "." + name + problems.front().text();
            out.emplace(name, std::move(entry));
        }
        get(target) = std::move(out);
        return {};
    };
    f.write = [get, entry_fields](const T& source) {
        json out = json::object();
        for (const auto& [name, entry] : get(source))
            out[name] = write_fields(entry_fields, entry);
        return out;
    };
    return f;
}

// ---- whole tables -------------------------------------------------------------------------

// Every field written under its key.
template <class T> json write_fields(const std::vector<Field<T>>& fields, const T& object) {
    json out = json::object();
    for (const auto& f : fields)
        out[f.key] = f.write(object);
    return out;
}

// Keys of `object` not in `known`, each with the closest known key as a hint.
std::vector<Problem> unknown_key_problems(const json& object, const std::vector<std::string>& known,
                                          const std::string& path);

template <class T> std::vector<std::string> keys_of(const std::vector<Field<T>>& fields) {
    std::vector<std::string> keys;
    for (const auto& f : fields)
        keys.push_back(f.key);
    return keys;
}

// A message of a list field about one element starts with "[i]: ": moved into the path.
Problem problem_at(std::string path, std::string message);

// Each present key of `object` read into `target`; unknown keys are problems too.
template <class T>
std::vector<Problem> read_fields(const std::vector<Field<T>>& fields, const json& object, T& target,
                                 const std::string& path) {
    if (!object.is_object()) return {{path, expected("an object", object)}};
    std::vector<Problem> problems = unknown_key_problems(object, keys_of(fields), path);
    for (const auto& f : fields) {
        if (!object.contains(f.key)) continue;
        const std::string message = f.read(object.at(f.key), target);
        if (!message.empty()) problems.push_back(problem_at(path + "." + f.key, message));
    }
    return problems;
}

// Range and choice problems of the values `object` holds, found by reading back what each
// field writes: the same checks, and messages, as a JSON document gets.
template <class T>
std::vector<Problem> field_problems(const std::vector<Field<T>>& fields, const T& object,
                                    const std::string& path) {
    std::vector<Problem> problems;
    for (const auto& f : fields) {
        T scratch = object;
        const std::string message = f.read(f.write(object), scratch);
        if (!message.empty())
            problems.push_back(problem_at(path.empty() ? f.key : path + "." + f.key, message));
    }
    return problems;
}

// All problems in one message, one per line after the first ("<where>: 2 problems: ...").
std::string describe_problems(const std::string& where, const std::vector<Problem>& problems);

template <class T> const Field<T>* find_field(const std::vector<Field<T>>& fields, const std::string& key) {
    for (const auto& f : fields)
        if (f.key == key) return &f;
    return nullptr;
}

} // namespace rilq::config
