// Forward declarations for headers that only name a settings table (config_fields.h has them).
#pragma once

#include "core/util/problem.h"

namespace rilq::config {
template <class T> struct Field;
} // namespace rilq::config
