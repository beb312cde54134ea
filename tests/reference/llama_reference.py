#!/usr/bin/python3
"""Independent reference logits for tests/test_model_reference.cpp.

Written from the HF `modeling_llama.py` / llama2.c `run.c` semantics, not from our C++:
  * a PyTorch forward in HF style (RMSNorm computed in fp32, rotate-half RoPE with the
    Llama-3.1 "llama3" frequency scaling, repeat_kv for grouped-query attention, SwiGLU);
  * a llama2.c-style numpy forward (interleaved-pair RoPE on the *unpermuted* weights), used to
    check that the q/k permutation of HF's convert_llama_weights_to_hf.py is right;
  * a loop-by-loop numpy forward for a hand-sized model (2 layers, dim 8).

Outputs (small, committed):
  tests/data/hf_llama2_mha/          Llama-2 shape: MHA, theta 1e4, untied, fp32
  tests/data/hf_llama3_gqa_tied/     Llama-3 shape: 4 heads / 2 kv heads, theta 5e5, llama3 scaling, tied, bf16
  tests/data/hf_llama3_gqa_sharded/  Llama-3 shape: 8 heads / 2 kv heads, head_dim 16 != C/NH, untied,
                                     fp32, stored as two shards + model.safetensors.index.json
  tests/data/hf_hand_tiny/           2 layers, dim 8, hand-chosen weights
  tests/data/reference_logits.safetensors   "<model>.input_ids" (B, T) int64 and "<model>.logits" (B, T, V) fp32

Run: /usr/bin/python3 tests/reference/llama_reference.py   (torch 1.13, numpy; a few seconds)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_safetensors_fixture import float32_to_bf16_bits, bf16_bits_to_float32, write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "data"))
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))


# ---------------------------------------------------------------------------------------------
# HF-style PyTorch forward


def inv_frequencies(cfg):
    head_dim = cfg["head_dim"]
    base = torch.tensor(cfg["rope_theta"], dtype=torch.float64)
    inv_freq = (1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)).float()
    scaling = cfg.get("rope_scaling")
    if scaling and scaling["rope_type"] == "llama3":
        # Llama-3.1: wavelengths longer than original_len / low_freq_factor are slowed down by
        # `factor`, shorter than original_len / high_freq_factor are kept, the band in between is
        # a linear blend in (original_len / wavelength).
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        original = scaling["original_max_position_embeddings"]
        scaled = []
        for f in inv_freq.tolist():
            wavelength = 2.0 * math.pi / f
            if wavelength < original / high:
                scaled.append(f)
            elif wavelength > original / low:
                scaled.append(f / factor)
            else:
                blend = (original / wavelength - low) / (high - low)
                scaled.append((1.0 - blend) * f / factor + blend * f)
        inv_freq = torch.tensor(scaled, dtype=torch.float32)
    return inv_freq


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def repeat_kv(x, times):
    # (B, NKV, T, HD) -> (B, NKV * times, T, HD): kv head j serves query heads j*times .. j*times+times-1
    return x.repeat_interleave(times, dim=1)


def rms_norm(x, weight, eps):
    x32 = x.to(torch.float32)
    x32 = x32 / torch.sqrt(x32.pow(2).mean(dim=-1, keepdim=True) + eps)
    return weight * x32.to(x.dtype)


def hf_forward(state, cfg, ids):
    """state: dict of HF-named fp32 tensors; ids: (B, T) int64 -> logits (B, T, V) fp32."""
    n_heads, n_kv, head_dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    batch, seq = ids.shape
    angles = torch.arange(seq, dtype=torch.float32)[:, None] * inv_frequencies(cfg)[None, :]
    angles = torch.cat((angles, angles), dim=-1)              # (T, HD)
    cos, sin = angles.cos(), angles.sin()
    causal = torch.full((seq, seq), float("-inf")).triu(1)

    h = state["model.embed_tokens.weight"][ids]              # (B, T, C)
    for layer in range(cfg["num_hidden_layers"]):
        w = lambda name: state[f"model.layers.{layer}.{name}.weight"]  # noqa: E731
        x = rms_norm(h, w("input_layernorm"), eps)
        q = (x @ w("self_attn.q_proj").T).view(batch, seq, n_heads, head_dim).transpose(1, 2)
        k = (x @ w("self_attn.k_proj").T).view(batch, seq, n_kv, head_dim).transpose(1, 2)
        v = (x @ w("self_attn.v_proj").T).view(batch, seq, n_kv, head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, n_heads // n_kv), repeat_kv(v, n_heads // n_kv)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim) + causal, dim=-1)
        attn = (weights @ v).transpose(1, 2).reshape(batch, seq, n_heads * head_dim)
        h = h + attn @ w("self_attn.o_proj").T
        x = rms_norm(h, w("post_attention_layernorm"), eps)
        gate = torch.nn.functional.silu(x @ w("mlp.gate_proj").T)
        h = h + (gate * (x @ w("mlp.up_proj").T)) @ w("mlp.down_proj").T
    h = rms_norm(h, state["model.norm.weight"], eps)
    head = state["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else state["lm_head.weight"]
    return h @ head.T


# ---------------------------------------------------------------------------------------------
# stories260K: llama2.c file read with numpy, converted with HF's permute


def hf_permute(w, n_heads, dim1, dim2):
    # convert_llama_weights_to_hf.py
    return w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def read_llama2c(path):
    raw = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack("<7i", raw[:28])
    floats = np.frombuffer(raw, dtype="<f4", offset=28)
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // n_heads
    kv_dim = n_kv * head
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = floats[pos:pos + n].reshape(shape).copy()
        pos += n
        return out

    weights = {
        "tok": take(vocab, dim), "rms_att": take(n_layers, dim), "wq": take(n_layers, dim, dim),
        "wk": take(n_layers, kv_dim, dim), "wv": take(n_layers, kv_dim, dim), "wo": take(n_layers, dim, dim),
        "rms_ffn": take(n_layers, dim), "w1": take(n_layers, hidden, dim), "w2": take(n_layers, dim, hidden),
        "w3": take(n_layers, hidden, dim), "rms_final": take(dim),
    }
    pos += 2 * seq_len * head // 2
    weights["wcls"] = weights["tok"] if shared else take(vocab, dim)
    assert pos == floats.size, "file size does not match the header"
    cfg = dict(hidden_size=dim, intermediate_size=hidden, num_hidden_layers=n_layers, num_attention_heads=n_heads,
               num_key_value_heads=n_kv, head_dim=head, vocab_size=vocab, rms_norm_eps=1e-5, rope_theta=10000.0,
               rope_scaling=None, max_position_embeddings=seq_len, tie_word_embeddings=shared)
    return cfg, weights


def llama2c_to_hf(cfg, wts):
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    dim, kv_dim = cfg["hidden_size"], cfg["num_key_value_heads"] * cfg["head_dim"]
    state = {"model.embed_tokens.weight": t(wts["tok"]), "model.norm.weight": t(wts["rms_final"])}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        state[p + "input_layernorm.weight"] = t(wts["rms_att"][i])
        state[p + "post_attention_layernorm.weight"] = t(wts["rms_ffn"][i])
        state[p + "self_attn.q_proj.weight"] = hf_permute(t(wts["wq"][i]), cfg["num_attention_heads"], dim, dim)
        state[p + "self_attn.k_proj.weight"] = hf_permute(t(wts["wk"][i]), cfg["num_key_value_heads"], kv_dim, dim)
        state[p + "self_attn.v_proj.weight"] = t(wts["wv"][i])
        state[p + "self_attn.o_proj.weight"] = t(wts["wo"][i])
        state[p + "mlp.gate_proj.weight"] = t(wts["w1"][i])
        state[p + "mlp.down_proj.weight"] = t(wts["w2"][i])
        state[p + "mlp.up_proj.weight"] = t(wts["w3"][i])
    if not cfg["tie_word_embeddings"]:
        state["lm_head.weight"] = t(wts["wcls"])
    return state


def llama2c_forward_numpy(cfg, wts, tokens):
    """run.c semantics on the raw file weights: RoPE rotates interleaved pairs (2i, 2i+1)."""
    dim, head, n_heads, n_kv = cfg["hidden_size"], cfg["head_dim"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    eps = cfg["rms_norm_eps"]
    seq = len(tokens)
    x = wts["tok"][tokens].astype(np.float64)                # (T, C)

    def rmsnorm(v, w):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * w

    freq = 1.0 / 10000.0 ** (np.arange(0, head, 2) / head)    # (HD/2)
    angle = np.arange(seq)[:, None] * freq[None, :]           # (T, HD/2)

    def rope_interleaved(m, n):                                # m: (T, n*head)
        m = m.reshape(seq, n, head // 2, 2)
        c, s = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        a, b = m[..., 0], m[..., 1]
        return np.stack((a * c - b * s, a * s + b * c), axis=-1).reshape(seq, n * head)

    for layer in range(cfg["num_hidden_layers"]):
        xb = rmsnorm(x, wts["rms_att"][layer])
        q = rope_interleaved(xb @ wts["wq"][layer].T, n_heads).reshape(seq, n_heads, head)
        k = rope_interleaved(xb @ wts["wk"][layer].T, n_kv).reshape(seq, n_kv, head)
        v = (xb @ wts["wv"][layer].T).reshape(seq, n_kv, head)
        out = np.zeros((seq, n_heads, head))
        for hh in range(n_heads):
            kvh = hh // (n_heads // n_kv)
            scores = q[:, hh, :] @ k[:, kvh, :].T / math.sqrt(head)
            scores = scores + np.triu(np.full((seq, seq), -np.inf), 1)
            p = np.exp(scores - scores.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            out[:, hh, :] = p @ v[:, kvh, :]
        x = x + out.reshape(seq, dim) @ wts["wo"][layer].T
        xb = rmsnorm(x, wts["rms_ffn"][layer])
        g = xb @ wts["w1"][layer].T
        x = x + ((g / (1.0 + np.exp(-g))) * (xb @ wts["w3"][layer].T)) @ wts["w2"][layer].T
    x = rmsnorm(x, wts["rms_final"])
    return x @ wts["wcls"].T


# ---------------------------------------------------------------------------------------------
# random HF models and the hand-sized one


def hf_config_json(cfg, torch_dtype):
    j = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": cfg["hidden_size"], "intermediate_size": cfg["intermediate_size"],
        "num_hidden_layers": cfg["num_hidden_layers"], "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_key_value_heads"], "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_theta": cfg["rope_theta"], "rope_scaling": cfg["rope_scaling"],
        "max_position_embeddings": cfg["max_position_embeddings"], "vocab_size": cfg["vocab_size"],
        "tie_word_embeddings": cfg["tie_word_embeddings"], "torch_dtype": torch_dtype,
        "bos_token_id": 1, "eos_token_id": 2,
    }
    if cfg["head_dim"] != cfg["hidden_size"] // cfg["num_attention_heads"]:
        j["head_dim"] = cfg["head_dim"]
    return j


def random_state(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q_dim, kv_dim = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    # std 0.1 (not HF's 0.02) so attention patterns are far from uniform and RoPE errors show.
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.1  # noqa: E731
    norm = lambda: 1.0 + 0.2 * torch.randn(c, generator=g)  # noqa: E731
    s = {"model.embed_tokens.weight": torch.randn(v, c, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        s[p + "input_layernorm.weight"] = norm()
        s[p + "self_attn.q_proj.weight"] = rnd(q_dim, c) * 3.0
        s[p + "self_attn.k_proj.weight"] = rnd(kv_dim, c) * 3.0
        s[p + "self_attn.v_proj.weight"] = rnd(kv_dim, c)
        s[p + "self_attn.o_proj.weight"] = rnd(c, q_dim)
        s[p + "post_attention_layernorm.weight"] = norm()
        s[p + "mlp.gate_proj.weight"] = rnd(f, c)
        s[p + "mlp.up_proj.weight"] = rnd(f, c)
        s[p + "mlp.down_proj.weight"] = rnd(c, f)
    s["model.norm.weight"] = norm()
    if not cfg["tie_word_embeddings"]:
        s["lm_head.weight"] = rnd(v, c)
    return s


def storage_form(tensor, dtype):
    a = tensor.detach().numpy().astype(np.float32)
    if dtype == "BF16":
        return "BF16", float32_to_bf16_bits(a), torch.from_numpy(bf16_bits_to_float32(float32_to_bf16_bits(a)))
    return "F32", a, torch.from_numpy(a.copy())


def write_hf_folder(name, cfg, state, torch_dtype="float32", shards=1):
    """Writes config.json and the safetensors file(s); returns the state as stored (bf16-rounded if so)."""
    folder = os.path.join(DATA, name)
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config_json(cfg, torch_dtype), f, indent=2)
        f.write("\n")
    st_dtype = "BF16" if torch_dtype == "bfloat16" else "F32"
    stored = {}
    entries = []
    for key in sorted(state):
        dt, array, as_stored = storage_form(state[key], st_dtype)
        stored[key] = as_stored
        entries.append((key, dt, list(state[key].shape), array))
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), entries, {"format": "pt"})
    else:
        weight_map = {}
        per_shard = (len(entries) + shards - 1) // shards
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = entries[s * per_shard:(s + 1) * per_shard]
            write_safetensors(os.path.join(folder, fname), part, {"format": "pt"})
            weight_map.update({e[0]: fname for e in part})
        total = sum(int(np.prod(e[2])) * 4 for e in entries)
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
            f.write("\n")
    return stored


def numpy_loop_forward(cfg, s, tokens):
    """Hand-model check: one token, one head, one pair at a time, float64, HF conventions."""
    c, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    W = {k: v.numpy().astype(np.float64) for k, v in s.items()}
    T = len(tokens)

    def norm(vec, w):
        return w * vec / math.sqrt(sum(e * e for e in vec) / len(vec) + eps)

    def rope(vec, pos):  # vec: (HD,), pairs (i, i + HD/2)
        out = vec.copy()
        for i in range(hd // 2):
            a = pos * theta ** (-2.0 * i / hd)
            x1, x2 = vec[i], vec[i + hd // 2]
            out[i] = x1 * math.cos(a) - x2 * math.sin(a)
            out[i + hd // 2] = x2 * math.cos(a) + x1 * math.sin(a)
        return out

    hs = [W["model.embed_tokens.weight"][t].copy() for t in tokens]
    for layer in range(cfg["num_hidden_layers"]):
        w = lambda n: W[f"model.layers.{layer}.{n}.weight"]  # noqa: E731
        xs = [norm(h, w("input_layernorm")) for h in hs]
        qs = [w("self_attn.q_proj") @ x for x in xs]
        ks = [w("self_attn.k_proj") @ x for x in xs]
        vs = [w("self_attn.v_proj") @ x for x in xs]
        new_hs = []
        for t in range(T):
            heads = []
            for h in range(nh):
                kvh = h * nkv // nh
                q = rope(qs[t][h * hd:(h + 1) * hd], t)
                scores = [float(q @ rope(ks[u][kvh * hd:(kvh + 1) * hd], u)) / math.sqrt(hd) for u in range(t + 1)]
                m = max(scores)
                e = [math.exp(sc - m) for sc in scores]
                z = sum(e)
                heads.append(sum((e[u] / z) * vs[u][kvh * hd:(kvh + 1) * hd] for u in range(t + 1)))
            new_hs.append(hs[t] + w("self_attn.o_proj") @ np.concatenate(heads))
        hs = new_hs
        for t in range(T):
            x = norm(hs[t], w("post_attention_layernorm"))
            g = w("mlp.gate_proj") @ x
            u = w("mlp.up_proj") @ x
            hs[t] = hs[t] + w("mlp.down_proj") @ (g / (1.0 + np.exp(-g)) * u)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return np.stack([head @ norm(h, W["model.norm.weight"]) for h in hs])


def hand_state(cfg):
    """Weights from a simple integer pattern (values in [-0.5, 0.5] in steps of 0.1)."""
    def pattern(rows, cols, salt):
        return torch.tensor([[(((r * 7 + c * 3 + salt) % 11) - 5) / 10.0 for c in range(cols)] for r in range(rows)])

    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q_dim, kv_dim = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    s = {"model.embed_tokens.weight": pattern(v, c, 1) * 2.0, "model.norm.weight": torch.tensor([1.0, 0.5] * (c // 2))}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        s[p + "input_layernorm.weight"] = torch.tensor([1.0 + 0.1 * ((j + i) % 3) for j in range(c)])
        s[p + "post_attention_layernorm.weight"] = torch.tensor([1.0 - 0.1 * ((j + i) % 4) for j in range(c)])
        s[p + "self_attn.q_proj.weight"] = pattern(q_dim, c, 2 + i) * 2.0
        s[p + "self_attn.k_proj.weight"] = pattern(kv_dim, c, 3 + i) * 2.0
        s[p + "self_attn.v_proj.weight"] = pattern(kv_dim, c, 4 + i)
        s[p + "self_attn.o_proj.weight"] = pattern(c, q_dim, 5 + i)
        s[p + "mlp.gate_proj.weight"] = pattern(f, c, 6 + i)
        s[p + "mlp.up_proj.weight"] = pattern(f, c, 7 + i)
        s[p + "mlp.down_proj.weight"] = pattern(c, f, 8 + i)
    s["lm_head.weight"] = pattern(v, c, 9)
    return s


def base_cfg(**kw):
    cfg = dict(rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=False)
    cfg.update(kw)
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    return cfg


def main():
    torch.set_num_threads(1)
    outputs = []   # (name, dtype, shape, array) for reference_logits.safetensors
    rng = np.random.RandomState(1234)

    def record(name, ids, logits):
        outputs.append((name + ".input_ids", "I64", list(ids.shape), ids.numpy().astype(np.int64)))
        outputs.append((name + ".logits", "F32", list(logits.shape), logits.detach().numpy().astype(np.float32)))

    # (a) stories260K
    cfg, wts = read_llama2c(os.path.join(SHARED, "stories260K", "stories260K.bin"))
    ids = torch.from_numpy(np.concatenate(([1], rng.randint(3, cfg["vocab_size"], 31))).astype(np.int64))[None, :]
    logits = hf_forward(llama2c_to_hf(cfg, wts), cfg, ids)
    check = llama2c_forward_numpy(cfg, wts, ids[0].numpy())
    print(f"stories260K: HF-convention torch vs llama2.c-convention numpy max|diff| = "
          f"{np.abs(logits[0].numpy() - check).max():.3g}")
    assert np.abs(logits[0].numpy() - check).max() < 1e-4
    record("stories260K", ids, logits)

    scaling = dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                   original_max_position_embeddings=64)
    models = [
        # name, cfg, seed, torch_dtype, shards, (B, T)
        ("hf_llama2_mha", base_cfg(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=4, vocab_size=128, max_position_embeddings=64),
         1, "float32", 1, (2, 40)),
        ("hf_llama3_gqa_tied", base_cfg(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, vocab_size=128,
                                        max_position_embeddings=256, rope_theta=500000.0, rope_scaling=scaling,
                                        tie_word_embeddings=True),
         2, "bfloat16", 1, (1, 96)),
        ("hf_llama3_gqa_sharded", base_cfg(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=8, num_key_value_heads=2, head_dim=16, vocab_size=128,
                                           max_position_embeddings=256, rope_theta=500000.0, rope_scaling=scaling),
         3, "float32", 2, (1, 96)),
    ]
    for name, cfg, seed, torch_dtype, shards, (b, t) in models:
        stored = write_hf_folder(name, cfg, random_state(cfg, seed), torch_dtype, shards)
        ids = torch.from_numpy(rng.randint(0, cfg["vocab_size"], (b, t)).astype(np.int64))
        logits = hf_forward(stored, cfg, ids)
        if cfg["rope_scaling"]:
            plain = dict(cfg, rope_scaling=None)
            effect = (hf_forward(stored, plain, ids) - logits).abs().max().item()
            print(f"{name}: llama3 rope scaling changes logits by up to {effect:.3g}")
            assert effect > 1e-2, "the scaling must matter for this test to mean anything"
        print(f"{name}: logits {tuple(logits.shape)}, |logits| max {logits.abs().max().item():.3g}")
        record(name, ids, logits)

    # hand-sized model: 2 layers, dim 8, 2 query heads sharing 1 kv head
    cfg = base_cfg(hidden_size=8, intermediate_size=12, num_hidden_layers=2, num_attention_heads=2,
                   num_key_value_heads=1, vocab_size=16, max_position_embeddings=16)
    stored = write_hf_folder("hf_hand_tiny", cfg, hand_state(cfg))
    tokens = [1, 5, 9, 2, 14, 7]
    loop = numpy_loop_forward(cfg, stored, tokens)
    torch_logits = hf_forward(stored, cfg, torch.tensor([tokens]))[0].numpy()
    print(f"hf_hand_tiny: numpy loop vs torch max|diff| = {np.abs(loop - torch_logits).max():.3g}")
    assert np.abs(loop - torch_logits).max() < 1e-5
    record("hf_hand_tiny", torch.tensor([tokens]), torch.from_numpy(loop.astype(np.float32))[None])

    write_safetensors(os.path.join(DATA, "reference_logits.safetensors"), outputs,
                      {"generator": "tests/reference/llama_reference.py"})
    print("wrote", os.path.join(DATA, "reference_logits.safetensors"))


if __name__ == "__main__":
    main()
