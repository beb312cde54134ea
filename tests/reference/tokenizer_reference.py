#!/usr/bin/python3
"""Reference token ids for tests/test_tokenizer_*.cpp, computed independently of our C++.

    /usr/bin/python3 tests/reference/tokenizer_reference.py      (needs python3-sentencepiece, python3-regex)
    /usr/bin/python3 tests/reference/tokenizer_reference.py --full-json /tmp/tokenizer.json
                     (only the full 128,256-token Llama-3 tokenizer.json, not committed)

Writes
  tests/data/tokenizer_cases.json        texts (or slices of /work/shared/data files) and, per
                                         tokenizer, the ids they must encode to (without BOS)
  tests/data/llama3_subset_tokenizer.json a small HF tokenizer.json: Llama-3's first 3000 ranks
                                         (all 256 bytes included) with merges derived the way
                                         transformers' TikTokenConverter derives them

Where each reference comes from:
  llama2_sp, stories_sp   the sentencepiece library (tokenizer.model, tok512.model)
  llama2_bin, stories_bin llama2.c run.c's encode() transcribed to Python as written (quadratic
                          rescan, no heap) over tokenizer.bin / tok512.bin
  llama3_tiktoken         tiktoken's algorithm (regex split with the `regex` module, whole-piece
                          lookup, then merge the lowest-rank pair, leftmost first) over Meta's
                          rank file plus Meta's 256 special tokens
  llama3_subset_json      HF BPE semantics over the subset tokenizer.json read back from disk
                          (bytes_to_unicode, merge rank = index in merges, ignore_merges);
                          *_no_ignore the same with ignore_merges false
  pretokens               byte lengths of the regex's pieces (edge cases only)
"""
import base64
import json
import os
import random
import struct
import sys

import regex
import sentencepiece as spm

DATA = os.environ.get("RILQ_SHARED_DATA", "/work/shared/data")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "tests", "data")
SUBSET_RANKS = 3000
# Full-vocabulary Llama-3 tokens that BPE merges cannot reach from their bytes (tiktoken finds
# them only by its whole-piece lookup; HF needs ignore_merges). Added to the subset after the
# special tokens so that model.ignore_merges changes ids there.
WHOLE_WORD_ONLY = [" việc", " Việt", " nhiều", "ıldı", " характ"]

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                  r"\s*[\r\n]+|\s+(?!\S)|\s+")


def llama3_special_tokens():
    # Meta's llama3 tokenizer.py (April 2024).
    return ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|reserved_special_token_2|>", "<|reserved_special_token_3|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>"] + [
        f"<|reserved_special_token_{i}|>" for i in range(5, 256 - 5)]


# ---------------------------------------------------------------- llama2.c run.c, as written
def load_llama2c(path):
    b = open(path, "rb").read()
    max_len = struct.unpack("<i", b[:4])[0]
    pieces, scores, off = [], [], 4
    while off < len(b):
        score, n = struct.unpack("<fi", b[off:off + 8])
        off += 8
        pieces.append(b[off:off + n])
        scores.append(score)
        off += n
    return pieces, scores, max_len


def runc_encode(vocab, text):
    pieces, scores, _ = vocab
    lookup = {}
    for i, p in enumerate(pieces):
        lookup.setdefault(p, i)
    data = text.encode("utf-8")
    tokens = []
    if data:
        tokens.append(lookup[b" "])
    buf = b""
    for i, c in enumerate(data):
        if (c & 0xC0) != 0x80:
            buf = b""
        buf += bytes([c])
        if i + 1 < len(data) and (data[i + 1] & 0xC0) == 0x80 and len(buf) < 4:
            continue
        if buf in lookup:
            tokens.append(lookup[buf])
        else:
            tokens.extend(x + 3 for x in buf)
        buf = b""
    while True:
        best_score, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            merged = pieces[tokens[i]] + pieces[tokens[i + 1]]
            tid = lookup.get(merged, -1)
            if tid != -1 and scores[tid] > best_score:
                best_score, best_id, best_idx = scores[tid], tid, i
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    return tokens


# ---------------------------------------------------------------- tiktoken's algorithm
def load_ranks(path):
    ranks = {}
    for line in open(path, "rb"):
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def tiktoken_bpe(ranks, piece):
    parts = [bytes([b]) for b in piece]
    while True:
        min_idx, min_rank = None, None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (min_rank is None or rank < min_rank):
                min_idx, min_rank = i, rank
        if min_rank is None:
            return [ranks[p] for p in parts]
        parts[min_idx:min_idx + 2] = [parts[min_idx] + parts[min_idx + 1]]


def tiktoken_encode(ranks, text):
    ids = []
    for piece in regex.findall(LLAMA3_PATTERN, text):
        b = piece.encode("utf-8")
        ids.extend([ranks[b]] if b in ranks else tiktoken_bpe(ranks, b))
    return ids


# ---------------------------------------------------------------- HF tokenizer.json, BPE model
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def write_subset_tokenizer_json(ranks, path, full=False):
    """The small fixture; with full=True all 128000 ranks and Meta's 256 specials at 128000+
    (what transformers' converter makes of Meta's file; too big to commit, see --full-json)."""
    enc = bytes_to_unicode()
    to_str = lambda b: "".join(enc[x] for x in b)
    if full:
        subset = dict(ranks)
        specials = llama3_special_tokens()
        first_special = len(ranks)
    else:
        subset = {t: r for t, r in ranks.items() if r < SUBSET_RANKS}
        specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        first_special = SUBSET_RANKS
        for i, word in enumerate(WHOLE_WORD_ONLY):
            token = word.encode("utf-8")
            assert token in ranks and tiktoken_bpe(ranks, token) != [ranks[token]]
            subset[token] = SUBSET_RANKS + len(specials) + i
    assert all(bytes([b]) in subset for b in range(256))
    merges = []
    for token, rank in subset.items():   # transformers' TikTokenConverter.extract_vocab_merges_from_model
        if len(token) == 1:
            continue
        local = []
        for index in range(1, len(token)):
            l, r = token[:index], token[index:]
            if l in subset and r in subset and (l + r) in subset:
                local.append((l, r, rank))
        local.sort(key=lambda x: (subset[x[0]], subset[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda v: v[2])
    added = [{"id": first_special + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(specials)]
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>",
                                                                                 "ids": [first_special],
                                                                                 "tokens": ["<|begin_of_text|>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": {to_str(t): r for t, r in sorted(subset.items(), key=lambda kv: kv[1])},
                  "merges": [f"{to_str(l)} {to_str(r)}" for l, r, _ in merges]},
    }
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    return subset, len(merges)


class HfBpe:
    """HF tokenizers' byte-level BPE, from the tokenizer.json as written on disk."""

    def __init__(self, path, ignore_merges):
        doc = json.load(open(path, encoding="utf-8"))
        model = doc["model"]
        self.vocab = model["vocab"]
        self.merge_rank = {}
        for i, m in enumerate(model["merges"]):
            l, r = m.split(" ") if isinstance(m, str) else m
            self.merge_rank[(l, r)] = i
        self.pattern = doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        self.enc = bytes_to_unicode()
        self.ignore_merges = ignore_merges

    def encode(self, text):
        ids = []
        for piece in regex.findall(self.pattern, text):
            word = "".join(self.enc[b] for b in piece.encode("utf-8"))
            if self.ignore_merges and word in self.vocab:
                ids.append(self.vocab[word])
                continue
            symbols = list(word)
            while True:
                best, best_i = None, None
                for i in range(len(symbols) - 1):
                    rank = self.merge_rank.get((symbols[i], symbols[i + 1]))
                    if rank is not None and (best is None or rank < best):
                        best, best_i = rank, i
                if best is None:
                    break
                symbols[best_i:best_i + 2] = [symbols[best_i] + symbols[best_i + 1]]
            ids.extend(self.vocab[s] for s in symbols)
        return ids


# ---------------------------------------------------------------- texts
def file_slice(rel, start_marker, length):
    """A byte slice of a shared data file starting at a line, ending at a line end (UTF-8 safe)."""
    raw = open(os.path.join(DATA, rel), "rb").read()
    start = raw.index(start_marker.encode("utf-8"))
    start = raw.rfind(b"\n", 0, start) + 1
    end = raw.find(b"\n", start + length) + 1
    return {"source": rel, "byte_offset": start, "byte_length": end - start}, raw[start:end].decode("utf-8")


def c4_slice(line_index, max_bytes):
    lines = open(os.path.join(DATA, "c4/c4_demo.jsonl"), encoding="utf-8").read().split("\n")
    text = json.loads(lines[line_index])["text"].encode("utf-8")
    n = min(max_bytes, len(text))
    while n < len(text) and (text[n] & 0xC0) == 0x80:   # not inside a character
        n -= 1
    return {"source": "c4/c4_demo.jsonl", "jsonl_line": line_index, "field": "text", "byte_offset": 0,
            "byte_length": n}, text[:n].decode("utf-8")


def pick_c4_non_ascii():
    lines = open(os.path.join(DATA, "c4/c4_demo.jsonl"), encoding="utf-8").read().split("\n")
    wanted = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        text = json.loads(line)["text"][:900]
        letters = sum(1 for ch in text if ord(ch) > 127 and regex.match(r"\p{L}", ch))
        if letters >= 3:
            wanted.append(i)
    return wanted


def stress_text():
    rng = random.Random(20240607)
    atoms = ["a", "Z", "word", "Ünïcödé", "é", "e\u0301", "ß", "東京", "😀", "👩\u200d💻", " ", "  ", "   ", "\t", "\n",
             "\r\n", "\r", "\n\n", "'", "'s", "'LL", "'Re", "'\u017f", "'x", "1", "23", "4567", "٣٤", "Ⅻ", "²", ".",
             ",", "!!", "-", "_", "$", "\u00a0", "\u3000", "\u2028", "\u000b", "<|eot_id|>", "(", ")", "\"", "…"]
    return "".join(rng.choice(atoms) for _ in range(200))


EDGE_CASES = [
    ("once_upon", "Once upon a time"),
    ("empty", ""),
    ("single_space", " "),
    ("leading_trailing_spaces", "  leading and trailing  "),
    ("space_runs", "a  b   c    d"),
    ("accents_precomposed", "Café naïve résumé façade Zürich"),
    ("accents_combining", "Cafe\u0301 nai\u0308ve"),
    ("cjk", "東京は日本の首都です。我爱北京天安门！"),
    ("emoji", "I \u2764\ufe0f \U0001F999 and \U0001F469\u200d\U0001F4BB!"),
    ("digit_runs", "1234567 and 3.14159, 2024-01-01, 1,000,000 x42y"),
    ("unicode_numbers", "\u0663\u0664\u0665\u0666 \u216b\u2163 x\u00b2\u00b3"),
    ("tabs", "tab\tseparated\tvalues\t\tend"),
    ("newlines", "\n\n\n"),
    ("crlf", "line one\r\nline two\r\n\r\nend"),
    ("whitespace_lines", "   \n  \n\t\n x"),
    ("trailing_spaces", "trailing spaces   "),
    ("long_space_run", " " * 40 + "x"),
    ("contractions", "I'll go. DON'T stop! We've, they're, she'd, I'm, it's, O'Neil 'sup"),
    ("contraction_long_s", "IT'\u017f and it'S"),
    ("code", "def f(x):\n    return x**2  # square\n"),
    ("punctuation", "Hello,world!!! ...?! (a) [b] {c} <d> \"e\" --f"),
    ("special_token_text", "<|begin_of_text|>hello<|eot_id|> <s> </s> <unk>"),
    ("byte_token_text", "<0x41> <0x0A>"),
    ("byte_fallback_512", "Zürich ß Ω ж \U0001F600 © \u2603"),
    ("nbsp_ideographic_space", "a\u00a0b\u3000c\u2028d"),
    ("whole_piece_lookup", "Tôi làm việc ở Việt Nam, nhiều điều hợp lý. Gidiyormektedir, bulundu, oldu, yapıldı. характер"),
    ("stress", stress_text()),
]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--full-json":
        # Writes only the full-vocabulary tokenizer.json (about 9 MB) to the given path, for
        # comparing our tokenizer.json loader with our tiktoken loader on large texts.
        ranks = load_ranks(os.path.join(DATA, "llama3-tokenizer/tokenizer.model"))
        _, n_merges = write_subset_tokenizer_json(ranks, sys.argv[2], full=True)
        print(f"{sys.argv[2]}: {n_merges} merges, {os.path.getsize(sys.argv[2])} bytes")
        return 0
    sp_llama2 = spm.SentencePieceProcessor(model_file=os.path.join(DATA, "llama2-tokenizer/tokenizer.model"))
    sp_stories = spm.SentencePieceProcessor(model_file=os.path.join(DATA, "stories260K/tok512.model"))
    bin_llama2 = load_llama2c(os.path.join(DATA, "llama2-tokenizer/tokenizer.bin"))
    bin_stories = load_llama2c(os.path.join(DATA, "stories260K/tok512.bin"))
    ranks = load_ranks(os.path.join(DATA, "llama3-tokenizer/tokenizer.model"))
    assert len(ranks) == 128000

    os.makedirs(OUT_DIR, exist_ok=True)
    subset_path = os.path.join(OUT_DIR, "llama3_subset_tokenizer.json")
    subset, n_merges = write_subset_tokenizer_json(ranks, subset_path)
    hf = HfBpe(subset_path, ignore_merges=True)
    hf_no_ignore = HfBpe(subset_path, ignore_merges=False)

    passages = []
    ref, text = file_slice("wikitext-2-raw/wiki.test.raw", " = Robert Boulter = ", 500)
    passages.append(("wikitext_start", ref, text))
    ref, text = file_slice("wikitext-2-raw/wiki.test.raw", " = = = 2006 \u2013 present = = = ", 300)
    passages.append(("wikitext_heading_numbers", ref, text))
    ref, text = file_slice("wikitext-2-raw/wiki.test.raw", "Satellite Images of Selected Tropical Storms", 100)
    passages.append(("wikitext_satellite", ref, text))
    non_ascii = pick_c4_non_ascii()
    for line_index in [0] + non_ascii[:2]:
        ref, text = c4_slice(line_index, 600)
        passages.append((f"c4_doc{line_index}", ref, text))
    ref, text = file_slice("tinystories/tinystories_val.txt", "Spot. Spot saw the shiny car", 500)
    passages.append(("tinystories_start", ref, text))
    ref, text = file_slice("tinystories/tinystories_val.txt", "Once upon a time", 600)
    passages.append(("tinystories_once", ref, text))

    cases = []
    for name, ref, text in passages:
        cases.append({"name": name, "slice": ref, "text": text})
    for name, text in EDGE_CASES:
        cases.append({"name": name, "text": text, "pretokens": [len(p.encode("utf-8")) for p in
                                                                  regex.findall(LLAMA3_PATTERN, text)]})

    subset_tiktoken_disagree = []
    sp_vs_bin = {"llama2": [], "stories": []}
    for case in cases:
        text = case["text"]
        ids = {
            "llama2_sp": sp_llama2.encode(text),
            "stories_sp": sp_stories.encode(text),
            "llama2_bin": runc_encode(bin_llama2, text),
            "stories_bin": runc_encode(bin_stories, text),
            "llama3_tiktoken": tiktoken_encode(ranks, text),
            "llama3_subset_json": hf.encode(text),
            "llama3_subset_json_no_ignore": hf_no_ignore.encode(text),
        }
        if ids["llama3_subset_json"] != tiktoken_encode(subset, text):
            subset_tiktoken_disagree.append(case["name"])
        for family in sp_vs_bin:
            if ids[family + "_sp"] != ids[family + "_bin"]:
                sp_vs_bin[family].append(case["name"])
        # Sanity: every reference decodes back to the text.
        assert sp_llama2.decode(ids["llama2_sp"]) == text or case["name"] in ("leading_trailing_spaces",)
        inverse = {r: t for t, r in ranks.items()}
        assert b"".join(inverse[i] for i in ids["llama3_tiktoken"]).decode("utf-8") == text
        case["ids"] = ids
        if "slice" in case:
            del case["text"]   # the test reads the slice from /work/shared/data

    whole_word = next(c for c in cases if c["name"] == "whole_piece_lookup")["ids"]
    assert whole_word["llama3_subset_json"] != whole_word["llama3_subset_json_no_ignore"]
    notes = {
        "subset_json_vs_tiktoken_subset_ranks_disagree": subset_tiktoken_disagree,
        "sentencepiece_vs_runc_disagree": sp_vs_bin,
        "subset_ranks": SUBSET_RANKS,
        "subset_merges": n_merges,
        "subset_specials_start": SUBSET_RANKS,
    }
    out = os.path.join(OUT_DIR, "tokenizer_cases.json")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("{\n\"generator\": \"tests/reference/tokenizer_reference.py\",\n")
        f.write("\"notes\": " + json.dumps(notes, ensure_ascii=False) + ",\n\"cases\": [\n")
        f.write(",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases))
        f.write("\n]\n}\n")
    print(json.dumps(notes, indent=1))
    for path in (out, subset_path):
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
