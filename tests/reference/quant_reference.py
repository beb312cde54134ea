#!/usr/bin/python3
"""Independent PyTorch reference for the quantizers and metrics of core/quant.

Implements METHODS.md sections 1 and 5 from the formulas and the official Python sources they
cite (OmniQuant quantize/quantizer.py, IR-QLoRA utils.py and integer quantizer/quantizer_icq.py,
bitsandbytes create_normal_map / create_dynamic_map / quantize_4bit), written the way those
sources write them: whole-tensor torch ops, a Python loop over ICQ candidates, torch.bucketize
on the NF midpoints, evaluate_entropy() with (codes == values).sum(), and so on. Nothing here is
shared with the C++ code.

Run:  /usr/bin/python3 tests/reference/quant_reference.py
Writes tests/data/quant/reference.json (tensors hex-encoded little-endian; see enc()).
Needs torch (1.13) and numpy; the normal quantile comes from statistics.NormalDist (scipy is
not installed here; both are double-precision accurate).
"""
import json
import math
import os
import struct
import sys
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "quant", "reference.json")
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.join(HERE, "..", "..", "..", "shared", "data"))
ppf = NormalDist().inv_cdf


def enc(t):
    t = t.detach().contiguous()
    kinds = {torch.float32: ("f32", "<f4"), torch.uint8: ("u8", "u1"), torch.int64: ("i64", "<i8")}
    name, np_dtype = kinds[t.dtype]
    return {"dtype": name, "shape": list(t.shape), "hex": t.numpy().astype(np_dtype).tobytes().hex()}


# ---------------------------------------------------------------------------------------------
# RTN (METHODS 1.1): OmniQuant UniformAffineQuantizer and GPTQ Quantizer.find_params, per group.

def group_minmax(W, G):
    O, I = W.shape
    NG = -(-I // G)
    pad = NG * G - I
    xmin = F.pad(W, (0, pad), value=float("inf")).reshape(O, NG, G).amin(-1)
    xmax = F.pad(W, (0, pad), value=float("-inf")).reshape(O, NG, G).amax(-1)
    return xmin, xmax


def expand(params, G, I):
    return params.repeat_interleave(G, dim=1)[:, :I]


def rtn_ref(W, bits, G, variant):
    O, I = W.shape
    G = I if G < 0 else G
    xmin, xmax = group_minmax(W, G)
    maxq = 2 ** bits - 1
    if variant == "omniquant":
        scale = ((xmax - xmin) / maxq).clamp(min=1e-5, max=1e4)
        zero = (-(xmin) / scale).clamp(min=-1e4, max=1e4).round()
    elif variant == "omniquant-sym":
        abs_max = torch.max(xmax.abs(), xmin.abs())
        scale = (abs_max / (2 ** (bits - 1) - 1)).clamp(min=1e-5, max=1e4)
        zero = ((2 ** (bits - 1) - 1) * torch.ones_like(scale)).clamp(min=-1e4, max=1e4).round()
    else:
        sym = variant == "gptq-sym"
        tmp = torch.zeros_like(xmin)
        xmin = torch.minimum(xmin, tmp)
        xmax = torch.maximum(xmax, tmp)
        if sym:
            xmax = torch.maximum(torch.abs(xmin), xmax)
            tmp = xmin < 0
            xmin[tmp] = -xmax[tmp]
        tmp = (xmin == 0) & (xmax == 0)
        xmin[tmp] = -1
        xmax[tmp] = +1
        scale = (xmax - xmin) / torch.tensor(maxq)
        zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
    s, z = expand(scale, G, I), expand(zero, G, I)
    q = torch.clamp(torch.round(W / s) + z, 0, maxq)
    return {"dequantized": (q - z) * s, "codes": q.to(torch.uint8), "scales": scale, "zeros": zero}


# ---------------------------------------------------------------------------------------------
# NormalFloat (METHODS 1.2): tables, bitsandbytes blockwise absmax quantization, double quant.

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
OFFSET = 0.9677083


def create_normal_map_bits(bits, offset=OFFSET):
    """bitsandbytes create_normal_map(use_extra_value=True) with 2^(k-1) in place of 8."""
    half = 2 ** (bits - 1)
    v1 = [ppf(p) for p in torch.linspace(offset, 0.5, half + 1)[:-1].tolist()]
    v3 = [-ppf(p) for p in torch.linspace(offset, 0.5, half)[:-1].tolist()]
    values = torch.Tensor(v1 + [0] + v3)
    values = values.sort().values
    values /= values.max()
    return values


def symmetric_normal_map(bits, offset=OFFSET):
    """QLoRA-paper form: averages of adjacent quantiles of 2^k+1 evenly spaced probabilities."""
    n = 2 ** bits
    lo = 1 - offset
    step = (offset - lo) / n
    p = [lo + i * step for i in range(n)] + [offset]
    q = [0.5 * (ppf(p[i]) + ppf(p[i + 1])) for i in range(n)]
    qmax = max(abs(v) for v in q)
    return torch.tensor([v / qmax for v in q], dtype=torch.float32)


def nf_table(bits, variant):
    if variant == "bnb":
        return torch.tensor(NF4, dtype=torch.float32) if bits == 4 else create_normal_map_bits(bits)
    return symmetric_normal_map(bits)


def f32_from_decimal(text):
    """Nearest fp32 to a decimal string in one rounding (what a C float literal does); ties to even."""
    exact = Fraction(text)
    guess = np.float32(float(text))
    cands = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    best = min(cands, key=lambda c: (abs(Fraction(float(c)) - exact), int(np.float32(c).view(np.uint32)) & 1))
    return float(best)


def midpoints_f64(table):
    """bitsandbytes' NF4 tree constants: repr() of the fp64 midpoints pasted as C float literals."""
    t = table.double().tolist()
    return torch.tensor([f32_from_decimal(repr((t[k] + t[k + 1]) / 2)) for k in range(len(t) - 1)],
                        dtype=torch.float32)


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes functional.create_dynamic_map, verbatim logic."""
    data = []
    non_sign_bits = total_bits - (1 if signed else 1)
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed
                             else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    assert additional_items == 0
    data.append(0)
    data.append(1.0)
    data.sort()
    return torch.Tensor(data)


DYN = create_dynamic_map()
DYN_ZERO = int((DYN == 0).nonzero()[0])


def nf_codes(blocks, thr):
    """bnb kQuantizeBlockwise for NF: absmax per block, x * (1/absmax), tree = bucketize."""
    absmax = blocks.abs().amax(-1, keepdim=True)
    v = blocks * (1.0 / absmax)
    codes = torch.bucketize(v, thr, right=False)
    codes[torch.isnan(v)] = 0          # dQuantizeNF4 sends NaN (0 * inf) to code 0
    return codes, absmax.squeeze(-1)


def to_blocks(flat, B, pad_value):
    N = flat.numel()
    NB = -(-N // B)
    return F.pad(flat, (0, NB * B - N), value=pad_value).reshape(NB, B), NB


def double_quant_ref(absmax, dq_block):
    mean = absmax.double().mean().float()
    d = absmax - mean
    blocks, ND = to_blocks(d, dq_block, 0.0)
    a2 = blocks.abs().amax(-1, keepdim=True)
    v = torch.where(a2 > 0, blocks * (1.0 / a2), torch.zeros_like(blocks))
    mids = (DYN[:-1] + DYN[1:]) * 0.5
    idx = torch.bucketize(v, mids, right=False)
    deq = (DYN[idx] * a2 + mean).reshape(-1)[: absmax.numel()]
    return {"mean": float(mean), "codes": idx.reshape(-1)[: absmax.numel()].to(torch.uint8),
            "scales": a2.reshape(-1)}, deq


def nf_ref(W, bits, variant, B, dq, dq_block):
    table = nf_table(bits, variant)
    thr = midpoints_f64(table)
    flat = W.reshape(-1)
    N = flat.numel()
    # Zero padding does not change a block's absmax; padded codes are cut off below.
    blocks, NB = to_blocks(flat, B, 0.0)
    codes, absmax = nf_codes(blocks, thr)
    out = {"table": table, "absmax_fp": absmax}
    ahat = absmax
    if dq:
        state, ahat = double_quant_ref(absmax, dq_block)
        out["dq_mean"] = state["mean"]
        out["dq_codes"] = state["codes"]
        out["dq_scales"] = state["scales"]
    out["absmax"] = ahat
    deq = (table[codes] * ahat[:, None]).reshape(-1)[:N]
    out["codes"] = codes.reshape(-1)[:N].to(torch.uint8).reshape(W.shape)
    out["dequantized"] = deq.reshape(W.shape)
    return out


# ---------------------------------------------------------------------------------------------
# Entropy as IR-QLoRA's evaluate_entropy(), and the exact-ties fixed-point variant.

def evaluate_entropy(codes, levels):
    """codes (nb, L) -> (nb,) fp32; terms -f*log2(f) per code value, summed over codes in order."""
    L = codes.shape[-1]
    values = torch.arange(levels).reshape(levels, 1, 1)
    freqs = (codes.unsqueeze(0) == values).sum(dim=-1) / L            # (levels, nb)
    ent = -freqs * torch.log2(freqs)
    ent = torch.where(torch.isnan(ent), 0, ent)
    acc = ent[0].clone()
    for k in range(1, levels):                                         # sequential, code order
        acc = acc + ent[k]
    return acc


def fixed_entropy(codes, levels):
    L = codes.shape[-1]
    table = [0] + [int(round(c * math.log2(L / c) * 2.0 ** 40)) for c in range(1, L + 1)]
    counts = torch.stack([(codes == k).sum(-1) for k in range(levels)], 0)   # (levels, nb)
    return torch.tensor([sum(table[int(c)] for c in counts[:, b]) for b in range(codes.shape[0])],
                        dtype=torch.int64)


def entropy_compare(codes, levels, exact):
    return fixed_entropy(codes, levels) if exact else evaluate_entropy(codes, levels)


# ---------------------------------------------------------------------------------------------
# ICQ NF path (METHODS 1.3, IR-QLoRA utils.search / nf4_quant), blocks of one length at a time.

SIGMA = 1 / ppf(torch.linspace(OFFSET, 0.5, 9)[:-1].tolist()[0])


def icq_factors(n, lam):
    return np.linspace(-lam * SIGMA, lam * SIGMA, n * 2 + 1)


def icq_search(x, thr, factors, levels, exact):
    """x (nb, L) fp32 -> per block (tau0, absmax, best index, start entropy, best entropy)."""
    tau0 = x.median(1, keepdim=True)[0]
    absmax = (x - tau0).abs().max(1, keepdim=True)[0]
    best, best_idx, factor_best, start = None, None, None, None
    n = (len(factors) - 1) // 2
    for i, factor in enumerate(factors):
        tau = factor * absmax + tau0
        codes, _ = nf_codes(x - tau, thr)
        ent = entropy_compare(codes, levels, exact)
        if i == n:
            start = ent.clone()
        if best is None:
            best = ent
            factor_best = torch.full_like(absmax.squeeze(1), factor)
            best_idx = torch.zeros_like(ent, dtype=torch.int64)
        else:
            better = ent > best
            factor_best = torch.where(better, factor, factor_best)
            best_idx = torch.where(better, torch.full_like(best_idx, i), best_idx)
            best = torch.max(best, ent)
    return tau0.squeeze(1), absmax.squeeze(1), factor_best, best_idx, start, best


def icq_nf_ref(W, bits, variant, B, n, lam, S, dq, dq_block, quantize_offset, exact):
    table = nf_table(bits, variant)
    thr = midpoints_f64(table)
    levels = 2 ** bits
    factors = icq_factors(n, lam)
    flat = W.reshape(-1)
    N = flat.numel()
    nfull = N // B
    parts = [flat[: nfull * B].reshape(nfull, B)]
    if N % B:
        parts.append(flat[nfull * B:].reshape(1, -1))
    res = [icq_search(p, thr, factors, levels, exact) for p in parts]
    cat = lambda k: torch.cat([r[k] for r in res])
    tau0, spread, factor_best, choice, start, best = (cat(k) for k in range(6))
    tau = factor_best * spread + tau0
    codes_parts, absmax_parts = [], []
    off = 0
    for p in parts:
        nb = p.shape[0]
        c, a = nf_codes(p - tau[off:off + nb, None], thr)
        codes_parts.append(c.reshape(-1))
        absmax_parts.append(a)
        off += nb
    codes = torch.cat(codes_parts)
    absmax = torch.cat(absmax_parts)
    NB = absmax.numel()
    # tau storage, as nf4_quant(): tau2 = max|tau| per super-block, tau1 = argmin |tau/tau2 - dyn|.
    tb, NS = to_blocks(tau, S, 0.0)
    tau2 = tb.abs().max(dim=1, keepdim=True)[0]
    ratio = (tb / tau2).reshape(-1)[:NB]
    tau1 = torch.argmin(torch.abs(ratio.reshape(-1, 1) - DYN.reshape(1, -1)), dim=-1)
    tau1[torch.isnan(ratio)] = DYN_ZERO
    tau_hat = (DYN[tau1].reshape(-1) * tau2.repeat_interleave(S)[:NB]) if quantize_offset else tau
    out = {"table": table, "median": tau0, "spread": spread, "choice": choice, "offset": tau,
           "offset_codes": tau1.to(torch.uint8), "offset_scales": tau2.reshape(-1), "absmax_fp": absmax,
           "start_entropy": start.float() if not exact else None, "best_entropy": best.float() if not exact else None}
    ahat = absmax
    if dq:
        state, ahat = double_quant_ref(absmax, dq_block)
        out["dq_codes"] = state["codes"]
    block_of = torch.arange(N) // B
    deq = table[codes] * ahat[block_of] + tau_hat[block_of]
    out["codes"] = codes.to(torch.uint8).reshape(W.shape)
    out["dequantized"] = deq.reshape(W.shape)
    return {k: v for k, v in out.items() if v is not None}


# ---------------------------------------------------------------------------------------------
# ICQ integer path (METHODS 1.4, quantizer_icq.find_params), groups of one length at a time.

def icq_int_candidates(n, rng):
    return torch.cat([torch.ones(1), torch.linspace(1.0, 1 + rng, n + 1)[1:], torch.linspace(1.0, 1 - rng, n + 1)[1:]])


def icq_int_groups(x, bits, sym, cands, exact):
    maxq = torch.tensor(2 ** bits - 1)
    tmp = torch.zeros(x.shape[0])
    xmin = torch.minimum(x.min(1)[0], tmp)
    xmax = torch.maximum(x.max(1)[0], tmp)
    if sym:
        xmax = torch.maximum(torch.abs(xmin), xmax)
        tmp = xmin < 0
        if torch.any(tmp):
            xmin[tmp] = -xmax[tmp]
    tmp = (xmin == 0) & (xmax == 0)
    xmin[tmp] = -1
    xmax[tmp] = +1
    scale = (xmax - xmin) / maxq
    zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
    best = None
    choice = torch.zeros(x.shape[0], dtype=torch.int64)
    for i, p in enumerate(cands):
        xmin1 = p * xmin
        xmax1 = p * xmax
        scale1 = (xmax1 - xmin1) / maxq
        zero1 = torch.round(-xmin1 / scale1) if not sym else zero
        q = torch.clamp(torch.round(x / scale1.unsqueeze(1)) + zero1.unsqueeze(1), 0, maxq)
        ent = entropy_compare(q.long(), int(maxq) + 1, exact)
        if best is None:          # official: best = +inf, err = -entropy, so the first is taken
            best, scale, zero = ent, scale1.clone(), zero1.clone()
            continue
        tmp = ent > best
        choice[tmp] = i
        best = torch.where(tmp, ent, best)
        scale[tmp] = scale1[tmp]
        zero[tmp] = zero1[tmp]
    q = torch.clamp(torch.round(x / scale.unsqueeze(1)) + zero.unsqueeze(1), 0, maxq)
    return scale.unsqueeze(1) * (q - zero.unsqueeze(1)), q, scale, zero, choice


def icq_int_ref(W, bits, G, sym, n, rng, exact):
    O, I = W.shape
    G = I if G < 0 else G
    NG = -(-I // G)
    cands = icq_int_candidates(n, rng)
    deq = torch.empty_like(W)
    codes = torch.empty(O, I, dtype=torch.uint8)
    scales = torch.empty(O, NG)
    zeros = torch.empty(O, NG)
    choice = torch.empty(O, NG, dtype=torch.int64)
    full = I // G
    if full:
        x = W[:, : full * G].reshape(O * full, G)
        d, q, s, z, c = icq_int_groups(x, bits, sym, cands, exact)
        deq[:, : full * G] = d.reshape(O, full * G)
        codes[:, : full * G] = q.reshape(O, full * G).to(torch.uint8)
        scales[:, :full], zeros[:, :full], choice[:, :full] = s.reshape(O, full), z.reshape(O, full), c.reshape(O, full)
    if I % G:
        x = W[:, full * G:]
        d, q, s, z, c = icq_int_groups(x.contiguous(), bits, sym, cands, exact)
        deq[:, full * G:] = d
        codes[:, full * G:] = q.to(torch.uint8)
        scales[:, full], zeros[:, full], choice[:, full] = s, z, c
    return {"dequantized": deq, "codes": codes, "scales": scales, "zeros": zeros, "choice": choice,
            "candidates": cands}


# ---------------------------------------------------------------------------------------------
# Metrics (METHODS 5), fp64.

def groups_of(t, kind, G):
    """(num_groups, G) fp64 with NaN padding; row groups along in_features or flat blocks."""
    t = t.double()
    if kind == "row":
        O, I = t.shape
        G = I if G < 0 else G
        NG = -(-I // G)
        return F.pad(t, (0, NG * G - I), value=float("nan")).reshape(O * NG, G)
    return to_blocks(t.reshape(-1), G, float("nan"))[0]


def entropy_fp64(codes_groups, levels):
    valid = ~torch.isnan(codes_groups)
    L = valid.sum(-1).double()
    h = torch.zeros(codes_groups.shape[0], dtype=torch.float64)
    for k in range(levels):
        p = (codes_groups == k).sum(-1).double() / L
        h -= torch.where(p > 0, p * torch.log2(p), torch.zeros_like(p))
    return h


def metrics_ref(W, deq, codes, bits, kind, G, X=None):
    Wd, Qd = W.double(), deq.double()
    D = Wd - Qd
    rel = float(D.norm() / Wd.norm())
    gw, ge = groups_of(W, kind, G), groups_of(W.double() - deq.double(), kind, G)
    gw2 = torch.nansum(gw * gw, -1)
    ge2 = torch.nansum(ge * ge, -1)
    # A group of zeros: 0 when it stays zero, +inf otherwise (as the C++ metrics define it).
    group_rel = torch.where(gw2 > 0, torch.sqrt(ge2 / gw2),
                            torch.where(ge2 == 0, torch.zeros_like(ge2), torch.full_like(ge2, float("inf"))))
    levels = 2 ** bits
    ent = entropy_fp64(groups_of(codes.to(torch.float64), kind, G), levels)
    hist = torch.bincount(codes.reshape(-1).long(), minlength=levels)
    p = hist.double() / hist.sum()
    pooled = float(-(torch.where(p > 0, p * torch.log2(p), torch.zeros_like(p))).sum())
    sv = torch.linalg.svdvals(D)
    e = sv * sv
    energy = {str(r): float(e[:r].sum() / e.sum()) for r in [1, 2, 4, 8, 16, 32, 64, 128]}
    out = {"rel_error": rel, "sqnr_db": -20 * math.log10(rel), "max_abs_error": float(D.abs().max()),
           "group_rel_error": enc(group_rel.float()), "group_entropy": enc(ent.float()),
           "mean_group_entropy": float(ent.mean()), "pooled_entropy": pooled, "code_histogram": hist.tolist(),
           "singular_values": sv[:8].tolist(), "energy_at_rank": energy}
    if X is not None:
        Xd = X.double()
        out["output_rel_error"] = float((Xd @ D.t()).norm() / (Xd @ Wd.t()).norm())
    return out


# ---------------------------------------------------------------------------------------------
# Inputs

def rtn_input():
    g = torch.Generator().manual_seed(1234)
    W = torch.randn(6, 172, generator=g) * 0.02
    W[1, 70] = 0.5                                        # one outlier in row 1, group 1
    W[2] = torch.rand(172, generator=g) * 0.04 + 0.01     # all positive: OmniQuant and GPTQ differ
    W[3, :64] = 0.03                                      # an all-equal group
    W[4] = torch.randn(172, generator=g)                  # a wider row
    W[5, :64] = 0.0                                       # an all-zero group
    return W


def nf_input():
    g = torch.Generator().manual_seed(99)
    W = torch.randn(8, 172, generator=g) * 0.05
    W[0, :64] = 0.02                                      # constant block (NF: absmax only)
    W[3, 10] = 1.0                                        # outlier block
    return W


def read_stories_linear(path, which):
    """Raw llama2.c stories260K.bin tensors (no HF permutation): wq of layer 0 or w1 of layer 0."""
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = struct.unpack("<7i", data[:28])
    head = dim // n_heads
    kv_dim = n_kv * head
    sizes = [("tok", vocab * dim), ("rms_att", n_layers * dim), ("wq", n_layers * dim * dim),
             ("wk", n_layers * kv_dim * dim), ("wv", n_layers * kv_dim * dim), ("wo", n_layers * dim * dim),
             ("rms_ffn", n_layers * dim), ("w1", n_layers * hidden * dim)]
    off = 28
    for name, n in sizes:
        if name == which:
            shape = (dim, dim) if which == "wq" else (hidden, dim)
            count = shape[0] * shape[1]
            return torch.tensor(np.frombuffer(data, dtype="<f4", count=count, offset=off).copy()).reshape(shape)
        off += 4 * n
    raise KeyError(which)


def main():
    fx = {"generator": "tests/reference/quant_reference.py", "torch": torch.__version__}
    fx["nf_tables"] = {f"{v}{b}": enc(nf_table(b, v)) for v in ("bnb", "sym") for b in (2, 3, 4)}
    fx["nf_thresholds"] = {f"{v}{b}": enc(midpoints_f64(nf_table(b, v))) for v in ("bnb", "sym") for b in (2, 3, 4)}
    fx["nf4_construction"] = enc(create_normal_map_bits(4))
    fx["dynamic_map"] = enc(DYN)
    fx["sigma"] = SIGMA
    fx["icq_candidates_n100"] = enc(torch.tensor(icq_factors(100, 0.1), dtype=torch.float32))
    fx["icq_int_candidates"] = enc(icq_int_candidates(50, 0.1))
    fx["entropy_terms_64"] = enc(torch.where(torch.arange(65) == 0, torch.zeros(65),
                                             -(torch.arange(65) / 64) * torch.log2(torch.arange(65) / 64)))

    W = rtn_input()
    fx["rtn_input"] = enc(W)
    cases = []
    combos = [(v, b, 64) for v in ("omniquant", "gptq") for b in (2, 3, 4, 8)]
    combos += [(v, b, 64) for v in ("gptq-sym", "omniquant-sym") for b in (2, 4)]
    combos += [("omniquant", 2, 32), ("omniquant", 2, 128), ("omniquant", 2, -1), ("gptq", 3, -1)]
    for v, b, G in combos:
        r = rtn_ref(W, b, G, v)
        cases.append({"variant": v, "bits": b, "group": G, **{k: enc(t) for k, t in r.items()}})
    fx["rtn"] = cases

    Wn = nf_input()
    fx["nf_input"] = enc(Wn)
    cases = []
    for v in ("bnb", "sym"):
        for b in (2, 3, 4):
            for dq in ((False, True) if b == (4 if v == "bnb" else 2) else (False,)):
                r = nf_ref(Wn, b, v, 64, dq, 8)
                case = {"variant": v, "bits": b, "block": 64, "double_quant": dq, "dq_block": 8}
                for k, t in r.items():
                    case[k] = t if isinstance(t, float) else enc(t)
                cases.append(case)
    fx["nf"] = cases

    cases = []
    icq_combos = [dict(bits=b, variant="bnb", dq=False, qoff=True, exact=False) for b in (2, 3, 4)]
    icq_combos += [dict(bits=4, variant="bnb", dq=True, qoff=True, exact=False),
                   dict(bits=4, variant="bnb", dq=False, qoff=True, exact=True),
                   dict(bits=3, variant="sym", dq=False, qoff=True, exact=False),
                   dict(bits=4, variant="bnb", dq=False, qoff=False, exact=False)]
    for c in icq_combos:
        r = icq_nf_ref(Wn, c["bits"], c["variant"], 64, 100, 0.1, 4, c["dq"], 8, c["qoff"], c["exact"])
        case = {"variant": c["variant"], "bits": c["bits"], "block": 64, "n": 100, "lambda": 0.1, "superblock": 4,
                "double_quant": c["dq"], "dq_block": 8, "quantize_offset": c["qoff"],
                "entropy": "exact" if c["exact"] else "float32"}
        case.update({k: enc(t) for k, t in r.items()})
        cases.append(case)
    fx["icq_nf"] = cases

    # Real weights: stories260K layer-0 wq and w1 as stored in the llama2.c file.
    stories = os.path.join(SHARED, "stories260K", "stories260K.bin")
    real = []
    for which in ("wq", "w1"):
        Wr = read_stories_linear(stories, which)
        for b in (2, 4):
            r = icq_nf_ref(Wr, b, "bnb", 64, 100, 0.1, 256, False, 256, True, False)
            plain = nf_ref(Wr, b, "bnb", 64, False, 256)
            ent_plain = entropy_fp64(groups_of(plain["codes"].double(), "flat", 64), 2 ** b)
            ent_icq = entropy_fp64(groups_of(r["codes"].double(), "flat", 64), 2 ** b)
            real.append({"tensor": which, "bits": b, "codes": enc(r["codes"]), "choice": enc(r["choice"]),
                         "offset_codes": enc(r["offset_codes"]), "offset_scales": enc(r["offset_scales"]),
                         "absmax_fp": enc(r["absmax_fp"]),
                         "blocks_losing_vs_plain": float((ent_icq < ent_plain).double().mean()),
                         "blocks_below_start": int((r["best_entropy"] < r["start_entropy"]).sum())})
    fx["icq_nf_stories"] = real

    cases = []
    int_combos = [(b, sym, 64, False) for b in (2, 3, 4) for sym in (False, True)]
    int_combos += [(2, False, -1, False), (2, False, 64, True), (8, False, 64, False)]
    for b, sym, G, exact in int_combos:
        r = icq_int_ref(W, b, G, sym, 50, 0.1, exact)
        cases.append({"bits": b, "variant": "gptq-sym" if sym else "gptq", "group": G,
                      "entropy": "exact" if exact else "float32", **{k: enc(t) for k, t in r.items()}})
    fx["icq_int"] = cases

    g = torch.Generator().manual_seed(7)
    X = torch.randn(16, 172, generator=g)
    fx["calib_x"] = enc(X)
    m = []
    r = rtn_ref(W, 2, 64, "omniquant")
    m.append({"case": "rtn2_g64", **metrics_ref(W, r["dequantized"], r["codes"], 2, "row", 64, X)})
    r = nf_ref(Wn, 4, "bnb", 64, False, 256)
    m.append({"case": "nf4", **metrics_ref(Wn, r["dequantized"], r["codes"], 4, "flat", 64, X)})
    r = icq_nf_ref(Wn, 2, "bnb", 64, 100, 0.1, 4, False, 8, True, False)
    plain = nf_ref(Wn, 2, "bnb", 64, False, 256)
    ent_plain = entropy_fp64(groups_of(plain["codes"].double(), "flat", 64), 4)
    mr = metrics_ref(Wn, r["dequantized"], r["codes"], 2, "flat", 64, X)
    ent_icq = entropy_fp64(groups_of(r["codes"].double(), "flat", 64), 4)
    mr["icq_gain_vs_plain"] = float((ent_icq - ent_plain).mean())
    mr["icq_blocks_losing_vs_plain"] = float((ent_icq < ent_plain).double().mean())
    m.append({"case": "icq_nf2", **mr})
    fx["metrics"] = m

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
