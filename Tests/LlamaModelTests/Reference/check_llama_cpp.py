#!/usr/bin/env python3
"""Manual cross-check with llama.cpp itself (not run in CI: `pip install llama-cpp-python`
compiles llama.cpp, which takes most of an hour on two cores).

Usage:
    inferscope model export --preset tiny --type f32 -o /tmp/tiny.gguf
    python3 check_llama_cpp.py /tmp/tiny.gguf

Loads the file in llama.cpp with an f32 KV cache, evaluates the golden token sequence and
prints the largest relative logit error against golden_logits_tiny.json (our numpy
reference), then llama.cpp's tokenization of a few strings (the expected ids in
TokenizerTests.swift came from here).
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

here = os.path.dirname(os.path.abspath(__file__))
golden = json.load(open(os.path.join(here, "golden_logits_tiny.json")))
llm = Llama(model_path=sys.argv[1], n_ctx=64, logits_all=True, verbose=False, n_threads=1, type_k=0, type_v=0)
llm.eval(golden["tokens"])
ours = np.array(golden["logits"])
theirs = np.array(llm.scores[:len(golden["tokens"])], dtype=np.float64)
print("max relative logit error, llama.cpp vs numpy reference:",
      float((np.abs(theirs - ours).max(axis=1) / np.abs(ours).max(axis=1)).max()))
for text in ["Once upon a time", "the little dog", "héllo wörld ✓ 日本語", "  two  spaces\nnew line", "x"]:
    print(json.dumps(text, ensure_ascii=False), llm.tokenize(text.encode()))
