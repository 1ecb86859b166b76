#!/usr/bin/env python3
"""Writes the importer fixtures in this directory: small, synthetic, deterministic files in the
exact shapes the tools write (field names and units per /work/shared/reference/import-formats.md).
The numbers are our own (a seeded random model of a Llama 3.1 8B server), not copied from any
real output. The aggregate statistics in the vLLM/SGLang files are computed here with numpy,
exactly as the tools compute them, so the tests can check our analyzer against an independent
implementation. Run from anywhere: python3 traces/import/make_fixtures.py
"""
import json, os, random
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261127)


def request_model(n, rate, out_range=(16, 96), in_range=(128, 1536), failed=()):
    """Per-request (start, input_len, output_len, ttft, itls, error) in seconds."""
    t = 0.0
    rows = []
    for i in range(n):
        t += rng.expovariate(rate)
        isl = rng.randint(*in_range)
        osl = rng.randint(*out_range)
        if i in failed:
            rows.append((t, isl, 0, 0.0, [], "Bad Request: prompt too long for max_model_len"))
            continue
        ttft = 0.018 + isl * 0.000045 + rng.uniform(0, 0.02)
        itls = []
        k = 1
        while k < osl:
            # Mostly one token per chunk; an occasional 2-token chunk; rare prefill stalls.
            tokens = 2 if rng.random() < 0.08 and k + 2 <= osl else 1
            gap = rng.gauss(0.0105, 0.0008) * tokens
            if rng.random() < 0.04:
                gap += rng.uniform(0.02, 0.06)
            itls.append(round(max(gap, 0.004), 9))
            k += tokens
        rows.append((t, isl, osl, round(ttft, 9), itls, ""))
    return rows


def stats(prefix, values_s, percentiles):
    out = {}
    arr = np.array(values_s if values_s else [0.0]) * 1000
    out[f"mean_{prefix}_ms"] = float(np.mean(arr))
    out[f"median_{prefix}_ms"] = float(np.median(arr))
    out[f"std_{prefix}_ms"] = float(np.std(arr))
    for p in percentiles:
        key = str(int(p)) if int(p) == p else str(p)
        out[f"p{key}_{prefix}_ms"] = float(np.percentile(arr, p))
    return out


def vllm_result(rows, rate, model, extra_meta, with_start_times=True, old_goodput_key=False, percentiles=(50, 90, 99)):
    ok = [r for r in rows if not r[5]]
    latencies = [r[3] + sum(r[4]) for r in ok]
    ends = [r[0] + r[3] + sum(r[4]) for r in rows]
    duration = max(ends) - min(r[0] for r in rows) + 0.0125
    tpots = [(lat - r[3]) / (r[2] - 1) for r, lat in zip(ok, latencies) if r[2] > 1]
    itls = [g for r in ok for g in r[4]]
    total_in = sum(r[1] for r in ok)
    total_out = sum(r[2] for r in ok)
    res = {
        "date": "20261127-101500",
        "endpoint_type": "openai",
        "backend": "vllm",
        "label": None,
        "model_id": model,
        "tokenizer_id": model,
        "num_prompts": len(rows),
    }
    res.update(extra_meta)
    res.update({
        "request_rate": rate if rate != float("inf") else "inf",
        "burstiness": 1.0,
        "max_concurrency": None,
        "duration": duration,
        "completed": len(ok),
        "failed": len(rows) - len(ok),
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "request_throughput": len(ok) / duration,
        ("request_goodput:" if old_goodput_key else "request_goodput"): None,
        "output_throughput": total_out / duration,
        "total_token_throughput": (total_in + total_out) / duration,
        "max_output_tokens_per_s": 1900.0,
        "max_concurrent_requests": 9,
        "input_lens": [r[1] for r in rows],
        "output_lens": [r[2] for r in rows],
        "ttfts": [r[3] for r in rows],
        "itls": [r[4] for r in rows],
    })
    if with_start_times:
        base = 81234.5
        res["start_times"] = [round(base + r[0], 6) for r in rows]
    res["generated_texts"] = ["" if r[5] else " The answer, in short, is" for r in rows]
    res["errors"] = [r[5] for r in rows]
    for name, values in (("ttft", [r[3] for r in ok]), ("tpot", tpots), ("itl", itls), ("e2el", latencies)):
        res.update(stats(name, values, percentiles))
    return res


def write(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


# 1. vLLM bench serve, newer build, --save-detailed, --metadata hardware=H100.
rows = request_model(24, 4.0, failed={17})
write("vllm-bench-serve.json", json.dumps(vllm_result(rows, 4.0, "meta-llama/Llama-3.1-8B-Instruct", {"hardware": "H100"})) + "\n")

# 2. vLLM older build: no start_times, no failed/endpoint_type keys, "request_goodput:" spelling,
#    request_rate "inf", two runs appended with --append-result (newline separated).
old = []
for n in (6, 8):
    rows = request_model(n, 50.0, out_range=(8, 24))
    r = vllm_result(rows, float("inf"), "Qwen/Qwen2.5-7B-Instruct", {}, with_start_times=False,
                    old_goodput_key=True, percentiles=(99,))
    for k in ("endpoint_type", "failed", "max_output_tokens_per_s", "max_concurrent_requests"):
        r.pop(k)
    r = {k: v for k, v in r.items() if not k.endswith("e2el_ms")}
    old.append(json.dumps(r))
write("vllm-append-old.json", "\n".join(old) + "\n")

# 3. SGLang bench_serving JSONL: a compact aggregates-only line, then a run with --output-details.
compact = {"backend": "sglang", "dataset_name": "random", "request_rate": float("inf"), "max_concurrency": None,
           "sharegpt_output_len": None, "random_input_len": 1024, "random_output_len": 128, "random_range_ratio": 0.0,
           "duration": 12.5, "completed": 64, "total_input_tokens": 65536, "total_output_tokens": 8192,
           "total_output_tokens_retokenized": 8180, "mean_e2e_latency_ms": 5120.4, "median_e2e_latency_ms": 5002.1,
           "median_ttft_ms": 610.2, "median_itl_ms": 11.4, "output_throughput": 655.36}
rows = request_model(10, 8.0, out_range=(8, 40))
ok = rows
lat = [r[3] + sum(r[4]) for r in ok]
duration = max(r[0] + l for r, l in zip(rows, lat)) - min(r[0] for r in rows)
detailed = {"backend": "sglang", "dataset_name": "random", "request_rate": 8.0, "max_concurrency": 16,
            "sharegpt_output_len": None, "random_input_len": 1024, "random_output_len": 40, "random_range_ratio": 0.2,
            "duration": duration, "completed": len(ok), "total_input_tokens": sum(r[1] for r in ok),
            "total_input_text_tokens": sum(r[1] for r in ok), "total_input_vision_tokens": 0,
            "total_output_tokens": sum(r[2] for r in ok), "total_output_tokens_retokenized": sum(r[2] for r in ok),
            "request_throughput": len(ok) / duration, "input_throughput": sum(r[1] for r in ok) / duration,
            "output_throughput": sum(r[2] for r in ok) / duration,
            "mean_e2e_latency_ms": float(np.mean(lat) * 1000), "median_e2e_latency_ms": float(np.median(lat) * 1000),
            "std_e2e_latency_ms": float(np.std(lat) * 1000), "p99_e2e_latency_ms": float(np.percentile(lat, 99) * 1000)}
for name, values in (("ttft", [r[3] for r in ok]), ("tpot", [(l - r[3]) / (r[2] - 1) for r, l in zip(ok, lat) if r[2] > 1]),
                     ("itl", [g for r in ok for g in r[4]])):
    s = stats(name, values, (99,))
    detailed.update(s)
detailed["p95_itl_ms"] = float(np.percentile(np.array([g for r in ok for g in r[4]]) * 1000, 95))
detailed["concurrency"] = sum(lat) / duration
detailed["accept_length"] = None
detailed.update({"input_lens": [r[1] for r in rows], "output_lens": [r[2] for r in rows], "ttfts": [r[3] for r in rows],
                 "itls": [r[4] for r in rows], "generated_texts": ["ok"] * len(rows), "errors": [""] * len(rows)})
# SGLang writes Python's json.dumps output, which spells infinity as a bare Infinity token.
write("sglang-bench-serving.jsonl", json.dumps(compact) + "\n" + json.dumps(detailed) + "\n")

# 4. AIPerf profile_export.jsonl: 1 warm-up record, 10 profiling records (one failed).
lines = []
epoch = 1795774500_000_000_000
rows = request_model(10, 5.0, out_range=(6, 20), failed={4})
def aiperf_record(i, r, phase):
    start = epoch + int(round(r[0] * 1e9))
    meta = {"session_num": i, "x_request_id": f"3f2c9a1e-{i:04d}-4b7d-9e21-5a1c0d7e{i:04d}", "x_correlation_id": f"corr-{i:04d}",
            "conversation_id": f"conv-{i:04d}", "turn_index": 0, "credit_issued_ns": start - 1500, "request_start_ns": start,
            "request_ack_ns": None, "request_end_ns": None, "worker_id": "worker_0", "record_processor_id": "record_processor_0",
            "benchmark_phase": phase, "was_cancelled": False, "cancellation_time_ns": None, "agent_depth": 0}
    if r[5]:
        meta["request_end_ns"] = start + 2_500_000
        return {"metadata": meta, "metrics": {"error_isl": {"value": r[1], "unit": "tokens"},
                                               "error_request_count": {"value": 1, "unit": "requests"}},
                "error": {"code": 400, "type": "Bad Request", "message": r[5]}}
    lat = r[3] + sum(r[4])
    meta["request_ack_ns"] = start + int(round(r[3] * 0.9 * 1e9))
    meta["request_end_ns"] = start + int(round(lat * 1e9))
    metrics = {
        "time_to_first_token": {"value": r[3] * 1000, "unit": "ms"},
        "time_to_second_token": {"value": (r[3] + r[4][0]) * 1000, "unit": "ms"},
        "request_latency": {"value": lat * 1000, "unit": "ms"},
        "inter_token_latency": {"value": (lat - r[3]) / (r[2] - 1) * 1000, "unit": "ms"},
        "inter_chunk_latency": {"value": [g * 1000 for g in r[4]], "unit": "ms"},
        "output_token_throughput_per_user": {"value": (r[2] - 1) / (lat - r[3]), "unit": "tokens/sec/user"},
        "input_sequence_length": {"value": r[1], "unit": "tokens"},
        "output_sequence_length": {"value": r[2], "unit": "tokens"},
        "usage_prompt_tokens": {"value": r[1], "unit": "tokens"},
        "usage_completion_tokens": {"value": r[2], "unit": "tokens"},
        "usage_prompt_cache_read_tokens": {"value": (r[1] // 256) * 64, "unit": "tokens"},
    }
    return {"metadata": meta, "metrics": metrics, "error": None}
warm = request_model(1, 5.0, out_range=(6, 8))[0]
warm = (-1.0,) + warm[1:]
lines.append(json.dumps(aiperf_record(99, warm, "warmup")))
for i, r in enumerate(rows):
    lines.append(json.dumps(aiperf_record(i, r, "profiling")))
write("aiperf-profile_export.jsonl", "\n".join(lines) + "\n")

# 4b. The same run's profile_export_aiperf.csv (aggregates over the successful profiling records,
#     numpy statistics rounded to 2 decimals as AIPerf does; CRLF line endings from the csv module).
import csv, io
ok = [r for r in rows if not r[5]]
lat = [r[3] + sum(r[4]) for r in ok]
def stat_row(name, values):
    a = np.array(values, dtype=float)
    pct = [float(np.percentile(a, q)) for q in (1, 5, 10, 25, 50, 75, 90, 95, 99)]
    return [name] + [f"{x:.2f}" for x in [a.mean(), a.min(), a.max(), a.sum()] + pct + [a.std()]]
buf = io.StringIO()
w = csv.writer(buf)
w.writerow(["Metric", "avg", "min", "max", "sum", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"])
w.writerow(stat_row("Time to First Token (ms)", [r[3] * 1000 for r in ok]))
w.writerow(stat_row("Time to Second Token (ms)", [(r[3] + r[4][0]) * 1000 for r in ok]))
w.writerow(stat_row("Request Latency (ms)", [l * 1000 for l in lat]))
w.writerow(stat_row("Inter Token Latency (ms)", [(l - r[3]) / (r[2] - 1) * 1000 for r, l in zip(ok, lat)]))
w.writerow(stat_row("Output Token Throughput Per User (tokens/sec/user)", [(r[2] - 1) / (l - r[3]) for r, l in zip(ok, lat)]))
w.writerow(stat_row("Output Sequence Length (tokens)", [r[2] for r in ok]))
w.writerow(stat_row("Input Sequence Length (tokens)", [r[1] for r in ok]))
w.writerow([])
span = (max(r[0] + l for r, l in zip(ok, lat)) - min(r[0] for r in rows))
w.writerow(["Metric", "Value"])
w.writerow(["Output Token Throughput (tokens/sec)", f"{sum(r[2] for r in ok) / span:.2f}"])
w.writerow(["Request Throughput (requests/sec)", f"{len(ok) / span:.2f}"])
w.writerow(["Request Count (requests)", f"{len(ok):.2f}"])
w.writerow(["Error Request Count (requests)", f"{len(rows) - len(ok):.2f}"])
w.writerow(["Benchmark Duration (sec)", f"{span:.2f}"])
w.writerow([])
w.writerow(["Endpoint", "GPU_Index", "GPU_Name", "GPU_UUID", "Metric", "avg", "min", "max", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"])
w.writerow(["http://localhost:9400/metrics", "0", "NVIDIA H100 80GB HBM3", "GPU-5f0c2d1e-7a3b-4c6d-9e8f-0a1b2c3d4e5f",
            "GPU Power Usage (W)", "512.40", "388.10", "611.90", "392.00", "401.30", "420.80", "470.20", "515.60", "556.10",
            "590.30", "601.20", "609.80", "52.70"])
with open(os.path.join(HERE, "aiperf-profile_export_aiperf.csv"), "w", newline="") as f:
    f.write(buf.getvalue())

# 5. LLMPerf *_individual_responses.json (indent 4, as json.dump(..., indent=4)).
rows = request_model(8, 2.0, out_range=(20, 60), failed={5})
recs = []
for r in rows:
    if r[5]:
        recs.append({"error_code": 400, "error_msg": r[5], "inter_token_latency_s": 0, "ttft_s": 0,
                     "end_to_end_latency_s": 0, "request_output_throughput_token_per_s": 0,
                     "number_total_tokens": r[1], "number_output_tokens": 0, "number_input_tokens": r[1]})
        continue
    e2e = r[3] + sum(r[4])
    recs.append({"error_code": None, "error_msg": "", "inter_token_latency_s": e2e / r[2], "ttft_s": r[3],
                 "end_to_end_latency_s": e2e, "request_output_throughput_token_per_s": r[2] / e2e,
                 "number_total_tokens": r[1] + r[2], "number_output_tokens": r[2], "number_input_tokens": r[1]})
write("llmperf_individual_responses.json", json.dumps(recs, indent=4) + "\n")

# 6. llama-bench -o json: pp512 and tg64, 3 repetitions each, CUDA build on an H100.
common = {"build_commit": "3f1a9c2", "build_number": 6120, "cpu_info": "AMD EPYC 9654 96-Core Processor",
          "gpu_info": "NVIDIA H100 80GB HBM3", "backends": "CUDA", "model_filename": "models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
          "model_type": "llama 8B Q4_K - Medium", "model_size": 4912898048, "model_n_params": 8030261248,
          "n_batch": 2048, "n_ubatch": 512, "n_threads": 48, "cpu_mask": "0x0", "cpu_strict": False, "poll": 50,
          "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99, "n_cpu_moe": 0, "split_mode": "layer", "main_gpu": 0,
          "no_kv_offload": False, "flash_attn": 1, "devices": "auto", "tensor_split": "0.00", "tensor_buft_overrides": "none",
          "use_mmap": True, "use_direct_io": False, "embeddings": False, "no_op_offload": 0, "no_host": False}
recs = []
for n_prompt, n_gen, per_sample in ((512, 0, 0.0392), (0, 64, 0.3301)):
    samples = [int(round(per_sample * rng.uniform(0.985, 1.015) * 1e9)) for _ in range(3)]
    ts = [(n_prompt + n_gen) / (s * 1e-9) for s in samples]
    rec = dict(common)
    rec.update({"n_prompt": n_prompt, "n_gen": n_gen, "n_depth": 0, "test_time": "2026-11-27T10:21:07Z",
                "avg_ns": int(np.mean(samples)), "stddev_ns": int(np.std(samples, ddof=1)),
                "avg_ts": float(np.mean(ts)), "stddev_ts": float(np.std(ts, ddof=1)),
                "samples_ns": samples, "samples_ts": ts})
    recs.append(rec)
write("llama-bench.json", json.dumps(recs, indent=2) + "\n")

# 7. OTel collector file export: vLLM llm_request server spans, 6 requests over two export lines.
rows = request_model(6, 3.0, out_range=(10, 50))
def attr(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}
spans = []
for i, r in enumerate(rows):
    queue = round(rng.uniform(0.0005, 0.004), 6)
    e2e = r[3] + sum(r[4])
    start = epoch + int(round(r[0] * 1e9))
    spans.append({"traceId": f"{rng.getrandbits(128):032x}", "spanId": f"{rng.getrandbits(64):016x}", "parentSpanId": "",
                  "flags": 256, "name": "llm_request", "kind": 2, "startTimeUnixNano": str(start),
                  "endTimeUnixNano": str(start + int(round(e2e * 1e9))),
                  "attributes": [attr("gen_ai.response.model", "meta-llama/Llama-3.1-8B-Instruct"),
                                 attr("gen_ai.request.id", f"chatcmpl-{i:06x}"), attr("gen_ai.request.temperature", 0.7),
                                 attr("gen_ai.request.top_p", 1.0), attr("gen_ai.request.max_tokens", 256), attr("gen_ai.request.n", 1),
                                 attr("gen_ai.usage.prompt_tokens", r[1]), attr("gen_ai.usage.completion_tokens", r[2]),
                                 attr("gen_ai.latency.time_in_queue", queue), attr("gen_ai.latency.time_to_first_token", r[3]),
                                 attr("gen_ai.latency.e2e", e2e), attr("gen_ai.latency.time_in_model_prefill", r[3] - queue),
                                 attr("gen_ai.latency.time_in_model_decode", sum(r[4])),
                                 attr("gen_ai.latency.time_in_model_inference", e2e - queue)],
                  "status": {}})
def export(chunk):
    return {"resourceSpans": [{"resource": {"attributes": [attr("service.name", "vllm"), attr("vllm.process_id", 4127)]},
                               "scopeSpans": [{"scope": {"name": "vllm.tracing.otel"}, "spans": chunk}]}]}
write("otel-vllm-spans.jsonl", json.dumps(export(spans[:3])) + "\n" + json.dumps(export(spans[3:])) + "\n")

# 8. vLLM /metrics: one text scrape (V1 engine, two data-parallel engines), and AIPerf's
#    server_metrics_export.jsonl with 12 timestamped snapshots of the same server under load.
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
def prom_lines(running, waiting, usage, prompt_total, gen_total, preempt, ttft_sum, ttft_count):
    out = []
    lab = lambda e: f'engine="{e}",model_name="{MODEL}"'
    out.append("# HELP vllm:num_requests_running Number of requests in model execution batches.")
    out.append("# TYPE vllm:num_requests_running gauge")
    for e in (0, 1):
        out.append(f"vllm:num_requests_running{{{lab(e)}}} {float(running[e])}")
    out.append("# HELP vllm:num_requests_waiting Number of requests waiting to be processed.")
    out.append("# TYPE vllm:num_requests_waiting gauge")
    for e in (0, 1):
        out.append(f"vllm:num_requests_waiting{{{lab(e)}}} {float(waiting[e])}")
    out.append("# HELP vllm:num_requests_waiting_by_reason Number of requests waiting, by reason.")
    out.append("# TYPE vllm:num_requests_waiting_by_reason gauge")
    for e in (0, 1):
        out.append(f'vllm:num_requests_waiting_by_reason{{{lab(e)},reason="capacity"}} {float(waiting[e])}')
    out.append("# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.")
    out.append("# TYPE vllm:kv_cache_usage_perc gauge")
    for e in (0, 1):
        out.append(f"vllm:kv_cache_usage_perc{{{lab(e)}}} {usage[e]}")
    for name, v in (("prompt_tokens", prompt_total), ("generation_tokens", gen_total), ("num_preemptions", preempt)):
        out.append(f"# HELP vllm:{name}_total Number of {name}.")
        out.append(f"# TYPE vllm:{name}_total counter")
        for e in (0, 1):
            out.append(f"vllm:{name}_total{{{lab(e)}}} {float(v[e])}")
            out.append(f"vllm:{name}_created{{{lab(e)}}} 1.7957745e+09")
    out.append("# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.")
    out.append("# TYPE vllm:time_to_first_token_seconds histogram")
    for e in (0, 1):
        for le, frac in (("0.05", 0.4), ("0.1", 0.8), ("0.5", 0.97), ("+Inf", 1.0)):
            out.append(f'vllm:time_to_first_token_seconds_bucket{{{lab(e)},le="{le}"}} {float(round(ttft_count[e] * frac))}')
        out.append(f"vllm:time_to_first_token_seconds_count{{{lab(e)}}} {float(ttft_count[e])}")
        out.append(f"vllm:time_to_first_token_seconds_sum{{{lab(e)}}} {ttft_sum[e]}")
    out.append("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig")
    out.append("# TYPE vllm:cache_config_info gauge")
    out.append('vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",'
               'gpu_memory_utilization="0.9",num_cpu_blocks="None",num_gpu_blocks="27981",engine="0"} 1.0')
    return out

write("vllm-metrics.txt", "\n".join(prom_lines((7, 6), (0, 1), (0.4215, 0.3987), (182340, 179118), (24510, 23877),
                                                (0, 0), (9.81, 9.44), (188, 181))) + "\n")

snaps = []
state = {"prompt": [0, 0], "gen": [0, 0], "pre": [0, 0], "tsum": [0.0, 0.0], "tcount": [0, 0]}
for k in range(12):
    t = epoch + k * 500_000_000
    load = min(1.0, 0.25 + k * 0.08)
    usage = [round(min(0.99, load * rng.uniform(0.92, 1.0)), 4) for _ in (0, 1)]
    running = [int(8 + 24 * load) for _ in (0, 1)]
    waiting = [max(0, int((load - 0.85) * 60)) for _ in (0, 1)]
    for e in (0, 1):
        state["prompt"][e] += rng.randint(9000, 11000)
        state["gen"][e] += rng.randint(1800, 2200)
        state["pre"][e] += 1 if usage[e] > 0.95 else 0
        n = rng.randint(8, 12)
        state["tcount"][e] += n
        state["tsum"][e] += n * (0.05 + 0.4 * max(0, load - 0.7))
    fam = lambda name, vals: [{"labels": {"engine": str(e), "model_name": MODEL}, "value": vals[e]} for e in (0, 1)]
    metrics = {
        "vllm:num_requests_running": fam("r", [float(x) for x in running]),
        "vllm:num_requests_waiting": fam("w", [float(x) for x in waiting]),
        "vllm:kv_cache_usage_perc": fam("u", usage),
        "vllm:prompt_tokens_total": fam("p", [float(x) for x in state["prompt"]]),
        "vllm:generation_tokens_total": fam("g", [float(x) for x in state["gen"]]),
        "vllm:num_preemptions_total": fam("n", [float(x) for x in state["pre"]]),
        "vllm:time_to_first_token_seconds": [{"labels": {"engine": str(e), "model_name": MODEL},
                                              "histogram": {"0.05": 0.0, "0.1": 0.0, "+Inf": float(state["tcount"][e])},
                                              "sum": state["tsum"][e], "count": float(state["tcount"][e])} for e in (0, 1)],
        "vllm:cache_config_info": [{"labels": {"block_size": "16", "num_gpu_blocks": "27981", "enable_prefix_caching": "True",
                                               "engine": "0"}, "value": 1.0}],
    }
    snaps.append(json.dumps({"endpoint_url": "http://localhost:8000/metrics", "timestamp_ns": t,
                             "endpoint_latency_ns": 2_100_000 + k * 1000, "metrics": metrics}))
write("aiperf-server_metrics_export.jsonl", "\n".join(snaps) + "\n")
