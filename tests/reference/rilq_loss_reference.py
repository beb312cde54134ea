#!/usr/bin/env python3
"""Independent reference for the RILQ loss pieces (tests/test_rilq_loss.cpp).

Recomputes, with PyTorch's own modules as the official code uses them (aiha-lab/RILQ main.py
and rilq_utils/utils.py get_gt_loss), on small random inputs:
  L_model = nn.MSELoss(reduction="mean")(student, teacher)          for hid and for logit
  L_GT    = CrossEntropyLoss()(logits[..., :-1, :].float().view(-1, V), ids[..., 1:].view(-1))
  L       = a_dis_weight * L_model + gt_weight * L_GT
and writes inputs and expected values to tests/data/rilq_loss_reference.json.

Run: /usr/bin/python3 tests/reference/rilq_loss_reference.py   (torch 1.13)
"""
import json
import os

import torch
from torch import nn

torch.manual_seed(1234)
B, T, C, V = 2, 5, 4, 7
student_hidden = torch.randn(B, T, C, dtype=torch.float64)
teacher_hidden = student_hidden + 0.3 * torch.randn(B, T, C, dtype=torch.float64)
student_logits = torch.randn(B, T, V, dtype=torch.float64) * 2.0
teacher_logits = student_logits + 0.5 * torch.randn(B, T, V, dtype=torch.float64)
ids = torch.randint(0, V, (B, T))
a_dis_weight, gt_weight = 0.5, 0.5


def gt_loss(logits, labels):
    shift_logits = logits[..., :-1, :].contiguous().float()
    shift_labels = labels[..., 1:].contiguous()
    return nn.CrossEntropyLoss()(shift_logits.view(-1, V), shift_labels.view(-1))


mse = nn.MSELoss(reduction="mean")
hid_model = mse(student_hidden, teacher_hidden).item()
logit_model = mse(student_logits, teacher_logits).item()
gt = gt_loss(student_logits, ids).item()

out = {
    "shape": {"B": B, "T": T, "C": C, "V": V},
    "student_hidden": student_hidden.flatten().tolist(),
    "teacher_hidden": teacher_hidden.flatten().tolist(),
    "student_logits": student_logits.flatten().tolist(),
    "teacher_logits": teacher_logits.flatten().tolist(),
    "ids": ids.flatten().tolist(),
    "weights": {"a_dis_weight": a_dis_weight, "gt_weight": gt_weight},
    "expected": {
        "hid_model_loss": hid_model,
        "logit_model_loss": logit_model,
        "gt_loss": gt,
        "hid_total": a_dis_weight * hid_model + gt_weight * gt,
        "logit_total": a_dis_weight * logit_model + gt_weight * gt,
    },
}
path = os.path.join(os.path.dirname(__file__), "..", "data", "rilq_loss_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), out["expected"])
