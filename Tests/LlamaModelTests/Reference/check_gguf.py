#!/usr/bin/env python3
"""Reads a GGUF file with the `gguf` Python package (independent of InferScope's reader) and
prints a JSON summary: scalar metadata, vocabulary digests, and per tensor its shape, type,
FNV-1a 64 of its raw bytes and the sum / sum of squares of its dequantized values.

Usage: python3 check_gguf.py FILE.gguf
"""
import json
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType
from gguf.quants import dequantize


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return format(h, "016x")


def field_value(field):
    if field.types[0] == GGUFValueType.ARRAY:
        return None
    if field.types[0] == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    v = field.parts[field.data[0]][0]
    return v.item()


reader = GGUFReader(sys.argv[1])
out = {"metadata": {}, "tensors": {}}
for name, field in reader.fields.items():
    if name.startswith("GGUF."):
        continue
    v = field_value(field)
    if v is not None:
        out["metadata"][name] = v
tokens = reader.fields["tokenizer.ggml.tokens"]
out["vocab"] = {
    "count": len(tokens.data),
    "first": [bytes(tokens.parts[i]).decode("utf-8") for i in tokens.data[:300]],
    "last": bytes(tokens.parts[tokens.data[-1]]).decode("utf-8"),
    "score_sum": float(sum(float(reader.fields["tokenizer.ggml.scores"].parts[i][0])
                            for i in reader.fields["tokenizer.ggml.scores"].data)),
    "type_counts": {},
}
for i in reader.fields["tokenizer.ggml.token_type"].data:
    t = str(int(reader.fields["tokenizer.ggml.token_type"].parts[i][0]))
    out["vocab"]["type_counts"][t] = out["vocab"]["type_counts"].get(t, 0) + 1
for t in reader.tensors:
    raw = np.asarray(t.data).tobytes()
    values = dequantize(np.asarray(t.data), t.tensor_type).astype(np.float64).ravel()
    out["tensors"][t.name] = {
        "shape": [int(x) for x in t.shape],
        "type": int(t.tensor_type),
        "fnv": fnv1a64(raw),
        "sum": float(values.sum()),
        "sumsq": float((values * values).sum()),
    }
print(json.dumps(out, sort_keys=True))
