#!/usr/bin/python3
"""Independent PyTorch reference for core/lora/init/ (tests/test_lora_init.cpp).

LoftQ as PEFT's tuners/lora/loftq_utils.py loftq_init runs it:
    res = W; repeat T times: Q = quant(res); L, R = _low_rank_decomposition(W - Q); res = W - L R
with L = U sqrt(S_r), R = sqrt(S_r) Vh, here divided by sqrt(s) each (s = alpha / r, so that the
adapter's s B A is L R; PEFT leaves s in), on two stories260K matrices with two quantizers:
RTN W2 g64 (OmniQuant) and NF2 (bitsandbytes table, blocks of 64), T = 1 and T = 5. The
quantizers are quant_reference.py's (checked bit for bit against core/quant elsewhere).

QERA-exact / the diagonal variant, from the formulas of QERA (ICLR 2025) / CLoQ:
    R = E[x x^T] (fp32 products per batch, fp64 sums), S = R^(1/2) (or diag(sqrt(R_ii))),
    S E^T = U Sigma V^T (E = W - Q), s B A = V_r Sigma_r U_r^T S^+
with S^+ the pseudo-inverse over eigenvalues of R above max * n * eps. The objective is checked
here two independent ways (from R, and as the mean squared output error over the calibration
rows themselves) and against the dropped singular values of S E^T.

Output: tests/data/lora_init/reference.safetensors + cases.json
Run: /usr/bin/python3 tests/reference/lora_init_reference.py   (torch 1.13, numpy)
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_safetensors_fixture import write_safetensors  # noqa: E402
from quant_reference import nf_ref, read_stories_linear, rtn_ref  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "lora_init"))
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))


def low_rank_decomposition(res, rank, scale):
    U, S, Vh = torch.linalg.svd(res, full_matrices=False)
    k = min(rank, S.shape[0])
    root = torch.sqrt(S[:k] / scale)
    A = torch.zeros(rank, res.shape[1])
    B = torch.zeros(res.shape[0], rank)
    A[:k] = root.unsqueeze(1) * Vh[:k]
    B[:, :k] = U[:, :k] * root.unsqueeze(0)
    return A, B


def loftq(W, quant, rank, scale, iters):
    res = W.clone()
    errors = []
    for _ in range(iters):
        Q = quant(res)
        A, B = low_rank_decomposition(W - Q, rank, scale)
        res = W - (B @ A) * scale
        errors.append(((res - Q).norm() / W.norm()).item())
    return Q, A, B, errors


def gram(batches):
    n = batches[0].shape[-1]
    total = torch.zeros(n, n, dtype=torch.float64)
    rows = 0
    for x in batches:
        x = x.reshape(-1, n).float()
        total += torch.einsum("bi,bj->ij", x, x).to(torch.float64)
        rows += x.shape[0]
    return total / rows


def calibrated(E, R, rank, scale, mode):
    E = E.double()
    n = R.shape[0]
    if mode == "exact":
        lam, V = torch.linalg.eigh((R + R.T) / 2)
        keep = lam > lam.max() * n * np.finfo(np.float64).eps
        root = torch.where(keep, torch.sqrt(lam.clamp(min=0)), torch.zeros_like(lam))
        inv = torch.where(keep, 1.0 / root, torch.zeros_like(lam))
        S = (V * root) @ V.T
        S_pinv = (V * inv) @ V.T
    else:
        s = torch.sqrt(torch.diag(R).clamp(min=0))
        S = torch.diag(s)
        S_pinv = torch.diag(torch.where(s > 0, 1.0 / s, torch.zeros_like(s)))
    U, Sig, Vh = torch.linalg.svd(S @ E.T, full_matrices=False)
    k = min(rank, Sig.shape[0])
    M = Vh[:k].T @ torch.diag(Sig[:k]) @ U[:, :k].T @ S_pinv  # = s B A
    tail = (Sig[k:] ** 2).sum().item()
    return M, tail


def objective_from_gram(E, M, R):
    D = E.double() - M
    return torch.trace(D @ R @ D.T).item()


def objective_from_rows(E, M, batches):
    D = (E.double() - M)
    total, rows = 0.0, 0
    for x in batches:
        x = x.reshape(-1, x.shape[-1]).double()
        total += ((x @ D.T) ** 2).sum().item()
        rows += x.shape[0]
    return total / rows


def f32(t):
    return ("F32", list(t.shape), t.detach().contiguous().numpy().astype(np.float32))


def f64(t):
    return ("F64", list(t.shape), t.detach().contiguous().numpy().astype(np.float64))


def main():
    os.makedirs(OUT, exist_ok=True)
    model = os.path.join(SHARED, "stories260K", "stories260K.bin")
    entries = []
    meta = {"generator": "tests/reference/lora_init_reference.py", "torch": torch.__version__, "loftq": {}, "qera": {}}

    def add(name, packed):
        entries.append((name, packed[0], packed[1], packed[2]))

    quantizers = {
        "rtn_w2_g64": lambda w: rtn_ref(w, 2, 64, "omniquant")["dequantized"],
        "nf2_b64": lambda w: nf_ref(w, 2, "bnb", 64, False, 256)["dequantized"],
    }
    loftq_cases = {
        # name: (matrix, quantizer, rank, alpha)
        "wq_rtn_r8": ("wq", "rtn_w2_g64", 8, 16.0),
        "w1_nf2_r4": ("w1", "nf2_b64", 4, 4.0),
    }
    for name, (which, qname, rank, alpha) in loftq_cases.items():
        W = read_stories_linear(model, which)
        scale = alpha / rank
        meta["loftq"][name] = {"matrix": which, "quantizer": qname, "rank": rank, "alpha": alpha, "iterations": {}}
        for iters in (1, 5):
            Q, A, B, errors = loftq(W, quantizers[qname], rank, scale, iters)
            add(f"loftq.{name}.T{iters}.base", f32(Q))
            add(f"loftq.{name}.T{iters}.A", f32(A))
            add(f"loftq.{name}.T{iters}.B", f32(B))
            meta["loftq"][name]["iterations"][str(iters)] = {"errors": errors}

    # QERA: the real wq of layer 0, RTN W2 g64, correlated synthetic inputs with a dead feature.
    g = torch.Generator().manual_seed(2024)
    W = read_stories_linear(model, "wq")
    Q = rtn_ref(W, 2, 64, "omniquant")["dequantized"]
    E = W - Q
    n = W.shape[1]
    mix = torch.randn(n, n, generator=g) * (0.9 ** torch.arange(n)).unsqueeze(0)  # decaying spectrum
    batches = [torch.randn(2, 50, n, generator=g) @ mix, torch.randn(1, 30, n, generator=g) @ mix]
    for b in batches:
        b[..., 10] = 0.0
    R = gram(batches)
    add("qera.W", f32(W))
    add("qera.Q", f32(Q))
    for k, b in enumerate(batches):
        add(f"qera.x{k}", f32(b))
    add("qera.R", f64(R))
    meta["qera"] = {"batches": len(batches), "rows": sum(b.shape[0] * b.shape[1] for b in batches), "cases": {}}
    for mode in ("exact", "diagonal"):
        for rank, alpha in ((4, 16.0), (8, 16.0)):
            M, tail = calibrated(E, R, rank, alpha / rank, mode)
            obj = objective_from_gram(E, M, R)
            obj_rows = objective_from_rows(E, M, batches)
            assert abs(obj - obj_rows) <= 1e-6 * obj_rows, (obj, obj_rows)
            if mode == "exact":
                assert abs(obj - tail) <= 1e-6 * obj, (obj, tail)
            key = f"{mode}_r{rank}"
            add(f"qera.{key}.M", f64(M))
            meta["qera"]["cases"][key] = {"mode": mode, "rank": rank, "alpha": alpha, "objective": obj,
                                          "objective_rows": obj_rows, "objective_none": objective_from_gram(
                                              E, torch.zeros_like(M), R)}
    write_safetensors(os.path.join(OUT, "reference.safetensors"), entries, {"format": "lora-init-reference"})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")
    print(json.dumps(meta["qera"]["cases"], indent=1))
    print(json.dumps(meta["loftq"], indent=1))


if __name__ == "__main__":
    main()
