#!/usr/bin/env python3
"""Independent reference for a LoRA adapter with IEC (tests/test_lora.cpp).

The forward is written the way htqin/IR-QLoRA utils.py IRQLoraLinear4bit.forward writes it
(reshape x into r groups and mean; reshape B's output into (r, out/r) and add beta_B * u), with
dropout 0, on small fixed shapes, and written to tests/data/lora_iec_reference.json:
  u = lora_A(x) + beta_A * x.reshape(..., r, -1).mean(-1)
  z = (lora_B(u).reshape(*u.shape, -1) + beta_B * u.unsqueeze(-1)).reshape(*u.shape[:-1], -1)
  delta = z * scaling,  scaling = alpha / r
Also the plain LoRA delta (betas 0) for the same A, B, x.

Run: /usr/bin/python3 tests/reference/lora_iec_reference.py   (torch 1.13)
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)
batch, tokens, d_in, d_out, r, alpha = 2, 3, 8, 6, 2, 4.0
A = torch.randn(r, d_in, dtype=torch.float64)
B = torch.randn(d_out, r, dtype=torch.float64)
x = torch.randn(batch, tokens, d_in, dtype=torch.float64)
beta_A, beta_B = 0.7, -0.4
scaling = alpha / r

u = F.linear(x, A) + beta_A * x.reshape(list(x.shape[:-1]) + [r, -1]).mean(dim=-1)
z = (F.linear(u, B).reshape(list(u.shape) + [-1]) + beta_B * u.unsqueeze(-1)).reshape(list(u.shape[:-1]) + [-1])
delta_iec = z * scaling
delta_plain = F.linear(F.linear(x, A), B) * scaling

out = {
    "shape": {"batch": batch, "tokens": tokens, "in": d_in, "out": d_out, "r": r},
    "alpha": alpha,
    "beta1": beta_A,
    "beta2": beta_B,
    "A": A.flatten().tolist(),
    "B": B.flatten().tolist(),
    "x": x.flatten().tolist(),
    "delta_iec": delta_iec.flatten().tolist(),
    "delta_plain": delta_plain.flatten().tolist(),
}
path = os.path.join(os.path.dirname(__file__), "..", "data", "lora_iec_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
