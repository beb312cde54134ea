// Precompiled header shared by the core test executables.
#pragma once
#include <QtTest/QtTest>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
