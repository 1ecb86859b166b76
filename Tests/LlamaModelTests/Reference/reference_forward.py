#!/usr/bin/env python3
"""An independent numpy implementation of the Llama forward pass (float64), reading a GGUF
through the `gguf` Python package — for InferScope's golden-logit test.

Usage: python3 reference_forward.py MODEL.gguf TOKEN,TOKEN,... > golden_logits_tiny.json
(MODEL.gguf: `inferscope model export --preset tiny --type f32 -o MODEL.gguf`, seed 0.)

Conventions (docs/model-formats.md): RMSNorm x·w/sqrt(mean(x²)+ε); RoPE rotates adjacent
pairs (2i, 2i+1) of each head by pos·θ^(-2i/d_h) (GGML_ROPE_TYPE_NORM, the llama GGUF and
llama2.c convention); causal grouped-query attention with query head j reading KV head
j // (h / h_kv), scores scaled by 1/sqrt(d_h); SwiGLU MLP down(silu(gate·x) * (up·x)); final
RMSNorm then the LM head (`output.weight`, or `token_embd.weight` when absent).

Output: JSON with the tokens, the FNV-1a 64 digest of every tensor's bytes (so the test
knows it compares the same weights) and the logits of every position, %.9g.
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def scalar(reader, key):
    f = reader.fields[key]
    return f.parts[f.data[0]][0].item()


def main():
    reader = GGUFReader(sys.argv[1])
    tokens = [int(t) for t in sys.argv[2].split(",")]
    arch = bytes(reader.fields["general.architecture"].parts[reader.fields["general.architecture"].data[0]]).decode()
    assert arch == "llama", arch
    dim = scalar(reader, "llama.embedding_length")
    n_layers = scalar(reader, "llama.block_count")
    n_heads = scalar(reader, "llama.attention.head_count")
    n_kv = scalar(reader, "llama.attention.head_count_kv")
    eps = float(scalar(reader, "llama.attention.layer_norm_rms_epsilon"))
    theta = float(scalar(reader, "llama.rope.freq_base"))
    dh = dim // n_heads

    W = {}
    digest = 0
    for t in reader.tensors:
        raw = np.asarray(t.data)
        digest = fnv1a64(digest.to_bytes(8, "little") + raw.tobytes())
        # GGML ne = [cols, rows] → numpy (rows, cols).
        W[t.name] = dequantize(raw, t.tensor_type).astype(np.float64).reshape(list(reversed([int(x) for x in t.shape])))
    emb = W["token_embd.weight"]
    out_w = W.get("output.weight", emb)

    def rmsnorm(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    def rope(x, n):  # x: (T, n*dh)
        T = x.shape[0]
        x = x.reshape(T, n, dh // 2, 2).copy()
        pos = np.arange(T, dtype=np.float64)[:, None]
        freq = theta ** (-np.arange(0, dh, 2, dtype=np.float64) / dh)
        ang = pos * freq[None, :]                       # (T, dh/2)
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., 0], x[..., 1]
        return np.stack([a * c - b * s, a * s + b * c], axis=-1).reshape(T, n * dh)

    x = emb[tokens]                                     # (T, dim)
    T = len(tokens)
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for l in range(n_layers):
        p = f"blk.{l}."
        h = rmsnorm(x, W[p + "attn_norm.weight"])
        q = rope(h @ W[p + "attn_q.weight"].T, n_heads)
        k = rope(h @ W[p + "attn_k.weight"].T, n_kv)
        v = h @ W[p + "attn_v.weight"].T
        att = np.zeros((T, n_heads * dh))
        for j in range(n_heads):
            kvh = j // (n_heads // n_kv)
            qj = q[:, j * dh:(j + 1) * dh]
            kj = k[:, kvh * dh:(kvh + 1) * dh]
            vj = v[:, kvh * dh:(kvh + 1) * dh]
            s = qj @ kj.T / np.sqrt(dh) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att[:, j * dh:(j + 1) * dh] = s @ vj
        x = x + att @ W[p + "attn_output.weight"].T
        h = rmsnorm(x, W[p + "ffn_norm.weight"])
        g = h @ W[p + "ffn_gate.weight"].T
        u = h @ W[p + "ffn_up.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ W[p + "ffn_down.weight"].T
    logits = rmsnorm(x, W["output_norm.weight"]) @ out_w.T

    rows = ",\n".join("  [" + ", ".join("%.9g" % v for v in row) + "]" for row in logits)
    print('{"model": "preset:tiny f32 seed 0", "weights_fnv1a64": "%016x", "tokens": %s,\n "logits": [\n%s\n]}'
          % (digest, json.dumps(tokens), rows))


main()
