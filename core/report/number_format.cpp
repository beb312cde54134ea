#include "core/report/number_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>

namespace rilq::report {

std::string format_fixed(double value, int decimals) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    const double scale = std::pow(10.0, decimals);
    double scaled = value * scale;
    // Values in tables are usually decimals typed or averaged from decimals; their binary
    // neighbours sit a few ulps off the half, which this nudge puts back on the right side.
    scaled = std::round(scaled + std::copysign(std::abs(scaled) * 1e-12, scaled));
    if (scaled == 0) scaled = 0; // no "-0.00"
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, scaled / scale);
    return buf;
}

std::string shortest_number(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buf[64];
    int precision = 1;
    for (; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, value);
        if (std::strtod(buf, nullptr) == value) break;
    }
    // "%g" switches to an exponent as soon as the digits run out ("1.2e+02" for 120):
    // tables want positional numbers unless they are very large or very small.
    const char* e = std::strchr(buf, 'e');
    if (e && std::abs(value) >= 1e-5 && std::abs(value) < 1e16) {
        const int exponent = std::atoi(e + 1);
        std::snprintf(buf, sizeof buf, "%.*f", std::max(0, precision - 1 - exponent), value);
    }
    return buf;
}

} // namespace rilq::report
