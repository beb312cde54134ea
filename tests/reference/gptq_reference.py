#!/usr/bin/python3
"""Independent PyTorch reference for core/quant/gptq.* (tests/test_quant_gptq.cpp).

Written from the IST-DASLab GPTQ sources as they behave (gptq.py GPTQ.add_batch / fasterquant,
quant.py Quantizer.find_params / quantize, llama.py llama_sequential), in their whole-tensor
PyTorch style, plus GPTQModel's retry on a failed Cholesky (damp_percent += damp_auto_increment
until it succeeds). Nothing here is shared with the C++ code.

Behaviour reproduced on purpose, quirks included:
  * Hessian as a running average over batches: H *= n/(n+b); x *= sqrt(2/(n+b)); H += x x^T.
  * The per-channel quantizer is fit on the weight *before* dead columns are zeroed.
  * Dead columns (diag(H) == 0): H_ii = 1, W[:, i] = 0.
  * Static groups are fit after the dead columns are zeroed, on the original column order.
  * Act-order: columns sorted by diag(H) descending (torch.argsort, as gptq.py), undone at the end.
  * Dynamic groups are refit at every group start from W[:, start:start+groupsize], i.e. from the
    weights as updated by the blocks *before* the current one: the in-block updates of the current
    block live in the clone W1 and are not seen (gptq.py, AutoGPTQ and GPTQModel all do this).
  * Losses = (w - q)^2 / d^2 / 2 summed: the "error" gptq.py prints.
  * true-sequential order per layer [k, v, q] -> [o] -> [up, gate] -> [down]; every window goes
    through the layer one at a time (batch 1), so every add_batch has b = 1; after the last
    group the layer's outputs are recomputed with all its quantized weights.

The Llama layer is written HF style with the arithmetic of our forward where rounding matters
(attention logits as baddbmm(mask, q, k^T, alpha = 1/sqrt(HD)) in one block for T <= 128,
fp32 RoPE tables from `theta ** (arange(0, HD, 2) / HD)`), so the quantized weights can be
compared to 1e-5 (a one-ulp difference in a layer input can flip one rounding decision and
GPTQ's error feedback then carries it along the row).

Outputs (tests/data/gptq/):
  linear_cases.safetensors   per-linear cases: W, the calibration batches, and per case the
                             expected dequantized Q, codes, scales, zeros, g_idx, the Hessian
  model_cases.safetensors    a random 2-layer Llama (its FP weights and calibration ids) and
                             stories260K (calibration ids from the first half of
                             tinystories_val.txt): codes / scales / zeros / g_idx per linear
  cases.json                 the options of every case and the scalar results (loss, damping used,
                             retries, dead columns)

Run: /usr/bin/python3 tests/reference/gptq_reference.py   (torch 1.13, numpy, sentencepiece)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_safetensors_fixture import write_safetensors  # noqa: E402
from llama_reference import read_llama2c, llama2c_to_hf  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "gptq"))
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))


# ---------------------------------------------------------------------------------------------
# quant.py: the min/max quantizer (perchannel=True, weight=True)

def quantize(x, scale, zero, maxq):
    q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
    return scale * (q - zero)


def codes_of(x, scale, zero, maxq):
    return torch.clamp(torch.round(x / scale) + zero, 0, maxq)


class MinMaxQuantizer:
    def __init__(self, bits, sym, mse=False, norm=2.4, grid=100, maxshrink=0.8):
        self.maxq = torch.tensor(2 ** bits - 1)
        self.sym, self.mse, self.norm, self.grid, self.maxshrink = sym, mse, norm, grid, maxshrink
        self.scale = self.zero = None

    def find_params(self, x):
        tmp = torch.zeros(x.shape[0])
        xmin = torch.minimum(x.min(1)[0], tmp)
        xmax = torch.maximum(x.max(1)[0], tmp)
        if self.sym:
            xmax = torch.maximum(torch.abs(xmin), xmax)
            tmp = xmin < 0
            if torch.any(tmp):
                xmin[tmp] = -xmax[tmp]
        tmp = (xmin == 0) & (xmax == 0)
        xmin[tmp] = -1
        xmax[tmp] = +1
        self.scale = (xmax - xmin) / self.maxq
        if self.sym:
            self.zero = torch.full_like(self.scale, (self.maxq + 1) / 2)
        else:
            self.zero = torch.round(-xmin / self.scale)
        if self.mse:
            best = torch.full([x.shape[0]], float("inf"))
            for i in range(int(self.maxshrink * self.grid)):
                p = 1 - i / self.grid
                xmin1 = p * xmin
                xmax1 = p * xmax
                scale1 = (xmax1 - xmin1) / self.maxq
                zero1 = torch.round(-xmin1 / scale1) if not self.sym else self.zero
                q = quantize(x, scale1.unsqueeze(1), zero1.unsqueeze(1), self.maxq)
                q -= x
                q.abs_()
                q.pow_(self.norm)
                err = torch.sum(q, 1)
                tmp = err < best
                if torch.any(tmp):
                    best[tmp] = err[tmp]
                    self.scale[tmp] = scale1[tmp]
                    self.zero[tmp] = zero1[tmp]
        self.scale = self.scale.reshape(-1, 1)
        self.zero = self.zero.reshape(-1, 1)
        return self


# ---------------------------------------------------------------------------------------------
# gptq.py: Hessian and fasterquant

class Hessian:
    def __init__(self, columns):
        self.H = torch.zeros((columns, columns))
        self.nsamples = 0

    def add_batch(self, inp):
        if len(inp.shape) == 2:
            inp = inp.unsqueeze(0)
        tmp = inp.shape[0]
        inp = inp.reshape((-1, inp.shape[-1])).t()
        self.H *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        inp = math.sqrt(2 / self.nsamples) * inp.float()
        self.H += inp.matmul(inp.t())


def inverse_cholesky(H, percdamp, increment):
    """GPTQModel: raise the damping until both Cholesky factorizations succeed."""
    retries = 0
    while percdamp < 1:
        H2 = H.clone()
        damp = percdamp * torch.mean(torch.diag(H2))
        diag = torch.arange(H2.shape[0])
        H2[diag, diag] += damp
        L, info = torch.linalg.cholesky_ex(H2)
        if info == 0:
            U, info = torch.linalg.cholesky_ex(torch.cholesky_inverse(L), upper=True)
            if info == 0:
                return U, percdamp, retries
        percdamp += increment
        retries += 1
    raise RuntimeError("no damping below 1 makes H positive definite")


def fasterquant(W, H, bits, groupsize=-1, sym=False, blocksize=128, percdamp=0.01, actorder=False,
                static_groups=False, mse=False, damp_increment=0.0025):
    W = W.clone().float()
    H = H.clone()
    rows, columns = W.shape
    quantizer = MinMaxQuantizer(bits, sym, mse).find_params(W)
    maxq = quantizer.maxq

    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0

    groups = []
    if static_groups:
        for i in range(0, columns, groupsize):
            groups.append(MinMaxQuantizer(bits, sym, mse).find_params(W[:, i:(i + groupsize)]))

    perm = torch.arange(columns)
    if actorder:
        perm = torch.argsort(torch.diag(H), descending=True)
        W = W[:, perm]
        H = H[perm][:, perm]
    invperm = torch.argsort(perm)

    Losses = torch.zeros_like(W)
    Q = torch.zeros_like(W)
    codes = torch.zeros_like(W)
    Hinv, damp_used, retries = inverse_cholesky(H, percdamp, damp_increment)

    scales, zeros = [], []  # one (rows, 1) pair per group, in the order they are used
    group_of_position = torch.zeros(columns, dtype=torch.int64)
    if groupsize == -1:
        scales.append(quantizer.scale)
        zeros.append(quantizer.zero)
    elif static_groups:
        scales = [g.scale for g in groups]
        zeros = [g.zero for g in groups]

    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        C1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Losses1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            if groupsize != -1:
                if not static_groups:
                    if (i1 + i) % groupsize == 0:
                        quantizer = MinMaxQuantizer(bits, sym, mse).find_params(W[:, (i1 + i):(i1 + i + groupsize)])
                        scales.append(quantizer.scale)
                        zeros.append(quantizer.zero)
                    group_of_position[i1 + i] = len(scales) - 1
                else:
                    idx = i1 + i
                    if actorder:
                        idx = perm[idx]
                    quantizer = groups[idx // groupsize]
                    group_of_position[i1 + i] = idx // groupsize
            q = quantize(w.unsqueeze(1), quantizer.scale, quantizer.zero, maxq).flatten()
            C1[:, i] = codes_of(w.unsqueeze(1), quantizer.scale, quantizer.zero, maxq).flatten()
            Q1[:, i] = q
            Losses1[:, i] = (w - q) ** 2 / d ** 2
            err1 = (w - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        Q[:, i1:i2] = Q1
        codes[:, i1:i2] = C1
        Losses[:, i1:i2] = Losses1 / 2
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])

    loss = torch.sum(Losses).item()
    Q = Q[:, invperm]
    codes = codes[:, invperm]
    g_idx = group_of_position[invperm]
    return {
        "Q": Q.contiguous(),
        "codes": codes.to(torch.uint8).contiguous(),
        "scales": torch.cat(scales, 1).contiguous(),
        "zeros": torch.cat(zeros, 1).contiguous(),
        "g_idx": g_idx.contiguous(),
        "loss": loss,
        "damp_used": damp_used,
        "retries": retries,
        "dead": int(dead.sum().item()),
    }


# ---------------------------------------------------------------------------------------------
# llama.py: one decoder layer (HF modeling_llama) and the sequential loop

def rms_norm(x, weight, eps):
    x32 = x.to(torch.float32)
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(x.dtype)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope_tables(cfg, seq):
    hd = cfg["head_dim"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.outer(torch.arange(seq, dtype=torch.int64).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
TRUE_SEQUENTIAL = [["self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"], ["self_attn.o_proj"],
                   ["mlp.up_proj", "mlp.gate_proj"], ["mlp.down_proj"]]


def decoder_layer(lw, cfg, h, hook=None):
    """lw: {"input_layernorm", ..., "self_attn.q_proj", ...} -> weights; h: (1, T, C)."""
    nh, nkv, hd, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    b, t, _ = h.shape
    assert t <= 128, "one attention block (the C++ forward splits queries in blocks of 128)"

    def linear(name, x):
        if hook:
            hook(name, x)
        return F.linear(x, lw[name])

    cos, sin = rope_tables(cfg, t)
    x = rms_norm(h, lw["input_layernorm"], eps)
    q = linear("self_attn.q_proj", x).view(b, t, nh, hd).transpose(1, 2)
    k = linear("self_attn.k_proj", x).view(b, t, nkv, hd).transpose(1, 2)
    v = linear("self_attn.v_proj", x).view(b, t, nkv, hd).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    rep = nh // nkv
    k = k[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    v = v[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    mask = torch.full((t, t), float("-inf")).triu(1)
    scores = torch.baddbmm(mask, q.reshape(b * nh, t, hd), k.reshape(b * nh, t, hd).transpose(1, 2),
                           beta=1.0, alpha=1.0 / math.sqrt(hd))
    probs = torch.softmax(scores, -1, dtype=torch.float32)
    attn = torch.bmm(probs, v.reshape(b * nh, t, hd)).view(b, nh, t, hd).transpose(1, 2).reshape(b, t, nh * hd)
    h = h + linear("self_attn.o_proj", attn)
    x = rms_norm(h, lw["post_attention_layernorm"], eps)
    h = h + linear("mlp.down_proj", F.silu(linear("mlp.gate_proj", x)) * linear("mlp.up_proj", x))
    return h


def llama_sequential(state, cfg, windows, opts):
    """GPTQ of every projection, layer by layer, true-sequential. Returns {name: fasterquant result}."""
    state = {k: v.clone() for k, v in state.items()}
    inps = [F.embedding(windows[j:j + 1], state["model.embed_tokens.weight"]) for j in range(windows.shape[0])]
    results = {}
    for i in range(cfg["num_hidden_layers"]):
        prefix = f"model.layers.{i}."
        lw = {n: state[prefix + n + ".weight"] for n in PROJECTIONS + ["input_layernorm", "post_attention_layernorm"]}
        for names in TRUE_SEQUENTIAL:
            hessians = {n: Hessian(lw[n].shape[1]) for n in names}

            def hook(name, x):
                if name in hessians:
                    hessians[name].add_batch(x.data)

            for inp in inps:
                decoder_layer(lw, cfg, inp, hook)
            for n in names:
                r = fasterquant(lw[n], hessians[n].H, **opts)
                r["hessian"] = hessians[n].H
                results[f"layers.{i}.{n}"] = r
                lw[n] = r["Q"]
                state[prefix + n + ".weight"] = r["Q"]
        inps = [decoder_layer(lw, cfg, inp) for inp in inps]
    return results


# ---------------------------------------------------------------------------------------------
# cases

def f32(t):
    return ("F32", list(t.shape), t.detach().contiguous().numpy().astype(np.float32))


def u8(t):
    return ("U8", list(t.shape), t.detach().contiguous().numpy().astype(np.uint8))


def i64(t):
    return ("I64", list(t.shape), t.detach().contiguous().numpy().astype(np.int64))


def add(entries, name, packed):
    entries.append((name, packed[0], packed[1], packed[2]))


def result_entries(entries, prefix, r, with_q=True, with_hessian=False):
    if with_q:
        add(entries, prefix + ".Q", f32(r["Q"]))
    add(entries, prefix + ".codes", u8(r["codes"]))
    add(entries, prefix + ".scales", f32(r["scales"]))
    add(entries, prefix + ".zeros", f32(r["zeros"]))
    add(entries, prefix + ".g_idx", i64(r["g_idx"]))
    if with_hessian:
        add(entries, prefix + ".H", f32(r["hessian"]))


def scalars(r):
    return {"loss": r["loss"], "damp_used": r["damp_used"], "retries": r["retries"], "dead_columns": r["dead"]}


def linear_cases(entries, meta):
    g = torch.Generator().manual_seed(1234)
    rows, cols = 32, 160  # blocks 128 + 32; groups of 64: 64, 64, 32 (a partial last group)
    W = torch.randn(rows, cols, generator=g) * 0.02
    W[:, 3] *= 8.0  # outlier columns, so act-order and groups matter
    W[:, 100] *= 5.0
    # Calibration batches (b, T, I) with uneven batch sizes: the running average sees b = 1, 2, 1.
    # Columns 7 and 140 are always 0: dead columns.
    feature_scale = 0.5 + torch.rand(cols, generator=g) * 2.0
    batches = [torch.randn(1, 64, cols, generator=g), torch.randn(2, 32, cols, generator=g),
               torch.randn(1, 48, cols, generator=g)]
    batches = [b * feature_scale for b in batches]
    for b in batches:
        b[..., 7] = 0.0
        b[..., 140] = 0.0
    hess = Hessian(cols)
    for b in batches:
        hess.add_batch(b)
    add(entries, "linear.W", f32(W))
    for k, b in enumerate(batches):
        add(entries, f"linear.x{k}", f32(b))
    add(entries, "linear.H", f32(hess.H))
    meta["linear"] = {"rows": rows, "cols": cols, "batches": len(batches), "samples": hess.nsamples, "cases": {}}

    cases = {
        "w2_g64": dict(bits=2, groupsize=64),
        "w3_perchannel_sym": dict(bits=3, groupsize=-1, sym=True),
        "w4_g64_actorder": dict(bits=4, groupsize=64, actorder=True),
        "w2_g64_actorder_static": dict(bits=2, groupsize=64, actorder=True, static_groups=True),
        "w3_g32_mse": dict(bits=3, groupsize=32, mse=True),
        "w8_g128_block64": dict(bits=8, groupsize=128, blocksize=64),
        "w2_g64_sym_static": dict(bits=2, groupsize=64, sym=True, static_groups=True),
    }
    for name, opts in cases.items():
        r = fasterquant(W, hess.H, **opts)
        result_entries(entries, "linear." + name, r)
        meta["linear"]["cases"][name] = {"options": opts, **scalars(r)}

    # A Hessian that 1 % damping cannot make positive definite: eigenvalues with the smallest
    # at -1.37 % of their mean, so 1 % and 1.25 % fail and 1.5 % succeeds (two retries).
    n = 48
    Wr = torch.randn(16, n, generator=g) * 0.02
    Qm, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    lam = torch.linspace(0.5, 2.0, n, dtype=torch.float64)
    lam[0] = 0.0
    lam[0] = -0.0137 * lam.sum() / (n - 1 + 0.0137)  # mean(lam) includes lam[0] itself
    Hr = ((Qm * lam) @ Qm.T).float()
    Hr = (Hr + Hr.T) / 2
    r = fasterquant(Wr, Hr, bits=4, groupsize=-1)
    add(entries, "retry.W", f32(Wr))
    add(entries, "retry.H", f32(Hr))
    result_entries(entries, "retry.w4", r)
    meta["retry"] = {"rows": 16, "cols": n, "options": {"bits": 4, "groupsize": -1}, **scalars(r)}


def random_model_case(entries, meta):
    cfg = dict(hidden_size=32, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, head_dim=8, vocab_size=64, rms_norm_eps=1e-5, rope_theta=10000.0,
               max_position_embeddings=64)
    g = torch.Generator().manual_seed(99)
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    state = {"model.embed_tokens.weight": torch.randn(v, c, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        state[p + "input_layernorm.weight"] = 1.0 + 0.2 * torch.randn(c, generator=g)
        state[p + "post_attention_layernorm.weight"] = 1.0 + 0.2 * torch.randn(c, generator=g)
        for n, shape in [("self_attn.q_proj", (32, c)), ("self_attn.k_proj", (16, c)), ("self_attn.v_proj", (16, c)),
                         ("self_attn.o_proj", (c, 32)), ("mlp.gate_proj", (f, c)), ("mlp.up_proj", (f, c)),
                         ("mlp.down_proj", (c, f))]:
            state[p + n + ".weight"] = torch.randn(*shape, generator=g) * 0.1
    state["model.norm.weight"] = 1.0 + 0.2 * torch.randn(c, generator=g)
    state["lm_head.weight"] = torch.randn(v, c, generator=g) * 0.1
    windows = torch.randint(0, v, (6, 32), generator=g)
    opts = dict(bits=3, groupsize=32, actorder=True)
    results = llama_sequential(state, cfg, windows, opts)
    for k in sorted(state):
        add(entries, "random.fp." + k, f32(state[k]))
    add(entries, "random.windows", i64(windows))
    meta["random"] = {"config": cfg, "options": opts, "linears": {}}
    for name, r in results.items():
        result_entries(entries, "random." + name, r, with_q=False, with_hessian=True)
        meta["random"]["linears"][name] = scalars(r)


def stories_case(entries, meta):
    import sentencepiece as spm
    model_path = os.path.join(SHARED, "stories260K", "stories260K.bin")
    cfg, wts = read_llama2c(model_path)
    state = llama2c_to_hf(cfg, wts)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "stories260K", "tok512.model"))
    text = open(os.path.join(SHARED, "tinystories", "tinystories_val.txt"), encoding="utf-8").read()
    half = text[: len(text) // 2]
    ids = [sp.bos_id()] + sp.encode(half)
    # 8 windows of 128 tokens at evenly spaced offsets of the first half (the C++ test reads the
    # ids from here; how windows are drawn is core/data's business, not GPTQ's).
    T, N = 128, 8
    step = (len(ids) - T) // N
    windows = torch.tensor([ids[k * step:k * step + T] for k in range(N)], dtype=torch.int64)
    opts = dict(bits=2, groupsize=64)
    results = llama_sequential(state, cfg, windows, opts)
    add(entries, "stories.windows", i64(windows))
    meta["stories"] = {"options": opts, "linears": {}}
    for name, r in results.items():
        result_entries(entries, "stories." + name, r, with_q=False)
        meta["stories"]["linears"][name] = scalars(r)


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "tests/reference/gptq_reference.py", "torch": torch.__version__}
    entries = []
    linear_cases(entries, meta)
    write_safetensors(os.path.join(OUT, "linear_cases.safetensors"), entries, {"format": "gptq-reference"})
    entries = []
    random_model_case(entries, meta)
    stories_case(entries, meta)
    write_safetensors(os.path.join(OUT, "model_cases.safetensors"), entries, {"format": "gptq-reference"})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
