#!/usr/bin/python3
"""Independent reference for the downstream-accuracy tasks (core/eval/tasks), written from the
protocol notes (shared/data/mmlu/PROTOCOL.md, shared/data/tasks/README.md) and the reference code
they quote, not from our C++:

  * MMLU k-shot as IR-QLoRA's evaluate_mmlu.py builds and scores it: pandas.read_csv(header=None),
    "{}".format of each cell, the hendrycks prompt, shots dropped from the end while the prompt is
    longer than max_length tokens (BOS counted), softmax over the last-position logits of the
    letter ids tokenizer("A")[-1] .. ("D")[-1];
  * zero-shot multiple choice as lm-evaluation-harness scores it: doc_to_text / doc_to_choice of
    each task yaml, _encode_pair, sum of continuation log-probs, acc / acc_norm.

The model forward is tests/reference/llama_reference.py's HF-style PyTorch Llama (hf_forward,
checked there against a llama2.c-style numpy forward); every prompt runs whole, with no KV cache
and no batching, exactly as the reference scripts run it. Tokenization is sentencepiece's
encode(), which is HF's slow LlamaTokenizer (BOS prepended when the protocol adds special tokens).

pandas: the protocol pins pandas 2.x (IR-QLoRA's requirement is 2.1.3), whose default NA strings
include "None"; Debian's pandas is 1.5.3, whose defaults lack it. This script passes
na_values=["None"] (added to the defaults, keep_default_na=True), which gives exactly 2.x's set:
it asserts below that pandas 1.5.3's STR_NA_VALUES plus "None" equals the 2.x list. Nothing else
that read_csv does for these files differs between 1.5.3 and 2.x (dtype inference, quoting).
read_csv is also called with low_memory=False so that dtypes are inferred over the whole file,
as core/eval/tasks/pandas_csv.h documents.

Outputs (small, committed), all under tests/data/tasks/:
  pandas_cells.csv / pandas_cells.json   a crafted CSV and the cells as pandas prints them
  tasks_reference.json                   MMLU prompts, token counts and per-item probabilities
                                         (stories260K; a random Llama-2-vocabulary model at the
                                         full 2048-token limit), ARC-e / ARC-c / PIQA / HellaSwag /
                                         WinoGrande / BoolQ per-choice log-likelihoods on stories260K

The random model's weights come from an integer hash (hashed_uniform below), which the C++ test
reproduces bit for bit, so no large weight file is committed.

Run: /usr/bin/python3 tests/reference/tasks_reference.py   (torch 1.13, pandas, sentencepiece; ~2 min)
"""
import hashlib
import json
import math
import os
import re
import sys

import numpy as np
import pandas as pd
import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_reference import hf_forward, llama2c_to_hf, read_llama2c  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "tasks"))
SHARED = os.environ.get("RILQ_SHARED_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))

# pandas 2.x pandas/_libs/parsers.pyx STR_NA_VALUES
PANDAS2_NA = {"-1.#IND", "1.#QNAN", "1.#IND", "-1.#QNAN", "#N/A N/A", "#N/A", "N/A", "n/a", "NA", "<NA>", "#NA",
              "NULL", "null", "NaN", "-NaN", "nan", "-nan", "", "None"}


def read_csv_pandas2(path):
    from pandas._libs.parsers import STR_NA_VALUES
    assert set(STR_NA_VALUES) | {"None"} == PANDAS2_NA, "pandas' NA strings are not what this script assumes"
    return pd.read_csv(path, header=None, na_values=["None"], keep_default_na=True, low_memory=False)


# ---------------------------------------------------------------------------------------------
# pandas cell semantics on a crafted file


def write_pandas_cells_csv(path):
    """Rows of 9 columns, each column testing one inference rule; odd line structure on purpose."""
    rows = [
        # text         int     int+NA  float        bool     mixed  all-NA  uint64                  overflow
        ['"Q ""one""\nline2"', '007', '1', '1.50', 'true', '1', 'None', '18446744073709551615', '1e500'],
        ['"crlf\r\ninside"', ' 42 ', '', '1e5', 'False', 'abc', '', '9223372036854775808', '2.5'],
        ['None', '+5', '3', '.5', 'TRUE', '2', 'NA', '1', 'x'],
        ['  spaced  ', '-0', '4', '5.', 'false', '3', 'n/a', '2', '3'],
        ['"quoted"tail', '12', '5', '-0.0', 'True', '4', 'nan', '3', '4'],
        ['mid"quote', '13', '6', '1e-05', 'FALSE', '5', 'NULL', '4', '5'],
        ['none', '14', '7', '1e16', 'true', '6', '#N/A', '5', '6'],
        ['Nan', '15', '8', 'inf', 'false', '7', '<NA>', '6', '7'],
        ['"a,b"', '16', '9', '-Infinity', 'true', '8', '-nan', '7', '8'],
        ['', '17', '10', '3', 'False', '9', '', '8', '9'],
    ]
    lines = [",".join(r) for r in rows]
    # A BOM, CRLF record ends on two rows, a blank line and a whitespace-only line between records.
    text = "\ufeff" + lines[0] + "\r\n" + lines[1] + "\n\n" + lines[2] + "\r\n" + "  \t \n" + "\n".join(lines[3:]) + "\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def pandas_cells(path):
    df = read_csv_pandas2(path)
    return [["{}".format(df.iloc[r, c]) for c in range(df.shape[1])] for r in range(df.shape[0])]


# ---------------------------------------------------------------------------------------------
# MMLU (evaluate_mmlu.py)

CHOICES = ["A", "B", "C", "D"]


def format_subject(subject):
    s = ""
    for entry in subject.split("_"):
        s += " " + entry
    return s


def format_example(df, idx, include_answer=True):
    prompt = df.iloc[idx, 0]
    k = df.shape[1] - 2
    for j in range(k):
        prompt += "\n{}. {}".format(CHOICES[j], df.iloc[idx, j + 1])
    prompt += "\nAnswer:"
    if include_answer:
        prompt += " {}\n\n".format(df.iloc[idx, k + 1])
    return prompt


def gen_prompt(train_df, subject, k=-1):
    prompt = "The following are multiple choice questions (with answers) about {}.\n\n".format(format_subject(subject))
    if k == -1:
        k = train_df.shape[0]
    for i in range(k):
        prompt += format_example(train_df, i)
    return prompt


def mmlu_items(sp, subject, ntrain, limit, max_length):
    """Prompts as evaluate_mmlu.py builds them (l. 321-333), plus our rule for a 0-shot prompt that is
    still too long (keep its last max_length tokens; the script itself would loop forever)."""
    mmlu = os.path.join(SHARED, "mmlu")
    dev_df = read_csv_pandas2(os.path.join(mmlu, "dev", subject + "_dev.csv"))[:ntrain]
    test_df = read_csv_pandas2(os.path.join(mmlu, "test", subject + "_test.csv"))
    items = []
    for i in range(min(limit, test_df.shape[0])):
        k = ntrain
        prompt_end = format_example(test_df, i, include_answer=False)
        prompt = gen_prompt(dev_df, subject, k) + prompt_end
        ids = [sp.bos_id()] + sp.encode(prompt)
        truncated = False
        while len(ids) > max_length:
            if k == 0:
                ids = ids[-max_length:]
                truncated = True
                break
            k -= 1
            prompt = gen_prompt(dev_df, subject, k) + prompt_end
            ids = [sp.bos_id()] + sp.encode(prompt)
        items.append(dict(id=f"{subject}/{i}", shots=k, prompt=prompt, ids=ids, truncated=truncated,
                          gold=CHOICES.index(test_df.iloc[i, 5])))
    return items


def letter_ids(sp):
    # tokenizer("A").input_ids[-1] with BOS added: the last id of [BOS] + encode("A").
    return [([sp.bos_id()] + sp.encode(c))[-1] for c in CHOICES]


def score_mmlu(state, cfg, sp, items):
    letters = letter_ids(sp)
    out = []
    for it in items:
        logits = hf_forward(state, cfg, torch.tensor([it["ids"]]))[0, -1]
        probs = torch.softmax(torch.tensor([logits[i].item() for i in letters]).float(), dim=0).tolist()
        pred = int(np.argmax(probs))
        out.append(dict(id=it["id"], shots=it["shots"], prompt_tokens=len(it["ids"]), truncated=it["truncated"],
                        prompt_sha256=None if it["truncated"] else hashlib.sha256(it["prompt"].encode()).hexdigest(),
                        gold=it["gold"], pred=pred, probs=probs))
    return out


# ---------------------------------------------------------------------------------------------
# lm-eval multiple choice


def encode_pair(sp, context, continuation, bos):
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    prefix = [sp.bos_id()] if bos else []
    whole = prefix + sp.encode(context + continuation)
    ctx = prefix + sp.encode(context)
    return ctx, whole[len(ctx):]


def loglikelihood(state, cfg, sp, context, continuation, bos):
    ctx, cont = encode_pair(sp, context, continuation, bos)
    max_length = cfg["max_position_embeddings"]
    inp = (ctx + cont)[-(max_length + 1):][:-1]
    logits = hf_forward(state, cfg, torch.tensor([inp]))[0]
    logp = torch.log_softmax(logits[-len(cont):].float(), dim=-1)
    target = torch.tensor(cont)
    picked = logp.gather(1, target[:, None])[:, 0]
    return float(picked.sum()), bool((logp.argmax(-1) == target).all()), len(ctx), len(cont)


def hellaswag_preprocess(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def docs_arc(path, limit):
    docs = []
    for line in open(path, encoding="utf-8").readlines()[:limit]:
        d = json.loads(line)
        q = d["question"]
        texts = [c["text"] for c in q["choices"]]
        labels = [c["label"] for c in q["choices"]]
        ctx = "Question: " + q["stem"] + "\nAnswer:"
        docs.append(dict(id=d["id"], requests=[(ctx, " " + t) for t in texts], choices=texts,
                         gold=labels.index(d["answerKey"])))
    return docs


def docs_piqa(path, labels_path, limit):
    labels = [int(x) for x in open(labels_path).read().split()]
    docs = []
    for i, line in enumerate(open(path, encoding="utf-8").readlines()[:limit]):
        d = json.loads(line)
        ctx = "Question: " + d["goal"] + "\nAnswer:"
        docs.append(dict(id=str(i), requests=[(ctx, " " + d["sol1"]), (ctx, " " + d["sol2"])],
                         choices=[d["sol1"], d["sol2"]], gold=labels[i]))
    return docs


def docs_hellaswag(path):
    docs = []
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        ctx = d["ctx_a"] + " " + d["ctx_b"].capitalize()
        query = hellaswag_preprocess(d["activity_label"] + ": " + ctx)
        choices = [hellaswag_preprocess(e) for e in d["endings"]]
        docs.append(dict(id=str(d["ind"]), requests=[(query, " " + c) for c in choices], choices=choices,
                         gold=int(d["label"])))
    return docs


def docs_winogrande(path):
    docs = []
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        idx = d["sentence"].index("_")
        contexts = [d["sentence"][:idx] + d["option1"], d["sentence"][:idx] + d["option2"]]
        cont = " " + d["sentence"][idx + 1:].strip()
        docs.append(dict(id=d["qID"], requests=[(c, cont) for c in contexts], choices=contexts,
                         gold={"1": 0, "2": 1}[d["answer"]]))
    return docs


def docs_boolq(path):
    docs = []
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        ctx = d["passage"] + "\nQuestion: " + d["question"] + "?\nAnswer:"
        docs.append(dict(id=str(d["idx"]), requests=[(ctx, " no"), (ctx, " yes")], choices=["no", "yes"],
                         gold=int(d["label"])))
    return docs


def score_docs(state, cfg, sp, docs, bos, has_acc_norm):
    out, acc, acc_norm = [], [], []
    for d in docs:
        results = [loglikelihood(state, cfg, sp, c, x, bos) for c, x in d["requests"]]
        lls = np.array([r[0] for r in results])
        pred = int(np.argmax(lls))
        rec = dict(id=d["id"], gold=d["gold"], pred=pred, loglikelihoods=lls.tolist(),
                   is_greedy=[r[1] for r in results], prompt_tokens=results[0][2],
                   continuation_tokens=[r[3] for r in results], contexts=[c for c, _ in d["requests"]],
                   choices=d["choices"])
        acc.append(1.0 if pred == d["gold"] else 0.0)
        if has_acc_norm:
            pred_norm = int(np.argmax(lls / np.array([float(len(c)) for c in d["choices"]])))
            rec["pred_norm"] = pred_norm
            acc_norm.append(1.0 if pred_norm == d["gold"] else 0.0)
        out.append(rec)

    def stderr(a):  # lm-eval mean_stderr
        return float(np.std(a, ddof=1) / math.sqrt(len(a)))
    summary = dict(n=len(docs), acc=float(np.mean(acc)), acc_stderr=stderr(acc))
    if has_acc_norm:
        summary.update(acc_norm=float(np.mean(acc_norm)), acc_norm_stderr=stderr(acc_norm))
    return dict(summary=summary, docs=out)


# ---------------------------------------------------------------------------------------------
# a random model with the Llama-2 vocabulary, weights from an integer hash


def hashed_uniform(salt, shape, scale):
    """Values (2u - 1) * scale, u = (lowbias32(index + salt * 0x9E3779B9) >> 8) / 2^24: exact in fp32."""
    n = int(np.prod(shape))
    x = (np.arange(n, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    u = (x >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)
    return torch.from_numpy(((np.float32(2.0) * u - np.float32(1.0)) * np.float32(scale)).reshape(shape))


def hashed_llama2_vocab_model():
    cfg = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, head_dim=8, vocab_size=32000, rms_norm_eps=1e-5, rope_theta=10000.0,
               rope_scaling=None, max_position_embeddings=4096, tie_word_embeddings=False)
    c, f, v, q, kv = 32, 64, 32000, 32, 16
    # (name, shape, scale, offset) in salt order; the C++ test lists the same.
    spec = [("model.embed_tokens.weight", (v, c), 1.0, 0.0)]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        spec += [(p + "input_layernorm.weight", (c,), 0.25, 1.0),
                 (p + "self_attn.q_proj.weight", (q, c), 0.5, 0.0),
                 (p + "self_attn.k_proj.weight", (kv, c), 0.5, 0.0),
                 (p + "self_attn.v_proj.weight", (kv, c), 0.25, 0.0),
                 (p + "self_attn.o_proj.weight", (c, q), 0.25, 0.0),
                 (p + "post_attention_layernorm.weight", (c,), 0.25, 1.0),
                 (p + "mlp.gate_proj.weight", (f, c), 0.25, 0.0),
                 (p + "mlp.up_proj.weight", (f, c), 0.25, 0.0),
                 (p + "mlp.down_proj.weight", (c, f), 0.25, 0.0)]
    spec += [("model.norm.weight", (c,), 0.25, 1.0), ("lm_head.weight", (v, c), 0.5, 0.0)]
    state = {name: hashed_uniform(salt, shape, scale) + np.float32(offset)
             for salt, (name, shape, scale, offset) in enumerate(spec)}
    return cfg, state


# ---------------------------------------------------------------------------------------------


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    result = {"generator": "tests/reference/tasks_reference.py"}

    # pandas cells
    csv_path = os.path.join(OUT, "pandas_cells.csv")
    write_pandas_cells_csv(csv_path)
    cells = pandas_cells(csv_path)
    with open(os.path.join(OUT, "pandas_cells.json"), "w") as f:
        json.dump({"generator": "tests/reference/tasks_reference.py", "file": "pandas_cells.csv", "rows": cells},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("pandas cells:", cells[0], cells[2])

    # MMLU reference prompts of PROTOCOL.md with the Llama-2 tokenizer
    sp2 = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "llama2-tokenizer", "tokenizer.model"))
    assert letter_ids(sp2) == [319, 350, 315, 360]
    protocol_rows = []
    for subject, want in [("abstract_algebra", (5, 994, 368, "da2912d4e148f4edca160fef6e2223e5a198274da16b2bdca2a16695df8b77de")),
                          ("college_mathematics", (5, 1808, 654, "387f73486aed261573cadf56f1e58cb29190547754400dc388486f869449e989")),
                          ("high_school_european_history", (3, 7985, 1890, "cbd738f56d72a9a82f1bfac2052033b1bac4f33db4705cd29caa04959b77b8e0"))]:
        it = mmlu_items(sp2, subject, 5, 1, 2048)[0]
        got = (it["shots"], len(it["prompt"].encode()), len(it["ids"]), hashlib.sha256(it["prompt"].encode()).hexdigest())
        assert got == want, (subject, got, want)
        protocol_rows.append(dict(subject=subject, shots=got[0], bytes=got[1], tokens=got[2], sha256=got[3]))
    result["mmlu_protocol_prompts"] = protocol_rows

    # MMLU on stories260K: 512-token context, so shots are dropped and long passages truncated.
    cfg, wts = read_llama2c(os.path.join(SHARED, "stories260K", "stories260K.bin"))
    stories = llama2c_to_hf(cfg, wts)
    sp5 = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "stories260K", "tok512.model"))
    subjects = ["abstract_algebra", "college_mathematics", "high_school_european_history"]
    limit = 22
    items = [it for s in subjects for it in mmlu_items(sp5, s, 5, limit, min(2048, cfg["max_position_embeddings"]))]
    nan_items = [it["id"] for it in items if "\nA. nan\n" in it["prompt"]]
    assert nan_items == ["college_mathematics/8", "college_mathematics/21"], nan_items
    result["mmlu_stories260K"] = dict(subjects=subjects, limit=limit, shots=5, letter_ids=letter_ids(sp5),
                                      items=score_mmlu(stories, cfg, sp5, items))
    print("mmlu stories260K: shots", [it["shots"] for it in items], "truncated", sum(it["truncated"] for it in items))

    # MMLU on the random Llama-2-vocabulary model: context 4096, so the 2048 limit applies.
    rcfg, rstate = hashed_llama2_vocab_model()
    r_subjects, r_limit = ["abstract_algebra", "high_school_european_history"], 4
    r_items = [it for s in r_subjects for it in mmlu_items(sp2, s, 5, r_limit, 2048)]
    result["mmlu_random_llama2_vocab"] = dict(subjects=r_subjects, limit=r_limit, shots=5,
                                              probe=hashed_uniform(0, (4,), 1.0).tolist(),
                                              items=score_mmlu(rstate, rcfg, sp2, r_items))
    print("mmlu random llama2-vocab: shots", [it["shots"] for it in r_items], "tokens", [len(it["ids"]) for it in r_items])

    # zero-shot multiple choice on stories260K
    tasks = os.path.join(SHARED, "tasks")
    mc = {}
    mc["arc_easy"] = (docs_arc(os.path.join(tasks, "arc", "ARC-Easy-Test.jsonl"), 100), False, True)
    mc["arc_challenge"] = (docs_arc(os.path.join(tasks, "arc", "ARC-Challenge-Test.jsonl"), 130), False, True)
    piqa = os.path.join(tasks, "piqa")
    mc["piqa"] = (docs_piqa(os.path.join(piqa, "valid.jsonl"), os.path.join(piqa, "valid-labels.lst"), 100), False, True)
    mc["piqa_bos"] = (docs_piqa(os.path.join(piqa, "valid.jsonl"), os.path.join(piqa, "valid-labels.lst"), 10), True, True)
    mc["hellaswag"] = (docs_hellaswag(os.path.join(OUT, "hellaswag", "hellaswag_val.jsonl")), False, True)
    mc["winogrande"] = (docs_winogrande(os.path.join(OUT, "winogrande", "dev.jsonl")), False, False)
    mc["boolq"] = (docs_boolq(os.path.join(OUT, "boolq", "val.jsonl")), False, False)
    result["multiple_choice_stories260K"] = {}
    for name, (docs, bos, has_norm) in mc.items():
        scored = score_docs(stories, cfg, sp5, docs, bos, has_norm)
        scored["bos"] = bos
        if name not in ("hellaswag", "winogrande", "boolq"):   # shared data: the strings stay there
            for d in scored["docs"]:
                del d["contexts"], d["choices"]
        result["multiple_choice_stories260K"][name] = scored
        print(name, scored["summary"])

    with open(os.path.join(OUT, "tasks_reference.json"), "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.join(OUT, "tasks_reference.json"))


if __name__ == "__main__":
    main()
