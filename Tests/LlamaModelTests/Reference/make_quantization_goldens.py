#!/usr/bin/env python3
"""Golden rows for InferScope's Quantization tests, produced by the `gguf` Python package
(its numpy ports of ggml's reference quantizers) and numpy's IEEE float16 conversion —
an implementation independent of ours.

Usage: python3 make_quantization_goldens.py > quantization_goldens.txt

Output, one row per line: `TYPE INPUT_HEX OUTPUT_HEX` where INPUT_HEX is the little-endian
bytes of the float32 inputs and OUTPUT_HEX the stored bytes of the quantized row.
"""
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

rng = np.random.default_rng(20240611)
rows = []
rows.append(rng.normal(0, 0.02, 64).astype(np.float32))
rows.append(rng.normal(0, 1.0, 96).astype(np.float32))
rows.append(np.zeros(32, dtype=np.float32))                      # all-zero block: d = 0
ties = np.array([127, 62.5, -62.5, 0.5, -0.5, 1.5, 2.5, -126.5] + [3.25] * 24, dtype=np.float32)
rows.append(ties)                                                # q8_0 rounding ties (away from zero)
rows.append(np.array([-8, 7.5, 3.5, -0.5, 0.49] + [1] * 27, dtype=np.float32))    # q4_0 edges
rows.append(np.array([1e-8, 65504, 70000, -1e-5, 6.1e-5, 2**-24, 3 * 2**-25] + [0.1] * 25,
                     dtype=np.float32))                          # f16 subnormals, overflow, ties

for name, t in (("f16", T.F16), ("q8_0", T.Q8_0), ("q4_0", T.Q4_0)):
    for r in rows:
        if name == "f16":
            out = r.astype(np.float16).tobytes()
        else:
            out = quantize(r.reshape(1, -1), t).tobytes()
        print(name, r.tobytes().hex(), out.hex())
