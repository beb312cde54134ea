// torch.round semantics (round half to even) without a libm call, so the quantizer loops
// vectorize. Adding and subtracting 2^23 makes the FPU round at the units place in the
// current (nearest-even) mode; values with |v| >= 2^23 are already integers.
#pragma once
#include <cmath>

namespace rilq {

inline float round_half_even(float v) {
    const float two23 = 8388608.0f;
    const float a = std::fabs(v);
    const float r = (a + two23) - two23;
    return a < two23 ? std::copysign(r, v) : v;
}

} // namespace rilq
