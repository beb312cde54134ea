#!/usr/bin/env python3
"""Writes tests/data/python_random_reference.json: outputs of CPython's own `random` module
for the seeds and calls tests/test_python_random.cpp replays with rilq::PythonRandom.

Run with the system interpreter (CPython 3.11 on Debian 12):
    /usr/bin/python3 tests/reference/python_random_reference.py
Every call sequence below is mirrored exactly in the C++ test, so the RNG state advances
the same way on both sides.
"""
import json
import os
import random
import sys

# Seeds: the two the protocols use (0: GPTQ C4 eval, 42: RILQ calibration), one that needs
# two 32-bit words, one larger than 2**64 (three words), and a negative one (Python uses abs).
SEEDS = {
    "0": 0,
    "42": 42,
    "2^32+7": 2**32 + 7,
    "12345678901234567890": 12345678901234567890,
    "2^70+3": 2**70 + 3,
    "-42": -42,
}

# (a, b) ranges for randint, including n = 1, powers of two on both sides of a boundary, a
# range one past 2^32 and ranges far beyond 2^32 (these need getrandbits(k > 32)).
RANGES = [(0, 0), (0, 1), (0, 9), (1, 6), (-5, 5), (0, 255), (0, 256), (0, 299),
          (0, 2**31 - 1), (0, 2**32 - 1), (0, 2**32), (0, 10**12), (-(2**40), 2**40),
          (0, 2**63 - 1), (0, 45575)]


def record(rng):
    out = {}
    out["uint32"] = [rng.getrandbits(32) for _ in range(8)]
    out["randint"] = [[a, b, [rng.randint(a, b) for _ in range(6)]] for a, b in RANGES]
    out["random"] = [rng.random().hex() for _ in range(6)]
    out["getrandbits"] = [[k, [rng.getrandbits(k) for _ in range(3)]] for k in (1, 7, 31, 32, 33, 48, 63, 64)]
    items = list(range(10))
    rng.shuffle(items)
    out["shuffle10"] = items
    items = list(range(1, 101))
    rng.shuffle(items)
    out["shuffle100"] = items
    out["choice"] = [rng.choice(["a", "b", "c", "d", "e"]) for _ in range(5)]
    out["randrange"] = [[a, b, [rng.randrange(a, b) for _ in range(4)]] for a, b in ((0, 7), (10, 1000), (-3, 3))]
    return out


def main():
    result = {"python": sys.version.split()[0], "seeds": {}}
    for name, seed in SEEDS.items():
        rng = random.Random()
        rng.seed(seed)
        result["seeds"][name] = record(rng)
    # The module-level functions share the same class; check the exact calls the protocols make.
    random.seed(0)
    result["module_seed0_randint_45575"] = [random.randint(0, 45575) for _ in range(5)]
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "data", "python_random_reference.json")
    with open(path, "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
