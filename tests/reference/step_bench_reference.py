#!/usr/bin/env python3
"""PyTorch-eager reference for `rilq bench step` (core/bench/step_bench.cpp).

The same RILQ training step, written the way a PyTorch user would (HF-Llama-style modules,
PEFT-style LoRA: lora_B(lora_A(dropout(x))) * scaling on all seven projections), on a random
Llama: dim 512, 8 layers, 8 heads, ffn 1376, vocab 4096, seqlen 512, rank 16, 2 threads.
  - base weights frozen (requires_grad=False), fake-quantized once (no per-step quantization);
  - hidden targets of a teacher cached once, the teacher freed;
  - step = forward (hidden + logits) + 0.5 MSE(hidden) + 0.5 next-token CE + backward + Adam step;
  - eval = forward to logits under torch.no_grad().
Prints tokens/s for both. Run: /usr/bin/python3 tests/reference/step_bench_reference.py [--threads 2]
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class LoraLinear(nn.Module):
    def __init__(self, in_f, out_f, r, alpha):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_f, in_f) * 0.02, requires_grad=False)
        self.lora_A = nn.Linear(in_f, r, bias=False)
        self.lora_B = nn.Linear(r, out_f, bias=False)
        nn.init.normal_(self.lora_A.weight, std=1.0 / r)   # PEFT "gaussian"
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight) + self.lora_B(self.lora_A(x)) * self.scaling


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim), requires_grad=False)
        self.eps = eps

    def forward(self, x):   # HF LlamaRMSNorm
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Layer(nn.Module):
    def __init__(self, C, NH, F_, r, alpha):
        super().__init__()
        self.NH, self.HD = NH, C // NH
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(C), RMSNorm(C)
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (LoraLinear(C, C, r, alpha) for _ in range(4))
        self.gate_proj, self.up_proj = LoraLinear(C, F_, r, alpha), LoraLinear(C, F_, r, alpha)
        self.down_proj = LoraLinear(F_, C, r, alpha)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.NH, self.HD).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.NH, self.HD).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.NH, self.HD).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.HD)
        scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, C)
        x = x + self.o_proj(out)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, C, L, NH, F_, V, r, alpha):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(V, C) * 0.02, requires_grad=False)
        self.layers = nn.ModuleList(Layer(C, NH, F_, r, alpha) for _ in range(L))
        self.norm = RMSNorm(C)
        self.lm_head = nn.Parameter(torch.randn(V, C) * 0.02, requires_grad=False)
        self.HD = C // NH

    def forward(self, ids):
        T = ids.shape[1]
        inv = 1.0 / (10000 ** (torch.arange(0, self.HD, 2).float() / self.HD))
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = F.embedding(ids, self.embed)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        hidden = self.norm(x)
        return hidden, F.linear(hidden, self.lm_head)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seqlen", type=int, default=512)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--eval-windows", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    C, L, NH, F_, V, T = 512, 8, 8, 1376, 4096, args.seqlen

    ids = torch.randint(0, V, (1, T))
    teacher = Llama(C, L, NH, F_, V, args.rank, 16.0)
    with torch.no_grad():
        target, _ = teacher(ids)          # cached hidden target
    del teacher
    student = Llama(C, L, NH, F_, V, args.rank, 16.0)
    params = [p for p in student.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4)

    def step():
        hidden, logits = student(ids)
        a_loss = F.mse_loss(hidden, target)
        gt_loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, V), ids[:, 1:].reshape(-1))
        loss = 0.5 * a_loss + 0.5 * gt_loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    for _ in range(args.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        loss = step()
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    eval_ids = torch.randint(0, V, (args.eval_windows, T))
    with torch.no_grad():
        student(eval_ids[:1])
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(args.eval_windows):
            student(eval_ids[i:i + 1])
        eval_s, eval_cpu = time.perf_counter() - t0, time.process_time() - c0

    print(f"pytorch-eager torch {torch.__version__} threads={args.threads} trainable={sum(p.numel() for p in params)}")
    print(f"train    {args.steps * T / train_s:.0f} tokens/s  {1e3 * train_s / args.steps:.1f} ms/step  "
          f"cpu {1e3 * train_cpu / args.steps:.1f} ms/step  (loss {loss:.4f})")
    print(f"eval     {args.eval_windows * T / eval_s:.0f} tokens/s  {1e3 * eval_s / args.eval_windows:.1f} ms/window  "
          f"cpu {1e3 * eval_cpu / args.eval_windows:.1f} ms/window")


if __name__ == "__main__":
    main()
