#!/usr/bin/env python3
"""A large synthetic vLLM `bench serve --save-detailed` result for timing the importer:
python3 traces/import/make_large_vllm.py N OUT.json  (N requests, ~N*100 chunk gaps).
Streams the arrays out so memory stays small; numbers are random, the shape is vLLM's."""
import random, sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
with open(out, "w") as f:
    f.write('{"date": "20261127-120000", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct", ')
    f.write(f'"num_prompts": {n}, "request_rate": 200.0, "burstiness": 1.0, "max_concurrency": null, ')
    f.write(f'"duration": {n / 200.0 + 2.0}, "completed": {n}, ')
    outs = [rng.randint(32, 168) for _ in range(n)]
    f.write('"input_lens": [' + ", ".join(str(rng.randint(64, 2048)) for _ in range(n)) + '], ')
    f.write('"output_lens": [' + ", ".join(map(str, outs)) + '], ')
    f.write('"ttfts": [' + ", ".join(repr(round(rng.uniform(0.02, 0.4), 9)) for _ in range(n)) + '], ')
    f.write('"itls": [')
    for i, o in enumerate(outs):
        if i:
            f.write(", ")
        f.write("[" + ", ".join(repr(round(rng.gauss(0.012, 0.002), 9)) for _ in range(o - 1)) + "]")
    f.write('], ')
    t = 1000.0
    starts = []
    for _ in range(n):
        t += rng.expovariate(200.0)
        starts.append(repr(round(t, 6)))
    f.write('"start_times": [' + ", ".join(starts) + '], ')
    f.write('"errors": [' + ", ".join('""' for _ in range(n)) + ']}\n')
