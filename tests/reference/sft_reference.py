#!/usr/bin/python3
"""Independent reference for IR-QLoRA's instruction fine-tuning (tests/test_sft_*.cpp).

Written from htqin/IR-QLoRA irlora.py (blob c85ae982, line numbers as in shared/data/mmlu/PROTOCOL.md
section 2) and the Hugging Face code it runs (transformers 4.35 slow LlamaTokenizer, Trainer,
LengthGroupedSampler; datasets' train_test_split; torch.nn.utils.clip_grad_norm_; torch.optim.AdamW),
re-implemented here in plain Python / PyTorch / NumPy, not from our C++:

  * prompts: the two Alpaca templates (l. 534-552, trailing space after "### Response:"), the input
    template when input != "" (whitespace counts);
  * tokens: source = "<s>" + prompt, target = output + "</s>", each tokenized on its own without
    special tokens as the slow tokenizer does it (split on the special-token texts, SentencePiece on
    the pieces in between), truncated to source_max_len / target_max_len from the right;
    labels -100 on the source (l. 464-515);
  * the held-out split: numpy default_rng(42).permutation(n), test = the first eval_dataset_size
    (datasets' train_test_split), then the first max_eval_samples (l. 657-667);
  * group_by_length: length = len(prompt) + len(output) in characters (l. 668-675), HF's
    get_length_grouped_indices on a torch.Generator seeded with data_seed, one draw per epoch;
  * one short training run on stories260K with LoRA r 2 + IEC on all seven projections, from a
    mid-training adapter state: masked CE over the vocabulary plus the added [PAD] row
    (smart_tokenizer_and_embedding_resize: mean of the old rows, l. 442-462), 4 updates of
    micro-batch 1 x accumulation 2 in the length-grouped order, clip_grad_norm_(0.3) (every update
    clips, by a different factor), AdamW (lr 2e-4, wd 0), eval loss on 3 records in batches of 2
    with right padding, averaged as HF does (batch losses repeated by batch size).

Outputs (committed):
  tests/data/sft/sft_reference.json           token ids / labels, split, lengths, orders, losses
  tests/data/sft/sft_step_adapters.safetensors the adapters before and after the four updates

Run: /usr/bin/python3 tests/reference/sft_reference.py   (torch 1.13, numpy, sentencepiece; ~10 s)
"""
import json
import math
import os
import sys

import numpy as np
import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from llama_reference import inv_frequencies, llama2c_to_hf, read_llama2c, rms_norm, rotate_half  # noqa: E402
from make_safetensors_fixture import write_safetensors  # noqa: E402

DATA = os.path.normpath(os.path.join(HERE, "..", "data", "sft"))
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))
IGNORE_INDEX = -100

PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response: "
)
PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response: "
)


# ---------------------------------------------------------------------------------------------
# data handling


def alpaca_prompt(record):
    template = PROMPT_INPUT if record.get("input", "") != "" else PROMPT_NO_INPUT
    return template.format(**{"instruction": record["instruction"], "input": record.get("input", "")})


class SlowLlamaTokenizer:
    """What transformers' slow LlamaTokenizer (legacy) does with add_special_tokens=False: the text is
    split at the added special tokens (<s>, </s>, <unk>; leftmost match first), each special piece
    becomes its id, the text in between goes through SentencePiece (which adds its dummy prefix)."""

    def __init__(self, path):
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self.special = {t: self.sp.piece_to_id(t) for t in ("<s>", "</s>", "<unk>")}

    def encode(self, text, max_length):
        ids, pos = [], 0
        while pos < len(text):
            hits = [(text.find(t, pos), -len(t), t) for t in self.special if text.find(t, pos) >= 0]
            if not hits:
                ids += self.sp.encode(text[pos:])
                break
            start, _, token = min(hits)
            if start > pos:
                ids += self.sp.encode(text[pos:start])
            ids.append(self.special[token])
            pos = start + len(token)
        return ids[:max_length]


def sft_example(tok, record, source_max_len, target_max_len):
    prompt = alpaca_prompt(record)
    source = tok.encode("<s>" + prompt, source_max_len)
    target = tok.encode(record["output"] + "</s>", target_max_len)
    return {
        "input_ids": source + target,
        "labels": [IGNORE_INDEX] * len(source) + target,
        "source_tokens": len(source),
        "length": len(prompt) + len(record["output"]),   # characters, as group_by_length counts them
    }


def train_test_split(n, test_size, seed=42):
    permutation = np.random.default_rng(seed).permutation(n)
    return permutation[test_size:].tolist(), permutation[:test_size].tolist()


def length_grouped_indices(lengths, batch_size, generator):
    """transformers.trainer_pt_utils.get_length_grouped_indices (4.35), mega_batch_mult=None."""
    mega_batch_mult = min(len(lengths) // (batch_size * 4), 50)
    if mega_batch_mult == 0:
        mega_batch_mult = 1
    indices = torch.randperm(len(lengths), generator=generator)
    size = mega_batch_mult * batch_size
    megabatches = [indices[i:i + size].tolist() for i in range(0, len(lengths), size)]
    megabatches = [sorted(m, key=lambda i: lengths[i], reverse=True) for m in megabatches]
    maximums = [lengths[m[0]] for m in megabatches]
    max_idx = torch.argmax(torch.tensor(maximums)).item()
    megabatches[0][0], megabatches[max_idx][0] = megabatches[max_idx][0], megabatches[0][0]
    return [i for m in megabatches for i in m]


def epoch_orders(lengths, batch_size, seed, epochs):
    g = torch.Generator()
    g.manual_seed(seed)
    return [length_grouped_indices(lengths, batch_size, g) for _ in range(epochs)]


def collate(examples, pad_id):
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, :len(e["input_ids"])] = torch.tensor(e["input_ids"])
        labels[row, :len(e["labels"])] = torch.tensor(e["labels"])
    return ids, labels, ids.ne(pad_id)


# ---------------------------------------------------------------------------------------------
# stories260K with LoRA + IEC (IR-QLoRA utils.py IRQLoraLinear4bit.forward) and the [PAD] row

PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def lora_iec(x, a, b, beta1, beta2, scaling):
    r = a.shape[0]
    u = x @ a.T + beta1 * x.reshape(*x.shape[:-1], r, -1).mean(dim=-1)
    z = ((u @ b.T).reshape(*u.shape, -1) + beta2 * u.unsqueeze(-1)).reshape(*u.shape[:-1], -1)
    return z * scaling


def forward(state, cfg, adapters, scaling, ids, attention_mask):
    """HF LlamaForCausalLM with the padding mask; returns logits (B, T, V + 1)."""
    n_heads, n_kv, head_dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    batch, seq = ids.shape
    angles = torch.arange(seq, dtype=torch.float32)[:, None] * inv_frequencies(cfg)[None, :]
    angles = torch.cat((angles, angles), dim=-1)
    cos, sin = angles.cos(), angles.sin()
    allowed = torch.ones(seq, seq, dtype=torch.bool).tril()[None, None] & attention_mask[:, None, None, :]
    bias = torch.zeros(batch, 1, seq, seq).masked_fill(~allowed, torch.finfo(torch.float32).min)

    def linear(layer, name, x):
        w = state[f"model.layers.{layer}.{name}.weight"]
        a, b, beta1, beta2 = adapters[f"layers.{layer}.{name}"]
        return x @ w.T + lora_iec(x, a, b, beta1, beta2, scaling)

    h = state["embed_resized"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        x = rms_norm(h, state[f"model.layers.{layer}.input_layernorm.weight"], eps)
        q = linear(layer, "self_attn.q_proj", x).view(batch, seq, n_heads, head_dim).transpose(1, 2)
        k = linear(layer, "self_attn.k_proj", x).view(batch, seq, n_kv, head_dim).transpose(1, 2)
        v = linear(layer, "self_attn.v_proj", x).view(batch, seq, n_kv, head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(n_heads // n_kv, dim=1), v.repeat_interleave(n_heads // n_kv, dim=1)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim) + bias, dim=-1)
        attn = (weights @ v).transpose(1, 2).reshape(batch, seq, n_heads * head_dim)
        h = h + linear(layer, "self_attn.o_proj", attn)
        x = rms_norm(h, state[f"model.layers.{layer}.post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(linear(layer, "mlp.gate_proj", x))
        h = h + linear(layer, "mlp.down_proj", gate * linear(layer, "mlp.up_proj", x))
    h = rms_norm(h, state["model.norm.weight"], eps)
    return h @ state["lm_head_resized"].T


def causal_lm_loss(logits, labels):
    """LlamaForCausalLM's loss: shift by one, CrossEntropyLoss (mean over labels != -100)."""
    shift_logits = logits[..., :-1, :].contiguous().float()
    shift_labels = labels[..., 1:].contiguous()
    return torch.nn.CrossEntropyLoss()(shift_logits.view(-1, shift_logits.shape[-1]), shift_labels.view(-1))


def step_run(records):
    cfg, weights = read_llama2c(os.path.join(SHARED, "stories260K", "stories260K.bin"))
    state = llama2c_to_hf(cfg, weights)
    embed = state["model.embed_tokens.weight"]
    head = embed if cfg["tie_word_embeddings"] else state["lm_head.weight"]
    # smart_tokenizer_and_embedding_resize: [PAD] = id V, its rows the means of the old rows
    state["embed_resized"] = torch.cat([embed, embed.mean(dim=0, keepdim=True)])
    state["lm_head_resized"] = torch.cat([head, head.mean(dim=0, keepdim=True)])
    pad_id = cfg["vocab_size"]
    tok = SlowLlamaTokenizer(os.path.join(SHARED, "stories260K", "tok512.model"))

    setting = {"lora_r": 2, "lora_alpha": 0.5, "source_max_len": 384, "target_max_len": 128,
               "micro_batch": 1, "accumulation": 2, "updates": 4, "eval_batch": 2, "lr": 2e-4,
               "weight_decay": 0.0, "max_grad_norm": 0.3, "data_seed": 42}
    train = [sft_example(tok, records[i], setting["source_max_len"], setting["target_max_len"]) for i in STEP_TRAIN]
    val = [sft_example(tok, records[i], setting["source_max_len"], setting["target_max_len"]) for i in STEP_VAL]
    r, scaling = setting["lora_r"], setting["lora_alpha"] / setting["lora_r"]

    # A mid-training adapter state (B and the IEC gates non-zero, so every gradient is non-zero).
    g = torch.Generator().manual_seed(2024)
    adapters, names, tensors = {}, [], []
    dims = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (64, 32), "self_attn.v_proj": (64, 32),
            "self_attn.o_proj": (64, 64), "mlp.gate_proj": (64, 172), "mlp.up_proj": (64, 172),
            "mlp.down_proj": (172, 64)}
    for layer in range(cfg["num_hidden_layers"]):
        for proj in PROJECTIONS:
            d_in, d_out = dims[proj]
            a = ((torch.rand(r, d_in, generator=g) * 2 - 1) / math.sqrt(d_in)).requires_grad_()
            b = (torch.randn(d_out, r, generator=g) * 0.05).requires_grad_()
            beta1 = (torch.randn((), generator=g) * 0.3).requires_grad_()
            beta2 = (torch.randn((), generator=g) * 0.3).requires_grad_()
            name = f"layers.{layer}.{proj}"
            adapters[name] = (a, b, beta1, beta2)
            for short, t in (("lora_A", a), ("lora_B", b), ("iec_beta1", beta1), ("iec_beta2", beta2)):
                names.append(f"{name}.{short}")
                tensors.append(t)
    initial = [t.detach().clone() for t in tensors]

    def eval_loss():
        total, rows = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(val), setting["eval_batch"]):
                chunk = val[i:i + setting["eval_batch"]]
                ids, labels, mask = collate(chunk, pad_id)
                total += causal_lm_loss(forward(state, cfg, adapters, scaling, ids, mask), labels).item() * len(chunk)
                rows += len(chunk)
        return total / rows

    optimizer = torch.optim.AdamW(tensors, lr=setting["lr"], betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=setting["weight_decay"])
    batch = setting["micro_batch"] * setting["accumulation"]
    micro_per_epoch = math.ceil(len(train) / setting["micro_batch"])
    micro_total = setting["updates"] * setting["accumulation"]
    orders = epoch_orders([e["length"] for e in train], batch, setting["data_seed"],
                          math.ceil(micro_total / micro_per_epoch))
    out = {"setting": setting, "train_records": STEP_TRAIN, "val_records": STEP_VAL,
           "pad_id": pad_id, "orders": orders, "micro_losses": [], "update_losses": [], "grad_norms": [],
           "eval_losses": [eval_loss()]}
    window = []
    for step in range(micro_total):
        order = orders[step // micro_per_epoch]
        first = (step % micro_per_epoch) * setting["micro_batch"]
        chunk = [train[i] for i in order[first:first + setting["micro_batch"]]]
        ids, labels, mask = collate(chunk, pad_id)
        loss = causal_lm_loss(forward(state, cfg, adapters, scaling, ids, mask), labels)
        (loss / setting["accumulation"]).backward()
        window.append(loss.item())
        out["micro_losses"].append(loss.item())
        if (step + 1) % setting["accumulation"] == 0:
            norm = torch.nn.utils.clip_grad_norm_(tensors, setting["max_grad_norm"])
            optimizer.step()
            optimizer.zero_grad()
            out["grad_norms"].append(norm.item())
            out["update_losses"].append(sum(window) / len(window))
            window = []
            out["eval_losses"].append(eval_loss())
    clipped = [n > setting["max_grad_norm"] for n in out["grad_norms"]]
    print("grad norms", out["grad_norms"], "clipped", clipped)
    fixture = []
    for name, before, after in zip(names, initial, tensors):
        fixture.append(("initial." + name, "F32", list(before.shape), before.numpy()))
        fixture.append(("after." + name, "F32", list(after.shape), after.detach().numpy()))
    write_safetensors(os.path.join(DATA, "sft_step_adapters.safetensors"), fixture,
                      {"format": "pt", "note": "written by tests/reference/sft_reference.py"})
    return out


# ---------------------------------------------------------------------------------------------

STEP_TRAIN = [0, 1, 2, 3]
STEP_VAL = [4, 5, 7]


def main():
    os.makedirs(DATA, exist_ok=True)
    demo_path = os.path.join(SHARED, "alpaca", "alpaca_en_demo.json")
    demo = json.load(open(demo_path, encoding="utf-8"))
    cases = json.load(open(os.path.join(DATA, "alpaca_cases.json"), encoding="utf-8"))
    llama2 = SlowLlamaTokenizer(os.path.join(SHARED, "llama2-tokenizer", "tokenizer.model"))
    tok512 = SlowLlamaTokenizer(os.path.join(SHARED, "stories260K", "tok512.model"))

    # The demo records with the longest source and the longest output (Llama-2 tokens), so that
    # (384, 128) truncates both; record 6 has non-ASCII text.
    src_len = [len(llama2.encode("<s>" + alpaca_prompt(r), 10 ** 6)) for r in demo]
    out_len = [len(llama2.encode(r["output"] + "</s>", 10 ** 6)) for r in demo]
    demo_ids = sorted(set([0, 1, 6, int(np.argmax(src_len)), int(np.argmax(out_len))]))
    tokenization = []
    for tok_name, tok in (("llama2", llama2), ("tok512", tok512)):
        for source_max, target_max in ((384, 128), (24, 12)):
            for source, records, ids in (("cases", cases, range(len(cases))), ("demo", demo, demo_ids)):
                for i in ids:
                    e = sft_example(tok, records[i], source_max, target_max)
                    tokenization.append({"tokenizer": tok_name, "source_max_len": source_max,
                                         "target_max_len": target_max, "file": source, "record": i,
                                         "prompt": alpaca_prompt(records[i]), **e})

    # The held-out split of the demo file and the length-grouped order of its training rows.
    eval_size, max_eval, batch = 64, 50, 16
    train_rows, test_rows = train_test_split(len(demo), eval_size)
    eval_rows = test_rows[:max_eval]
    lengths = [len(alpaca_prompt(demo[i])) + len(demo[i]["output"]) for i in train_rows]
    orders = epoch_orders(lengths, batch, 42, 2)
    split = {"file": "alpaca/alpaca_en_demo.json", "eval_dataset_size": eval_size, "max_eval_samples": max_eval,
             "seed": 42, "train_rows": train_rows, "eval_rows": eval_rows, "train_lengths": lengths,
             "group_batch_size": batch, "data_seed": 42, "orders": orders,
             "permutation_52002_head": np.random.default_rng(42).permutation(52002)[:16].tolist()}
    # A tiny set where lengths tie (order then follows the permutation) and megabatches hold 1 batch.
    tie_lengths = [5, 3, 5, 9, 1, 3, 9, 2, 7, 7, 4]
    split["ties"] = {"lengths": tie_lengths, "batch_size": 2, "seed": 7,
                     "orders": epoch_orders(tie_lengths, 2, 7, 3)}

    step = step_run(demo)
    out = {"tokenization": tokenization, "split": split, "step": step}
    path = os.path.join(DATA, "sft_reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path), "with", len(tokenization), "tokenization cases")
    print("step: micro losses", step["micro_losses"], "grad norms", step["grad_norms"], "eval", step["eval_losses"])


if __name__ == "__main__":
    main()
