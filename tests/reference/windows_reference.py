#!/usr/bin/env python3
"""Writes tests/data/windows_reference.json: what the reference Python code picks, with
CPython's real `random`, for the evaluation and calibration samplers and the text readers
that tests/test_{text_sources,eval_windows,calibration}.cpp check exactly.

    /usr/bin/python3 tests/reference/windows_reference.py [SHARED_DATA_DIR]

The samplers below follow, line for line, GPTQ/OmniQuant `get_c4` (evaluation part) and
RILQ `rilq_utils/data.py` + `calib_data_loader.py` (calibration). The tokenizer is the toy
one the C++ tests define: id = byte + 3 for each UTF-8 byte, BOS = 1 first (HF adds BOS).
"""
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data")
BOS = 1


def tokenize(text):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return [BOS] + [b + 3 for b in data]


def sha(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


# ---- text sources --------------------------------------------------------------------

def hf_wikitext_rows(path):
    # HF's wikitext builder: `for row in f: yield row if row.strip() else ""` (text mode).
    with open(path, encoding="utf-8") as f:
        return [row if row.strip() else "" for row in f]


def heading_level(row):
    # " = T = ", " = = T = = ": count "= " after the first space and " =" before the last one.
    line = row[:-1] if row.endswith("\n") else row
    if len(line) < 5 or line[0] != " " or line[-1] != " ":
        return 0
    lead, pos = 0, 1
    while line[pos:pos + 2] == "= ":
        lead, pos = lead + 1, pos + 2
    trail, end = 0, len(line) - 1
    while end >= 2 and line[end - 2:end] == " =":
        trail, end = trail + 1, end - 2
    return lead if lead > 0 and lead == trail and end > pos else 0


def rebuild_layout(nonblank):
    rows = []
    for k, row in enumerate(nonblank):
        level = heading_level(row)
        if not level:
            rows.append(row)
            continue
        if level == 1 and k > 0:
            rows.append("")
        rows += ["", row, ""]
    rows.append("")
    return rows


def eval_text(rows):
    return "\n\n".join(rows)


def calib_text(rows):
    return "".join([" \n" if s == "" else s for s in rows[:1000]])


def text_record(rows):
    e, c = eval_text(rows), calib_text(rows)
    return {"rows": len(rows), "eval_bytes": len(e.encode("utf-8")), "eval_sha256": sha(e),
            "calib_bytes": len(c.encode("utf-8")), "calib_sha256": sha(c)}


def c4_docs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


# ---- GPTQ / OmniQuant c4 evaluation sampling ------------------------------------------

def gptq_c4_eval(docs, seqlen, nwindows):
    random.seed(0)
    out = []
    for _ in range(nwindows):
        draws = 0
        while True:
            i = random.randint(0, len(docs) - 1)
            draws += 1
            tmp = tokenize(docs[i])
            if len(tmp) >= seqlen:
                break
        doc = i
        i = random.randint(0, len(tmp) - seqlen - 1)
        window = tmp[i:i + seqlen]
        out.append([0, doc, i, draws, sum(window), window[0]])
    return out


def stream_eval(ids, seqlen):
    n = len(ids) // seqlen
    first, last = ids[:seqlen], ids[(n - 1) * seqlen:n * seqlen]
    return {"stream_tokens": len(ids), "n_windows": n, "first_sum": sum(first), "last_sum": sum(last)}


# ---- RILQ calibration ----------------------------------------------------------------

def rilq_c4(docs, seqlen, nsamples, source):
    dataset = []
    for _ in range(nsamples):
        draws = 0
        while True:
            i = random.randint(0, len(docs) - 1)
            draws += 1
            enc = tokenize(docs[i])
            if len(enc) > seqlen:
                break
        doc = i
        i = random.randint(0, len(enc) - seqlen - 1)
        window = enc[i:i + seqlen]
        dataset.append([source, doc, i, draws, sum(window)])
    return dataset


def rilq_stream(enc, seqlen, nsamples, source):
    dataset = []
    for _ in range(nsamples):
        i = random.randint(0, len(enc) - seqlen - 1)
        window = enc[i:i + seqlen]
        dataset.append([source, -1, i, 0, sum(window)])
    return dataset


def rilq_calibration(sources, seqlen, val_ratio, seed=42):
    """sources: list of (kind, loaded data, n). Mirrors get_calib_dataset + get_dataset."""
    random.seed(seed)
    tot, v_tot = [], []
    for index, (kind, data, n) in enumerate(sources):
        if n == 0:
            continue
        random.seed(seed)  # get_dataset
        if kind == "c4":
            each = rilq_c4(data, seqlen, n, index)
        else:
            each = rilq_stream(data, seqlen, n, index)
        if val_ratio:
            val_num = int(n * val_ratio)
            v_tot.extend(each[-val_num:])
            tot.extend(each[:-val_num])
        else:
            tot.extend(each)
    random.shuffle(tot)
    if val_ratio:
        random.shuffle(v_tot)
    return {"train": tot, "val": v_tot}


def main():
    wt_test = os.path.join(SHARED, "wikitext-2", "test.txt")
    wt_valid = os.path.join(SHARED, "wikitext-2", "valid.txt")
    wt_raw = os.path.join(SHARED, "wikitext-2-raw", "wiki.test.raw")
    c4_path = os.path.join(SHARED, "c4", "c4_demo.jsonl")
    ts_path = os.path.join(SHARED, "tinystories", "tinystories_val.txt")

    ref = {"tokenizer": "byte+3 with BOS=1", "sources": {}, "eval": {}, "calibration": {}}

    hf_test = hf_wikitext_rows(wt_test)
    rebuilt_test = rebuild_layout([r for r in hf_test if r])
    raw_rows = hf_wikitext_rows(wt_raw)
    assert all(raw_rows), "wiki.test.raw was expected to have no blank lines"
    rebuilt_raw = rebuild_layout(raw_rows)
    ref["sources"]["wikitext2_test_txt"] = text_record(hf_test)
    ref["sources"]["wikitext2_test_txt_rebuilt"] = text_record(rebuilt_test)
    ref["sources"]["wikitext2_test_txt_rebuilt"]["rows_equal_by_position"] = sum(
        1 for a, b in zip(hf_test, rebuilt_test) if a == b)
    ref["sources"]["wikitext2_wiki_test_raw"] = text_record(rebuilt_raw)
    ref["sources"]["wikitext2_wiki_test_raw"]["nonblank_rows"] = len(raw_rows)
    docs = c4_docs(c4_path)
    ref["sources"]["c4_demo"] = {"documents": len(docs), "bytes": sum(len(d.encode("utf-8")) for d in docs),
                                 "joined_sha256": sha("\n".join(docs)), "first_doc_head": docs[0][:60]}

    ref["eval"]["c4_demo_seqlen1024_w32"] = gptq_c4_eval(docs, 1024, 32)
    ref["eval"]["c4_demo_seqlen4096_w8"] = gptq_c4_eval(docs, 4096, 8)
    ref["eval"]["wikitext2_test_txt_seqlen2048"] = stream_eval(tokenize(eval_text(hf_test)), 2048)
    ref["eval"]["wikitext2_wiki_test_raw_seqlen2048"] = stream_eval(tokenize(eval_text(rebuilt_raw)), 2048)
    with open(ts_path, "rb") as f:
        ts_ids = tokenize(f.read())
    ref["eval"]["tinystories_seqlen4096"] = stream_eval(ts_ids, 4096)

    valid_ids = tokenize(calib_text(hf_wikitext_rows(wt_valid)))
    ref["calibration"]["c4_L512_n40_r0.2"] = rilq_calibration([("c4", docs, 40)], 512, 0.2)
    ref["calibration"]["text_L256_n20_r0.2"] = rilq_calibration([("text", ts_ids, 20)], 256, 0.2)
    ref["calibration"]["wikitext2_valid_L256_n10_r0.2"] = rilq_calibration([("wikitext2", valid_ids, 10)], 256, 0.2)
    ref["calibration"]["mix_c4_12_text_8_L512_r0.25"] = rilq_calibration(
        [("c4", docs, 12), ("text", ts_ids, 8)], 512, 0.25)
    ref["calibration"]["c4_L512_n6_r0"] = rilq_calibration([("c4", docs, 6)], 512, 0.0)

    with open(os.path.join(HERE, "..", "data", "windows_reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
