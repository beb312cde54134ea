#!/usr/bin/python3
"""An independent safetensors writer, written from the format description alone, and the
fixture that tests/test_safetensors.cpp reads and must reproduce byte for byte.

Format (https://github.com/huggingface/safetensors, README "Format"):
  8 bytes  little-endian u64 N = header size
  N bytes  UTF-8 JSON object {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}}
           written compactly and padded with spaces to a multiple of 8 (what the Python library does)
  rest     raw little-endian tensor bytes; data_offsets are relative to the start of this area

The `safetensors` Python package is not installed on the build machine (nor packaged by Debian
12), so this uses only struct / json / numpy.

Run: /usr/bin/python3 tests/reference/make_safetensors_fixture.py
Writes tests/data/safetensors/reference.safetensors and reference_values.json.
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "data", "safetensors")


def float32_to_bf16_bits(values):
    """Round float32 values to bfloat16 (round to nearest, ties to even) and return the uint16 bits."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = 0x7FFF + ((bits >> 16) & 1)
    return ((bits + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_float32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


# numpy dtype of the stored bytes for each safetensors dtype (BF16 stored as its uint16 bits).
NUMPY_STORAGE = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
    "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1",
}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype string, shape, numpy array already in storage form)."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    blobs = []
    offset = 0
    for name, dtype, shape, array in tensors:
        raw = np.ascontiguousarray(array, dtype=NUMPY_STORAGE[dtype]).tobytes()
        count = int(np.prod(shape)) if len(shape) else 1
        assert len(raw) == count * np.dtype(NUMPY_STORAGE[dtype]).itemsize, name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    f32 = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / 4.0
    f32[0, 0] = -0.0
    f32[2, 3] = 3.0e38
    bf16_source = np.array([1.0, -2.5, 3.14159265, 1e-3, 65504.0, -1e30], dtype=np.float32)
    bf16_bits = float32_to_bf16_bits(bf16_source)
    f16 = np.array([[0.5, -1.25, 3.140625], [65504.0, 6.1035156e-05, -0.0]], dtype=np.float16)
    f64 = np.array([1.0 / 3.0, -2.0e-300], dtype=np.float64)
    i64 = np.array([[-(2 ** 62), -1], [0, 2 ** 40 + 7]], dtype=np.int64)
    i32 = np.array([-2147483648, 2147483647, 5], dtype=np.int32)
    i16 = np.array([-32768, 12345], dtype=np.int16)
    i8 = np.array([-128, 0, 127], dtype=np.int8)
    u8 = np.array([0, 200, 255], dtype=np.uint8)
    boolean = np.array([True, False, True, True], dtype=np.uint8)
    tensors = [
        ("embed.weight", "F32", [3, 4], f32),
        ("scale.bf16", "BF16", [2, 3], bf16_bits.reshape(2, 3)),
        ("half", "F16", [2, 3], f16),
        ("empty", "F32", [0, 3], np.zeros((0, 3), dtype=np.float32)),
        ("double", "F64", [2], f64),
        ("ids", "I64", [2, 2], i64),
        ("i32", "I32", [3], i32),
        ("i16", "I16", [2], i16),
        ("i8", "I8", [3], i8),
        ("u8", "U8", [3], u8),
        ("mask", "BOOL", [4], boolean),
        ("scalar", "F32", [], np.array(7.5, dtype=np.float32)),
    ]
    metadata = {"format": "pt", "note": "written by make_safetensors_fixture.py (caf\u00e9)"}
    write_safetensors(os.path.join(OUT_DIR, "reference.safetensors"), tensors, metadata)

    # The values as a reader should see them, in file order. Floats are written by repr, which
    # round-trips exactly; bf16 values are given after rounding.
    values = {
        "metadata": metadata,
        "order": [t[0] for t in tensors],
        "tensors": {
            "embed.weight": {"dtype": "F32", "shape": [3, 4], "values": [float(v) for v in f32.ravel()]},
            "scale.bf16": {"dtype": "BF16", "shape": [2, 3],
                           "values": [float(v) for v in bf16_bits_to_float32(bf16_bits)]},
            "half": {"dtype": "F16", "shape": [2, 3], "values": [float(v) for v in f16.ravel()]},
            "empty": {"dtype": "F32", "shape": [0, 3], "values": []},
            "double": {"dtype": "F64", "shape": [2], "values": [float(v) for v in f64]},
            "ids": {"dtype": "I64", "shape": [2, 2], "values": [int(v) for v in i64.ravel()]},
            "i32": {"dtype": "I32", "shape": [3], "values": [int(v) for v in i32]},
            "i16": {"dtype": "I16", "shape": [2], "values": [int(v) for v in i16]},
            "i8": {"dtype": "I8", "shape": [3], "values": [int(v) for v in i8]},
            "u8": {"dtype": "U8", "shape": [3], "values": [int(v) for v in u8]},
            "mask": {"dtype": "BOOL", "shape": [4], "values": [int(v) for v in boolean]},
            "scalar": {"dtype": "F32", "shape": [], "values": [7.5]},
        },
    }
    with open(os.path.join(OUT_DIR, "reference_values.json"), "w", encoding="utf-8") as f:
        json.dump(values, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.join(OUT_DIR, "reference.safetensors"))


if __name__ == "__main__":
    main()
