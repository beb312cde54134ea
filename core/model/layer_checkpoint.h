// Activation checkpointing of one decoder layer (ForwardOptions::checkpoint_layers): the layer
// runs without autograd, keeping only its input; its backward runs the layer again with autograd
// on and differentiates that recomputation. This is PyTorch's non-reentrant
// torch.utils.checkpoint idea as a custom autograd Function: the layer's LoRA tensors are inputs
// of the Function, so their gradients come back through it (and the first layer, whose input
// needs no gradient, still gets a backward). The recomputation runs the same ops in the same
// order, so the gradients equal the plain graph's bit for bit (tests/test_activation_checkpoint).
#pragma once
#include <cstddef>

#include "core/util/tensor.h"

namespace rilq {

class LlamaModel;
struct RopeTables;

// Layer i of `model` on x (B, T, C), checkpointed. The model must outlive the backward.
torch::Tensor checkpointed_layer_forward(const LlamaModel& model, size_t i, const torch::Tensor& x,
                                         const RopeTables& rope);

} // namespace rilq
