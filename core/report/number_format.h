// Numbers as tables print them.
#pragma once
#include <string>

namespace rilq::report {

// Fixed-point with `decimals` digits, rounding half away from zero on the decimal value:
// 453.985 prints "453.99" as in the RILQ README, where plain binary rounding of the nearest
// double (453.98499999...) would give "453.98". A value within 1e-12 (relative) of a half is
// treated as the half. "nan", "inf", "-inf" for non-finite values; never "-0.00".
std::string format_fixed(double value, int decimals);

// The fewest significant digits that read back as the same double, positional unless the
// magnitude is below 1e-5 or from 1e16 up ("433.65", "120", "0.0001", "4.769696007084728").
std::string shortest_number(double value);

} // namespace rilq::report
