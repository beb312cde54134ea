// The few Python string operations the task protocols are written in, with Python's exact
// semantics, so prompts built here are byte-identical to the reference scripts':
//   str.strip / rstrip  (Python's whitespace set, not C's isspace)
//   str.capitalize      (hellaswag's ctx_b: first character upper, every other one lower)
//   len(str)            (lm-eval's acc_norm divides by the choice's code points, not bytes)
//   "{}".format(float)  (repr: shortest round-trip digits; pandas prints numeric cells so)
// Strings are UTF-8; invalid UTF-8 is an error for the callers to report (they read files).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace rilq::py {

// Python's str.isspace() for one code point (Unicode White_Space plus U+001C..U+001F).
bool isspace(char32_t cp);

std::string strip(std::string_view s);
std::string rstrip(std::string_view s);

// str.capitalize(): the first code point upper-cased, the rest lower-cased. Case mapping is
// Unicode's simple mapping (glibc C.UTF-8); Python differs only for the handful of characters
// with special casing (German sharp s titled "Ss", dotted capital I, final sigma, digraphs).
std::string capitalize(std::string_view s);

// len(s): code points. Throws rilq::Error on invalid UTF-8.
size_t length(std::string_view s);

// True when `s` is valid UTF-8 (what Python's strict decoder accepts).
bool valid_utf8(std::string_view s);

// repr(float) / "{}".format(float): "0.1", "1e-05", "1e+16", "100.0", "nan", "inf", "-0.0".
std::string float_repr(double value);

} // namespace rilq::py
