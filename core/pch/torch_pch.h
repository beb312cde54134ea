// Precompiled header for rilq_core: the heavy, stable headers every core TU pulls in.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <map>
#include <memory>
#include <functional>
