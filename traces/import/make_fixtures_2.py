#!/usr/bin/env python3
"""Writes the second set of importer fixtures (formats of issue #11): small, synthetic,
deterministic files in the shapes the tools write, as described in
/work/shared/reference/import-formats-2.md (field names, units, number formats, line endings).
The numbers are our own (a seeded model of a Llama 3.1 8B server), not copied from real output.
Run from anywhere: python3 traces/import/make_fixtures_2.py
"""
import gzip, json, os, random
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261203)


def write(name, text, newline="\n"):
    with open(os.path.join(HERE, name), "w", newline=newline) as f:
        f.write(text)


def requests(n, conc_factor=1.0):
    """(isl, osl, ttft_s, e2e_s, chunk_gaps_s) per request."""
    out = []
    for _ in range(n):
        isl = rng.randint(200, 1800)
        osl = rng.randint(40, 300)
        ttft = (0.03 + isl * 4e-5) * conc_factor + rng.uniform(0, 0.05)
        gaps = [max(0.004, rng.gauss(0.012 * conc_factor, 0.001)) for _ in range(osl - 1)]
        out.append((isl, osl, ttft, ttft + sum(gaps), gaps))
    return out


def stats(values, keys=("avg", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "min", "max", "std")):
    a = np.array(values, dtype=float)
    d = {}
    for k in keys:
        if k == "avg": d[k] = float(a.mean())
        elif k == "min": d[k] = float(a.min())
        elif k == "max": d[k] = float(a.max())
        elif k == "std": d[k] = float(a.std())
        else: d[k] = float(np.percentile(a, float(k[1:])))
    return d


reqs = requests(40, 1.6)
ttft_ms = [r[2] * 1e3 for r in reqs]
e2e_ms = [r[3] * 1e3 for r in reqs]
itl_ms = [(r[3] - r[2]) / (r[1] - 1) * 1e3 for r in reqs]
isl = [r[0] for r in reqs]
osl = [r[1] for r in reqs]
duration = 9.874
tps_user = [1e3 / x for x in itl_ms]

# 1. GenAI-Perf JSON (2025 layout: p1/p5/p10, nested input_config, DCGM telemetry).
g = {}
for name, vals, unit in [("time_to_first_token", ttft_ms, "ms"), ("time_to_second_token", [x * 0.01 for x in ttft_ms], "ms"),
                         ("request_latency", e2e_ms, "ms"), ("inter_token_latency", itl_ms, "ms"),
                         ("output_token_throughput_per_user", tps_user, "tokens/sec/user"),
                         ("output_sequence_length", osl, "tokens"), ("input_sequence_length", isl, "tokens")]:
    g[name] = {"unit": unit, **stats(vals)}
g["output_token_throughput"] = {"unit": "tokens/sec", "avg": sum(osl) / duration}
g["request_throughput"] = {"unit": "requests/sec", "avg": len(reqs) / duration}
g["request_count"] = {"unit": "count", "avg": float(len(reqs))}
g["telemetry_stats"] = {
    "gpu_power_usage": {"unit": "W", "0": stats([rng.uniform(350, 650) for _ in range(30)])},
    "gpu_utilization": {"unit": "%", "0": stats([rng.uniform(60, 99) for _ in range(30)])},
    "total_gpu_memory": {"unit": "GB", "0": {"avg": 85.52}},
}
g["input_config"] = {"model_names": ["meta-llama/Llama-3.1-8B-Instruct"], "subcommand": "profile",
                     "perf_analyzer": {"stimulus": {"concurrency": 16}, "measurement": {"mode": "request_count"}},
                     "endpoint": {"type": "chat", "streaming": True}}
write("genai-perf-profile_export_genai_perf.json", json.dumps(g, indent=4))

# 2. GenAI-Perf CSV: CRLF, f"{v:,.2f}" (quoted when a comma appears), N/A.
def fmt(v):
    return f"{v:,.2f}"
rows = [["Metric", "avg", "min", "max", "p99", "p95", "p90", "p75", "p50", "p25", "p10", "p5", "p1"]]
for name, label in [("time_to_first_token", "Time To First Token (ms)"), ("time_to_second_token", "Time To Second Token (ms)"),
                    ("request_latency", "Request Latency (ms)"), ("inter_token_latency", "Inter Token Latency (ms)"),
                    ("output_token_throughput_per_user", "Output Token Throughput Per User (tokens/sec/user)"),
                    ("output_sequence_length", "Output Sequence Length (tokens)"), ("input_sequence_length", "Input Sequence Length (tokens)")]:
    s = g[name]
    rows.append([label] + [fmt(s[k]) for k in ["avg", "min", "max", "p99", "p95", "p90", "p75", "p50", "p25", "p10", "p5", "p1"]])
rows[2][5] = "N/A"  # a missing statistic
import csv, io
buf = io.StringIO()
w = csv.writer(buf)  # default lineterminator "\r\n"
for r in rows: w.writerow(r)
w.writerow([])
w.writerow(["Metric", "Value"])
w.writerow(["Output Token Throughput (tokens/sec)", fmt(g["output_token_throughput"]["avg"] * 9)])  # large: 1,2xx.xx
w.writerow(["Request Throughput (per sec)", fmt(g["request_throughput"]["avg"])])
w.writerow(["Request Count (count)", fmt(len(reqs))])
write("genai-perf-profile_export_genai_perf.csv", buf.getvalue(), newline="")

# 3. perf_analyzer profile_export.json: two experiments (concurrency 1, 4), epoch-ns int64.
base = 1764720000123456789
exps = []
for conc in (1, 4):
    t = base + (0 if conc == 1 else 60_000_000_000)
    reqs_pa = []
    lanes = [t] * conc
    for i in range(12):
        lane = min(range(conc), key=lambda k: lanes[k])
        start = lanes[lane]
        first = start + int((0.04 + 0.01 * conc + rng.uniform(0, 0.02)) * 1e9)
        stamps = [first]
        for _ in range(rng.randint(8, 20)):
            stamps.append(stamps[-1] + int(rng.gauss(0.011 * (1 + 0.1 * conc), 0.001) * 1e9))
        if conc == 4 and i == 7:
            stamps = []  # a request that got no response
        resp = [{"response": "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}"} for _ in stamps]
        reqs_pa.append({"timestamp": start, "request_inputs": {"payload": "{\"messages\":[]}"},
                        "response_timestamps": stamps, "response_outputs": resp})
        lanes[lane] = (stamps[-1] if stamps else start + 500_000_000) + 1_000_000
    exps.append({"experiment": {"mode": "concurrency", "value": conc}, "requests": reqs_pa,
                 "window_boundaries": [t, max(lanes)]})
pa = {"experiments": exps, "version": "2.59.0", "service_kind": "openai", "endpoint": "v1/chat/completions"}
# Python's json writes the int64 timestamps exactly.
write("perf_analyzer-profile_export.json", json.dumps(pa, indent=2))

# 4. AIPerf profile_export_aiperf.json, early schema (records, v0.1.1: no p10).
def aiperf_rec(tag, header, unit, vals):
    s = stats(vals, ("avg", "min", "max", "p1", "p5", "p25", "p50", "p75", "p90", "p95", "p99", "std"))
    return {"tag": tag, "unit": unit, "header": header, **s, "count": len(vals)}
early = {"records": {
    "request_throughput": {"tag": "request_throughput", "unit": "requests/sec", "header": "Request Throughput", "avg": len(reqs) / duration},
    "time_to_first_token": aiperf_rec("time_to_first_token", "Time to First Token", "ms", ttft_ms),
    "request_latency": aiperf_rec("request_latency", "Request Latency", "ms", e2e_ms),
    "inter_token_latency": aiperf_rec("inter_token_latency", "Inter Token Latency", "ms", itl_ms),
    "output_sequence_length": aiperf_rec("output_sequence_length", "Output Sequence Length", "tokens", osl),
    "input_sequence_length": aiperf_rec("input_sequence_length", "Input Sequence Length", "tokens", isl),
    "request_count": {"tag": "request_count", "unit": "requests", "header": "Request Count", "avg": 38.0},
    "benchmark_duration": {"tag": "benchmark_duration", "unit": "sec", "header": "Benchmark Duration", "avg": duration},
    "output_token_throughput": {"tag": "output_token_throughput", "unit": "tokens/sec", "header": "Output Token Throughput", "avg": sum(osl) / duration},
    "error_request_count": {"tag": "error_request_count", "unit": "requests", "header": "Error Request Count", "avg": 2.0},
},
    "input_config": {"endpoint": {"model_names": ["Qwen/Qwen2.5-7B-Instruct"], "type": "chat", "streaming": True},
                     "loadgen": {"concurrency": 32, "request_count": 40}},
    "was_cancelled": False,
    "error_summary": [{"error_details": {"code": 400, "type": "Bad Request", "message": "context length exceeded"}, "count": 2}],
    "start_time": "2025-09-20T10:01:02.123456", "end_time": "2025-09-20T10:01:12.000000"}
write("aiperf-profile_export_aiperf-early.json", json.dumps(early, indent=2))

# 5. AIPerf flat schema (2026: schema_version, sum/count, telemetry_data, null for scrubbed values).
flat = {"schema_version": "1.4", "aiperf_version": "0.12.0", "benchmark_id": "6f1c2d3e"}
for tag, unit, vals in [("time_to_first_token", "ms", ttft_ms), ("request_latency", "ms", e2e_ms),
                        ("inter_token_latency", "ms", itl_ms), ("inter_chunk_latency", "ms", [x * 0.9 for x in itl_ms]),
                        ("output_sequence_length", "tokens", osl), ("input_sequence_length", "tokens", isl)]:
    s = stats(vals, ("avg", "min", "max", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"))
    s["sum"] = float(sum(vals)); s["count"] = len(vals)
    flat[tag] = {"unit": unit, **s}
flat["time_to_second_token"] = {"unit": "ms", "avg": None}
flat["request_throughput"] = {"unit": "requests/sec", "avg": len(reqs) / duration}
flat["output_token_throughput"] = {"unit": "tokens/sec", "avg": sum(osl) / duration}
flat["request_count"] = {"unit": "requests", "avg": 40.0}
flat["benchmark_duration"] = {"unit": "sec", "avg": duration}
flat["run_info"] = {"benchmark_id": "6f1c2d3e", "trial": 0, "cli_command": "aiperf profile --concurrency 16"}
flat["input_config"] = {"endpoint": {"model_names": ["meta-llama/Llama-3.1-8B-Instruct"]}, "loadgen": {"concurrency": 16}}
flat["was_cancelled"] = False
flat["error_summary"] = []
flat["telemetry_data"] = {"summary": {"endpoints_configured": ["http://localhost:9401/metrics"], "endpoints_successful": ["http://localhost:9401/metrics"]},
                          "endpoints": {"localhost:9401": {"gpus": {
                              f"gpu_{i}": {"gpu_index": i, "gpu_name": "NVIDIA H100 80GB HBM3", "gpu_uuid": f"GPU-{i:04d}", "hostname": "node1",
                                           "metrics": {"gpu_power_usage": {"unit": "W", "avg": 400 + 50 * i, "min": 300, "max": 690},
                                                       "gpu_utilization": {"unit": "%", "avg": 80 + i, "min": 10, "max": 100}}}
                              for i in range(2)}}}}
flat["start_time"] = "2026-07-27T21:24:26.347694"
flat["end_time"] = "2026-07-27T21:24:36.221694"
write("aiperf-profile_export_aiperf.json", json.dumps(flat, indent=2))

# 6. llama.cpp server: one /completion response, and chat completions as JSON Lines (speculative).
def timings(prompt_n, cache_n, predicted_n, draft=None):
    pm = prompt_n * 0.35 + rng.uniform(5, 15)
    dm = (predicted_n - 1) * rng.uniform(9, 12)
    t = {"cache_n": cache_n, "prompt_n": prompt_n, "prompt_ms": round(pm, 3), "prompt_per_token_ms": round(pm / max(prompt_n, 1), 6),
         "prompt_per_second": round(prompt_n / pm * 1e3, 4), "predicted_n": predicted_n, "predicted_ms": round(dm, 3),
         "predicted_per_token_ms": round(dm / predicted_n, 6), "predicted_per_second": round(predicted_n / dm * 1e3, 4)}
    if draft:
        t["draft_n"], t["draft_n_accepted"] = draft
    return t
completion = {"index": 0, "content": " Paris is the capital of France.", "tokens": [], "id_slot": 0, "stop": True,
              "model": "Llama-3.1-8B-Instruct-Q4_K_M.gguf", "tokens_predicted": 64, "tokens_evaluated": 412,
              "generation_settings": {"n_predict": 64, "temperature": 0.8}, "prompt": "<|begin_of_text|>...",
              "has_new_line": False, "truncated": False, "stop_type": "limit", "stopping_word": "", "tokens_cached": 475,
              "timings": timings(380, 32, 64)}
write("llama-server-completion.json", json.dumps(completion, indent=2))
lines = []
for i in range(6):
    pn, cn, on = rng.randint(100, 900), rng.choice([0, 0, 64, 256]), rng.randint(30, 200)
    drafted = rng.randint(on // 2, on)
    t = timings(pn, cn, on, (drafted, int(drafted * rng.uniform(0.55, 0.8))))
    lines.append(json.dumps({"choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": "..."}}],
                             "created": 1764720000 + i, "model": "Llama-3.1-8B-Instruct-Q4_K_M.gguf", "system_fingerprint": "b6200",
                             "object": "chat.completion", "usage": {"completion_tokens": on, "prompt_tokens": pn + cn, "total_tokens": pn + cn + on},
                             "id": f"chatcmpl-{i:04d}", "timings": t}))
write("llama-server-chat.jsonl", "\n".join(lines) + "\n")

# 7. LLMPerf summary (flat, numpy ints as strings, NaN token, repr error frequency).
lat = [r[3] for r in reqs]
ttft = [r[2] for r in reqs]
summ = {"version": "2023-08-31", "name": "meta-llama-Llama-3-1-8B-Instruct_550_150_summary", "model": "meta-llama/Llama-3.1-8B-Instruct",
        "mean_input_tokens": 550, "stddev_input_tokens": 150, "mean_output_tokens": 150, "stddev_output_tokens": 10,
        "num_concurrent_requests": 8, "additional_sampling_params_max_tokens": 150, "timestamp": 1764720000}
for key, vals in [("ttft_s", ttft), ("end_to_end_latency_s", lat), ("inter_token_latency_s", [r[3] / r[1] for r in reqs]),
                  ("number_input_tokens", isl), ("number_output_tokens", osl),
                  ("request_output_throughput_token_per_s", [r[1] / r[3] for r in reqs])]:
    a = np.array(vals, dtype=float)
    for q in (25, 50, 75, 90, 95, 99):
        summ[f"results_{key}_quantiles_p{q}"] = float(np.percentile(a, q))
    summ[f"results_{key}_mean"] = float(a.mean())
    summ[f"results_{key}_min"] = str(int(a.min())) if key.startswith("number") else float(a.min())
    summ[f"results_{key}_max"] = str(int(a.max())) if key.startswith("number") else float(a.max())
    summ[f"results_{key}_stddev"] = float(a.std(ddof=1))
summ.update({"results_num_requests_started": 42, "results_error_rate": 2 / 42, "results_number_errors": 2,
             "results_error_code_frequency": "{429: 2}", "results_mean_output_throughput_token_per_s": sum(osl) / 21.3,
             "results_num_completed_requests": 40, "results_num_completed_requests_per_min": 40 / 21.3 * 60})
text = json.dumps(summ, indent=4).replace('"results_ttft_s_stddev": ' + json.dumps(summ["results_ttft_s_stddev"]), '"results_ttft_s_stddev": NaN')
write("llmperf_summary.json", text)

# 8. trtllm-bench console report inside a log (one logger.info message; '=' framed sections).
t_ttft, t_tpot, t_lat = stats(ttft_ms), stats(itl_ms), stats(e2e_ms)
def block(tag, s):
    return "\n".join(f"[{tag}] {k:>7}: {v:.4f}" for k, v in
                     [("MINIMUM", s["min"]), ("MAXIMUM", s["max"]), ("AVERAGE", s["avg"]), ("P50", s["p50"]),
                      ("P90", s["p90"]), ("P95", s["p95"]), ("P99", s["p99"])])
report = f"""[12/03/2025-10:14:02] [TRT-LLM] [I] Preparing to run throughput benchmark...
[12/03/2025-10:14:40] [TRT-LLM] [I] 
===========================================================
= PYTORCH BACKEND
===========================================================
Model:\t\t\tmeta-llama/Llama-3.1-8B-Instruct
Model Path:\t\t/models/llama-3.1-8b
TensorRT LLM Version:\t1.1.0
Dtype:\t\t\tbfloat16
KV Cache Dtype:\t\tFP8
Quantization:\t\tFP8

===========================================================
= MACHINE DETAILS 
===========================================================
NVIDIA H100 80GB HBM3, memory 79.19 GB, 2.62 GHz

===========================================================
= REQUEST DETAILS 
===========================================================
Number of requests:             40
Number of concurrent requests:  15.8532
Average Input Length (tokens):  {np.mean(isl):.4f}
Average Output Length (tokens): {np.mean(osl):.4f}
===========================================================
= WORLD + RUNTIME INFORMATION 
===========================================================
TP Size:                1
PP Size:                1
EP Size:                None
Max Runtime Batch Size: 2048
Max Runtime Tokens:     8192
Scheduling Policy:      GUARANTEED_NO_EVICT
KV Memory Percentage:   90.00%
Issue Rate (req/sec):   1.2345E+16

===========================================================
= PERFORMANCE OVERVIEW 
===========================================================
Request Throughput (req/sec):                     {len(reqs) / duration:.4f}
Total Output Throughput (tokens/sec):             {sum(osl) / duration:.4f}
Total Token Throughput (tokens/sec):              {(sum(osl) + sum(isl)) / duration:.4f}
Total Latency (ms):                               {duration * 1e3:.4f}
Average request latency (ms):                     {t_lat["avg"]:.4f}
Per User Output Throughput [w/ ctx] (tps/user):   {np.mean(tps_user):.4f}
Per GPU Output Throughput (tps/gpu):              {sum(osl) / duration:.4f}
Average time-to-first-token [TTFT] (ms):          {t_ttft["avg"]:.4f}
Average time-per-output-token [TPOT] (ms):        {t_tpot["avg"]:.4f}
Per User Output Speed (tps/user):                 {1e3 / t_tpot["avg"]:.4f}

-- Per-Request Time-per-Output-Token [TPOT] Breakdown (ms)

{block("TPOT", t_tpot)}

-- Per-Request Time-to-First-Token [TTFT] Breakdown (ms)

{block("TTFT", t_ttft)}

-- Request Latency Breakdown (ms) -----------------------

{block("Latency", t_lat)}

===========================================================
= DATASET DETAILS
===========================================================
Dataset Path:         /data/synthetic_128_128.txt
Number of Sequences:  40

[12/03/2025-10:14:41] [TRT-LLM] [I] Benchmark complete.
"""
write("trtllm-bench-report.log", report)

# 9. vLLM 'Serving Benchmark Result' block pasted from a log, and an SGLang rate sweep (3 blocks).
def vllm_block(s):
    lines = ["{s:{c}^{n}}".format(s=" Serving Benchmark Result ", n=50, c="=")]
    def row(label, value): lines.append("{:<40} {:<10}".format(label, value))
    def sub(title): lines.append("{s:{c}^{n}}".format(s=title, n=50, c="-"))
    row("Successful requests:", s["completed"]); row("Failed requests:", s["failed"])
    row("Maximum request concurrency:", 64)
    row("Benchmark duration (s):", f"{s['duration']:.2f}")
    row("Total input tokens:", s["tin"]); row("Total generated tokens:", s["tout"])
    row("Request throughput (req/s):", f"{s['completed'] / s['duration']:.2f}")
    row("Output token throughput (tok/s):", f"{s['tout'] / s['duration']:.2f}")
    row("Peak output token throughput (tok/s):", f"{s['tout'] / s['duration'] * 1.6:.2f}")
    row("Peak concurrent requests:", "64.00")
    row("Total Token throughput (tok/s):", f"{(s['tin'] + s['tout']) / s['duration']:.2f}")
    for title, short, vals in [("Time to First Token", "TTFT", s["ttft"]), ("Time per Output Token (excl. 1st token)", "TPOT", s["tpot"]),
                               ("Inter-token Latency", "ITL", s["itl"]), ("End-to-end Latency", "E2EL", s["e2e"])]:
        sub(title)
        a = np.array(vals)
        row(f"Mean {short} (ms):", f"{a.mean():.2f}"); row(f"Median {short} (ms):", f"{np.median(a):.2f}")
        row(f"P99 {short} (ms):", f"{np.percentile(a, 99):.2f}")
    lines.append("=" * 50)
    return "\n".join(lines)
vs = {"completed": 200, "failed": 0, "duration": 61.37, "tin": 204800, "tout": 25600,
      "ttft": [rng.uniform(8000, 30000) for _ in range(200)], "tpot": [rng.uniform(9, 12) for _ in range(200)],
      "itl": [rng.uniform(8, 14) for _ in range(200)], "e2e": [rng.uniform(9500, 32000) for _ in range(200)]}
log = ("INFO 12-03 10:00:01 [__init__.py:244] Automatically detected platform cuda.\n"
       "Namespace(backend='vllm', base_url=None, host='127.0.0.1', port=8000, endpoint='/v1/completions', dataset_name='random', model='meta-llama/Llama-3.1-8B-Instruct', request_rate=inf, max_concurrency=64)\n"
       "Starting initial single prompt test run...\nInitial test run completed. Starting main benchmark run...\n"
       "Traffic request rate: inf\nBurstiness factor: 1.0 (Poisson process)\nMaximum request concurrency: 64\n"
       "100%|██████████| 200/200 [01:01<00:00,  3.26it/s]\n"
       + vllm_block(vs) + "\n"
       "INFO 12-03 10:01:03 [serve.py:1050] Saved result to vllm-inf-results.json\n")
write("vllm-serving-result.log", log)

def sglang_block(rate, s):
    lines = ["", "{s:{c}^{n}}".format(s=" Serving Benchmark Result ", n=50, c="=")]
    def row(label, value): lines.append("{:<40} {:<10}".format(label, value))
    def sub(title): lines.append("{s:{c}^{n}}".format(s=title, n=50, c="-"))
    row("Backend:", "sglang"); row("Traffic request rate:", rate); row("Max reqeuest concurrency:", "not set")
    row("Successful requests:", s["completed"]); row("Benchmark duration (s):", f"{s['duration']:.2f}")
    row("Total input tokens:", s["tin"]); row("Total generated tokens:", s["tout"])
    row("Total generated tokens (retokenized):", s["tout"] - 37)
    row("Request throughput (req/s):", f"{s['completed'] / s['duration']:.2f}")
    row("Input token throughput (tok/s):", f"{s['tin'] / s['duration']:.2f}")
    row("Output token throughput (tok/s):", f"{s['tout'] / s['duration']:.2f}")
    row("Total token throughput (tok/s):", f"{(s['tin'] + s['tout']) / s['duration']:.2f}")
    row("Concurrency:", f"{s['conc']:.2f}")
    sub("End-to-End Latency"); row("Mean E2E Latency (ms):", f"{s['e2e']:.2f}"); row("Median E2E Latency (ms):", f"{s['e2e'] * 0.95:.2f}")
    sub("Time to First Token"); row("Mean TTFT (ms):", f"{s['ttft']:.2f}"); row("Median TTFT (ms):", f"{s['ttft'] * 0.9:.2f}"); row("P99 TTFT (ms):", f"{s['ttft'] * 2.5:.2f}")
    sub("Inter-Token Latency"); row("Mean ITL (ms):", f"{s['itl']:.2f}"); row("Median ITL (ms):", f"{s['itl'] * 0.97:.2f}")
    row("P95 ITL (ms):", f"{s['itl'] * 1.6:.2f}"); row("P99 ITL (ms):", f"{s['itl'] * 2.4:.2f}"); row("Max ITL (ms):", f"{s['itl'] * 9:.2f}")
    lines.append("=" * 50)
    return "\n".join(lines)
sweep = ""
for rate, ttft_v, itl_v in [(2, 45.0, 11.2), (4, 61.0, 12.8), (8, 160.0, 16.5), (16, 2400.0, 24.0)]:
    n = 200
    dur = n / rate + 3
    sweep += f"[2025-12-03 10:0{rate % 10}:00] Running bench_serving with --request-rate {rate}\n"
    sweep += sglang_block(str(rate), {"completed": n, "duration": dur, "tin": 204800, "tout": 51200, "conc": rate * 4.1,
                                      "e2e": ttft_v + 255 * itl_v, "ttft": ttft_v, "itl": itl_v}) + "\n\n"
write("sglang-rate-sweep.log", sweep)

# 10. vLLM nightly results list (benchmark_results.json; pandas NaN; ambiguous TPOT Median/P99).
nightly = []
for qps, tt, tp in [("1", 28.1, 7.9), ("4", 33.5, 8.6), ("16", 61.2, 11.4), ("inf", 2105.7, 19.8)]:
    tput = float(qps) * 0.98 if qps != "inf" else 21.4
    nightly.append({"Test name": f"serving_llama8B_tp1_sharegpt_qps_{qps}", "GPU": "1xH100", "# of req.": 200,
                    "Tput (req/s)": tput, "Output Tput (tok/s)": tput * 197.3, "Total Token Tput (tok/s)": tput * 420.9,
                    "Mean TTFT (ms)": tt, "Median TTFT (ms)": tt * 0.93, "P99 TTFT (ms)": tt * 2.6,
                    "Mean TPOT (ms)": tp, "Median": tp * 0.98, "P99": tp * 1.9,
                    "Mean ITL (ms)": tp * 0.99, "Median ITL (ms)": tp * 0.95, "P99 ITL (ms)": tp * 3.1,
                    "Total input tokens": 44712, "Total output tokens": 39460, "Std TTFT (ms)": float("nan")})
write("vllm-nightly-benchmark_results.json", json.dumps(nightly, indent=4))

# 11. llama-bench markdown inside a log.
md = """ggml_cuda_init: found 1 CUDA devices:
  Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9, VMM: yes
| model                          |       size |     params | backend    | ngl | n_ubatch |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | -------: | --------------: | -------------------: |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |      512 |           pp512 |     11,342.17 ± 95.21 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |      512 |           tg128 |        152.33 ± 0.41 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |      512 |  pp512 @ d4096 |      9,871.02 ± 40.10 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |      512 |  tg128 @ d4096 |        141.86 ± 0.22 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |      512 |     pp512+tg128 |       1,020.50 ± 3.10 |

build: 6a2f298b (6123)
"""
write("llama-bench.md", md)

# 12. Kineto trace (relative ts with ns fraction; ProfilerStep annotations; correlation links).
events = [{"ph": "M", "name": "process_name", "pid": 0, "tid": 0, "args": {"name": "python"}}]
cpu_pid, cpu_tid = 4242, 4242
t = 1000.0
corr = 1
names = [("ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_stages_64x3_tn", 0), ("flash_fwd_splitkv_kernel", 1),
         ("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 2), ("void at::native::vectorized_elementwise_kernel<4>", 3),
         ("Memcpy HtoD (Pageable -> Device)", 4)]
for step in range(3):
    step_start = t
    gpu_t = t + 30.0
    cpu_t = t + 5.0
    for layer in range(4):
        for name, kind in names:
            dur = [120.5, 60.25, 40.0, 8.125, 15.0][kind]
            cat = "gpu_memcpy" if kind == 4 else "kernel"
            if kind == 4 and layer > 0:
                continue
            events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel" if kind != 4 else "cudaMemcpyAsync",
                           "pid": cpu_pid, "tid": cpu_tid, "ts": round(cpu_t, 3), "dur": 4.5, "args": {"correlation": corr, "External id": corr}})
            events.append({"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": 7 if kind != 2 else 13,
                           "ts": round(gpu_t, 3), "dur": dur, "args": {"correlation": corr, "stream": 7, "device": 0}})
            # communication overlaps the next kernel (another stream)
            gpu_t += dur + (2.0 if kind != 2 else -35.0)
            cpu_t += 5.0
            corr += 1
    gpu_t += 150.0  # idle: the host prepares the next step
    end = max(cpu_t, gpu_t) + 10.0
    events.append({"ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{step + 10}", "pid": cpu_pid, "tid": cpu_tid,
                   "ts": round(step_start, 3), "dur": round(end - step_start, 3), "args": {}})
    events.append({"ph": "X", "cat": "gpu_user_annotation", "name": f"ProfilerStep#{step + 10}", "pid": 0, "tid": 7,
                   "ts": round(step_start + 30, 3), "dur": round(end - step_start - 30, 3), "args": {}})
    t = end
kineto = {"schemaVersion": 1,
          "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85045870592, "computeMajor": 9,
                                "computeMinor": 0, "numSms": 132}],
          "distributedInfo": {"backend": "nccl", "rank": 0, "world_size": 2},
          "displayTimeUnit": "ms", "baseTimeNanoseconds": 1764720000000000000,
          "traceEvents": events, "traceName": "node1_4242.1764720000000.pt.trace.json"}
text = json.dumps(kineto)
write("kineto.pt.trace.json", text)
with open(os.path.join(HERE, "kineto.pt.trace.json.gz"), "wb") as f:
    f.write(gzip.compress(text.encode(), mtime=0))

# 13. A large llama-bench JSON (long tg runs): the step-run measurement of issue #11.
recs = []
for depth in (0, 512, 1024, 2048, 4096, 8192, 16384, 32768):
    for ng in (16384, 32768, 65536):
        samples = [int(ng / rng.uniform(120, 160) * 1e9) for _ in range(5)]
        recs.append({"build_commit": "6a2f298b", "build_number": 6123, "cpu_info": "AMD EPYC 9654 96-Core Processor",
                     "gpu_info": "NVIDIA GeForce RTX 4090", "backends": "CUDA", "model_filename": "models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
                     "model_type": "llama 8B Q4_K - Medium", "model_size": 4920734720, "model_n_params": 8030261248,
                     "n_batch": 2048, "n_ubatch": 512, "n_threads": 16, "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99,
                     "n_prompt": 0, "n_gen": ng, "n_depth": depth, "test_time": "2025-12-03T10:00:00Z",
                     "avg_ns": int(np.mean(samples)), "stddev_ns": int(np.std(samples, ddof=1)),
                     "avg_ts": float(np.mean([ng / s * 1e9 for s in samples])), "stddev_ts": 0.5,
                     "samples_ns": samples, "samples_ts": [ng / s * 1e9 for s in samples]})
write("llama-bench-long-tg.json", json.dumps(recs, indent=2))

# 14. Any format may arrive gzip-compressed: the SGLang fixture of the first set, gzipped.
with open(os.path.join(HERE, "sglang-bench-serving.jsonl"), "rb") as f:
    raw = f.read()
with open(os.path.join(HERE, "sglang-bench-serving.jsonl.gz"), "wb") as f:
    f.write(gzip.compress(raw, mtime=0))

# 15. trtllm-bench --report_json (same run as the console report; indent 4; ms and tok/s).
def pct(s):
    return {"p50": s["p50"], "p90": s["p90"], "p95": s["p95"], "p99": s["p99"], "minimum": s["min"], "maximum": s["max"], "average": s["avg"]}
report_json = {
    "engine": {"model": "meta-llama/Llama-3.1-8B-Instruct", "model_path": "/models/llama-3.1-8b", "engine_dir": None, "version": "1.1.0",
               "backend": "Pytorch", "dtype": "bfloat16", "kv_cache_dtype": "FP8", "quantization": "FP8"},
    "machine": {"name": "NVIDIA H100 80GB HBM3", "memory.total": 79.19, "clocks.mem": 2.62},
    "world_info": {"tp_size": 2, "pp_size": 1, "ep_size": None, "world_size": 2, "max_batch_size": 2048, "max_num_tokens": 8192,
                   "scheduling_policy": "GUARANTEED_NO_EVICT", "kv_cache_percentage": 0.9, "issue_rate": 1.2345e16},
    "request_info": {"num_requests": 40, "avg_num_concurrent_requests": 15.8532, "avg_input_length": float(np.mean(isl)), "avg_output_length": float(np.mean(osl))},
    "performance": {"total_latency_ms": duration * 1e3, "avg_request_latency_ms": t_lat["avg"], "request_throughput_req_s": len(reqs) / duration,
                    "system_output_throughput_tok_s": sum(osl) / duration, "system_total_throughput_tok_s": (sum(osl) + sum(isl)) / duration,
                    "output_throughput_per_user_tok_s": float(np.mean(tps_user)), "output_throughput_per_gpu_tok_s": sum(osl) / duration / 2,
                    "request_latency_percentiles_ms": pct(t_lat)},
    "streaming_metrics": {"token_output_speed_tok_s": 1e3 / t_tpot["avg"], "avg_ttft_ms": t_ttft["avg"], "avg_tpot_ms": t_tpot["avg"],
                          "ttft_percentiles": pct(t_ttft), "tpot_percentiles": pct(t_tpot)},
}
write("trtllm-bench-report.json", json.dumps(report_json, indent=4))
