#!/usr/bin/python3
"""Independent reference for the pivot-table writers (core/report): writes the golden files in
tests/data/report/ that tests/test_report.cpp compares against byte for byte.

Means and standard deviations for the JSON/CSV numbers use the same IEEE operations in the
same order as the C++ (values sorted ascending, summed from 0; a run's average summed in column
order). Printed (Markdown/LaTeX) numbers are computed *exactly* in decimal from the inputs as
written (fractions.Fraction, decimal half-up rounding), which is what the README's rounding
means (453.985 -> 453.99); the C++ gets there with binary floats and must agree.

Run:  /usr/bin/python3 tests/reference/make_report_goldens.py
"""
import json
import math
import os
from decimal import Decimal, ROUND_HALF_UP, getcontext
from fractions import Fraction

getcontext().prec = 50
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "report")
PM = "\u00b1"


def shortest(x):
    """Fewest significant digits that read back as x; positional unless very large or small."""
    for p in range(1, 18):
        s = "%.*g" % (p, x)
        if float(s) == x:
            break
    if "e" in s and 1e-5 <= abs(x) < 1e16:
        exponent = int(s.split("e")[1])
        s = "%.*f" % (max(0, p - 1 - exponent), x)
    return s


def exact_fixed(fr, decimals=2):
    """A Fraction rounded half away from zero to `decimals` places."""
    q = Decimal(fr.numerator) / Decimal(fr.denominator)
    return str(q.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def exact_std_text(values, decimals=2):
    fr = [Fraction(repr(v)) for v in values]
    mean = sum(fr) / len(fr)
    var = sum((v - mean) ** 2 for v in fr) / (len(fr) - 1)
    root = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
    return str(root.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def float_stats(values):
    vs = sorted(values)
    total = 0.0
    for v in vs:
        total += v
    mean = total / len(vs)
    std = 0.0
    if len(vs) > 1:
        sq = 0.0
        for v in vs:
            sq += (v - mean) * (v - mean)
        std = math.sqrt(sq / (len(vs) - 1))
    return mean, std


def build(spec):
    """spec: rows (key, label), columns (key, label), runs {run: {row, values {col: v}}}."""
    cols = spec["columns"]
    table = {"rows": []}
    for row_key, row_label in spec["rows"]:
        runs = {r: d for r, d in spec["runs"].items() if d["row"] == row_key}
        cells = []
        for col_key, _ in cols:
            vals = [d["values"][col_key] for r, d in sorted(runs.items()) if col_key in d["values"]]
            cells.append(cell(vals, [[v] for v in vals]))
        # Average: per run over all columns (column order), then across runs.
        avgs, avg_inputs = [], []
        for r, d in sorted(runs.items()):
            if all(c in d["values"] for c, _ in cols):
                vs = [d["values"][c] for c, _ in cols]
                total = 0.0
                for v in vs:
                    total += v
                avgs.append(total / len(vs))
                avg_inputs.append(vs)
        cells.append(cell(avgs, avg_inputs))
        table["rows"].append({"key": row_key, "label": row_label, "cells": cells})
    table["columns"] = [{"key": k, "label": l, "average": False} for k, l in cols]
    table["columns"].append({"key": "avg", "label": "Avg.", "average": True})
    if spec["mark_best"]:
        for c in range(len(table["columns"])):
            shown = [Decimal(r["cells"][c]["text_mean"]) for r in table["rows"] if r["cells"][c]]
            best = min(shown)
            for r in table["rows"]:
                if r["cells"][c]:
                    r["cells"][c]["best"] = Decimal(r["cells"][c]["text_mean"]) == best
    return table


def cell(float_values, exact_inputs):
    """float_values: what the C++ aggregates; exact_inputs: per run, the typed inputs it came from."""
    if not float_values:
        return None
    mean, std = float_stats(float_values)
    runs = [sum(Fraction(repr(v)) for v in inp) / len(inp) for inp in exact_inputs]
    exact_mean = sum(runs) / len(runs)
    out = {"mean": mean, "std": std, "n": len(float_values), "best": False,
           "text_mean": exact_fixed(exact_mean)}
    if len(float_values) > 1:
        var = sum((x - exact_mean) ** 2 for x in runs) / (len(runs) - 1)
        root = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
        out["text_std"] = str(root.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return out


def text(c, pm):
    t = c["text_mean"]
    if c["n"] > 1:
        t += pm + c["text_std"]
    return t


def markdown(spec, table):
    grid = [[spec["row_header"]] + [c["label"] for c in table["columns"]]]
    for r in table["rows"]:
        line = [r["label"]]
        for c in r["cells"]:
            t = text(c, " " + PM + " ") if c else "-"
            if c and c["best"]:
                t = "**" + t + "**"
            line.append(t)
        grid.append(line)
    widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
    out = []
    for i, line in enumerate(grid):
        out.append("|" + "|".join(" " + x.ljust(w) + " " for x, w in zip(line, widths)) + "|")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    s = "\n".join(out) + "\n"
    if spec["footer"]:
        s += "\n" + spec["footer"] + "\n"
    return s


def csv_field(s):
    if any(ch in s for ch in ',"\n\r') or (s and (s[0] == " " or s[-1] == " ")):
        return '"' + s.replace('"', '""') + '"'
    return s


def csv(spec, table):
    spread = any(c and c["n"] > 1 for r in table["rows"] for c in r["cells"])
    head = [csv_field(spec["row_header"])]
    for c in table["columns"]:
        head.append(csv_field(c["label"]))
        if spread:
            head.append(csv_field(c["label"] + " std"))
    lines = [",".join(head)]
    for r in table["rows"]:
        fields = [csv_field(r["label"])]
        for c in r["cells"]:
            fields.append(shortest(c["mean"]) if c else "")
            if spread:
                fields.append(shortest(c["std"]) if c and c["n"] > 1 else "")
        lines.append(",".join(fields))
    s = "\n".join(lines) + "\n"
    if spec["footer"]:
        s += "# " + spec["footer"] + "\n"
    return s


def tex_escape(s):
    out = []
    for ch in s:
        if ch == PM:
            out.append("$\\pm$")
        elif ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append("\\textasciitilde{}")
        elif ch == "^":
            out.append("\\textasciicircum{}")
        elif ch == "\\":
            out.append("\\textbackslash{}")
        else:
            out.append(ch)
    return "".join(out)


def latex(spec, table):
    ncols = len(table["columns"]) + 1
    lines = ["\\begin{tabular}{l" + "r" * (ncols - 1) + "}", "\\toprule",
             " & ".join([tex_escape(spec["row_header"])] + [tex_escape(c["label"]) for c in table["columns"]]) + " \\\\",
             "\\midrule"]
    for r in table["rows"]:
        cells = []
        for c in r["cells"]:
            t = text(c, " $\\pm$ ") if c else "--"
            if c and c["best"]:
                t = "\\textbf{" + t + "}"
            cells.append(t)
        lines.append(" & ".join([tex_escape(r["label"])] + cells) + " \\\\")
    lines.append("\\bottomrule")
    if spec["footer"]:
        lines.append("\\multicolumn{%d}{l}{\\footnotesize %s} \\\\" % (ncols, tex_escape(spec["footer"])))
    lines.append("\\end{tabular}")
    return "\n".join(lines) + "\n"


def as_json(spec, table):
    rows = []
    for r in table["rows"]:
        cells = [None if c is None else {"mean": c["mean"], "std": c["std"], "n": c["n"], "best": c["best"]}
                 for c in r["cells"]]
        rows.append({"key": r["key"], "label": r["label"], "cells": cells})
    doc = {"format_version": 1, "metric": "ppl", "lower_is_better": True, "row_header": spec["row_header"],
           "columns": table["columns"], "rows": rows, "protocol": spec["footer"]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(name, spec):
    table = build(spec)
    for ext, fn in (("md", markdown), ("csv", csv), ("tex", latex), ("json", as_json)):
        with open(os.path.join(OUT, name + "." + ext), "w", encoding="utf-8", newline="\n") as f:
            f.write(fn(spec, table))


# The RILQ README table (RTN W2A16G64 LLaMA-2-7B), one run per rank.
README = {"0": (433.65, 474.32), "16": (10.23, 12.00), "32": (10.01, 11.84), "64": (10.05, 11.79),
          "128": (10.12, 11.87)}
write("rilq_rank_sweep", {
    "row_header": "LoRA rank",
    "rows": [(k, "0 (wo RILQ)" if k == "0" else k) for k in ("0", "16", "32", "64", "128")],
    "columns": [("wikitext2", "Wiki2"), ("c4_val", "C4")],
    "runs": {"run" + k: {"row": k, "values": {"wikitext2": w, "c4_val": c}} for k, (w, c) in README.items()},
    "mark_best": False,
    "footer": "Protocol: RTN W2A16G64 (omniquant); PPL (compensated; quantized where nothing was compensated) "
              "at seqlen 2048, tokenizer llama2 sentencepiece; calibration c4 320 x 512, val 0.2; lr 0.0001",
})

# Several seeds per rank, a missing cell, a single-seed row, a tie for best.
SEEDS = {
    "0": {"s1": (120.0, 300.0), "s2": (121.0, 310.0), "s3": (119.0, 320.0)},
    "2": {"s1": (10.5, 23.25)},
    "4": {"s1": (9.1, 20.0), "s2": (9.2, 21.0), "s3": (9.3, 22.0)},
    "8": {"s1": (9.6, None), "s2": (9.8, None)},
    "16": {"s1": (9.0, 19.0), "s2": (9.4, 19.0), "s3": (9.2, 19.0)},
}
runs = {}
for rank, seeds in SEEDS.items():
    for seed, (tiny, wiki) in seeds.items():
        values = {"tiny": tiny}
        if wiki is not None:
            values["wiki"] = wiki
        runs["r%s-%s" % (rank, seed)] = {"row": rank, "values": values}
write("seeds_best", {
    "row_header": "LoRA rank",
    "rows": [(k, "0 (wo RILQ)" if k == "0" else k) for k in ("0", "2", "4", "8", "16")],
    "columns": [("tiny", "TinyStories"), ("wiki", "Wiki2")],
    "runs": runs,
    "mark_best": True,
    "footer": "Protocol: RTN W2A16G64 (omniquant); eval on tinystories_val.txt [0.5, 1); mean " + PM +
              " std over up to 3 runs",
})
print("wrote goldens to", os.path.normpath(OUT))
