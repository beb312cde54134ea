// The tensor type for core headers. <ATen/core/Tensor.h> (at::Tensor with its methods, dtypes,
// devices: ~145k preprocessed lines) instead of <torch/types.h> (~250k, every op and autograd):
// a unit that only passes tensors around parses a third as much. Units that call ops include
// <torch/torch.h> (or <ATen/ATen.h>) themselves.
//
// The two declarations below are the ones torch/types.h makes, repeated (repeating a using-
// directive or an alias of the same type is allowed), so headers can keep writing
// torch::Tensor and torch::Dtype; torch::kFloat32 and friends need torch/types.h: use at::kFloat.
#pragma once
#include <ATen/core/Tensor.h>

namespace torch {
using namespace at; // NOLINT: as torch/types.h does
using Dtype = at::ScalarType;
} // namespace torch
