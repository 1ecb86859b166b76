import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// AIPerf, LLMPerf, llama-bench and OTel importers on their fixtures, and their error paths.
@Suite struct OtherImporterTests {
    @Test func aiperfRecordsBecomeRequests() throws {
        let records = try foundationJSON("aiperf-profile_export.jsonl", lines: true).map { $0 as! [String: Any] }
        let profiling = records.filter { ($0["metadata"] as! [String: Any])["benchmark_phase"] as? String == "profiling" }
        let events = try importFixture("aiperf-profile_export.jsonl", .aiperf)
        let byRequest = requestEvents(events)
        #expect(byRequest.count == profiling.count, "the warm-up record is skipped")
        let starts = profiling.map { Double(($0["metadata"] as! [String: Any])["request_start_ns"] as! Int) }
        var ttfts: [Double] = []
        var cached = 0, prompts = 0
        for (i, rec) in profiling.enumerated() {
            let evs = try #require(byRequest[RequestID(i)], "records are in start order")
            let arrival = evs[0]
            #expect(abs(seconds(arrival.time) - (starts[i] - starts.min()!) * 1e-9) < 1e-6)
            let metrics = rec["metrics"] as! [String: [String: Any]]
            if !(rec["error"] is NSNull) {
                #expect(evs.last?.kind == .aborted && evs.last?.reason == (rec["error"] as! [String: Any])["message"] as? String)
                continue
            }
            let ttft = (metrics["time_to_first_token"]!["value"] as! Double) / 1e3
            ttfts.append(ttft)
            let first = try #require(evs.first { $0.kind == .firstToken })
            #expect(abs(seconds(first.time - arrival.time) - ttft) < 2e-9)
            let gaps = (metrics["inter_chunk_latency"]!["value"] as! [Double]).map { $0 / 1e3 }
            let chunks = evs.filter { $0.kind == .firstToken || $0.kind == .token }
            #expect(zip(chunks.dropFirst(), chunks).map { seconds($0.time - $1.time) }.elementsEqual(gaps) { abs($0 - $1) < 2e-9 })
            #expect(evs.last?.tokens == Int32(metrics["output_sequence_length"]!["value"] as! Int))
            cached += metrics["usage_prompt_cache_read_tokens"]!["value"] as! Int
            prompts += metrics["input_sequence_length"]!["value"] as! Int
        }
        let m = try analyze(events).metrics
        #expect(close(m.ttft?.mean, ttfts.reduce(0, +) / Double(ttfts.count)))
        #expect(m.requests.aborted == 1)
        // AIPerf's per-request ITL = (latency − TTFT)/(OSL − 1) = our TPOT.
        let itlMean = profiling.compactMap { ($0["metrics"] as! [String: [String: Any]])["inter_token_latency"]?["value"] as? Double }
        #expect(close(m.tpot?.mean, itlMean.reduce(0, +) / Double(itlMean.count) / 1e3))
        #expect(close(m.prefix.measuredHitRate, Double(cached) / Double(prompts)))
    }

    @Test func llmperfKeepsTTFTAndE2EWithoutInventingChunks() throws {
        let recs = try #require(try foundationJSON("llmperf_individual_responses.json")[0] as? [[String: Any]])
        let events = try importFixture("llmperf_individual_responses.json", .llmperf)
        let byRequest = requestEvents(events)
        #expect(byRequest.count == recs.count)
        #expect(!events.contains { if case .request(let r) = $0 { return r.kind == .token }; return false })
        let ok = recs.filter { $0["error_code"] is NSNull }
        let m = try analyze(events).metrics
        #expect(m.requests.completed == ok.count && m.requests.aborted == recs.count - ok.count)
        #expect(close(m.ttft?.mean, ok.map { $0["ttft_s"] as! Double }.reduce(0, +) / Double(ok.count)))
        #expect(close(m.e2e?.mean, ok.map { $0["end_to_end_latency_s"] as! Double }.reduce(0, +) / Double(ok.count)))
        #expect(m.itl == nil, "LLMPerf has no chunk times")
        // LLMPerf's inter_token_latency_s = E2E / output tokens, rebuilt from the events.
        for (i, rec) in recs.enumerated() where rec["error_code"] is NSNull {
            let evs = byRequest[RequestID(i)]!
            let e2e = seconds(evs.last!.time - evs[0].time)
            #expect(close(e2e / Double(evs.last!.tokens!), rec["inter_token_latency_s"] as? Double))
        }
        #expect(try header(events).options["import.arrivals"]?.hasPrefix("synthesized") == true)
    }

    @Test func llamaBenchSamplesBecomeStepSpans() throws {
        let recs = try #require(try foundationJSON("llama-bench.json")[0] as? [[String: Any]])
        let events = try importFixture("llama-bench.json", .llamaBench)
        let steps = events.compactMap { if case .step(let s) = $0 { return s }; return nil }
        let prefill = steps.filter { $0.phase == .prefill }, decode = steps.filter { $0.phase == .decode }
        let pp = recs[0], tg = recs[1]
        #expect(prefill.map(\.duration) == (pp["samples_ns"] as! [Int]).map(Int64.init))
        #expect(prefill.allSatisfy { $0.prefillTokens == pp["n_prompt"] as! Int })
        let nGen = tg["n_gen"] as! Int
        // One step-run record per tg sample: n_gen decode steps at contexts 0, 1, …, n_gen − 1.
        #expect(decode.count == (tg["samples_ns"] as! [Int]).count)
        for (k, sample) in (tg["samples_ns"] as! [Int]).enumerated() {
            #expect(decode[k].duration == Int64(sample))
            #expect(decode[k].run == StepRun(count: Int64(nGen), contextIncrement: 1))
            #expect(decode[k].batch[0].contextLength == 0)
        }
        // Spans are laid end to end on one lane.
        #expect(zip(steps.dropFirst(), steps).allSatisfy { $0.start == $1.start + $1.duration })
        let h = try header(events)
        #expect(h.model.name == "Llama 3.1 8B")
        #expect(close(h.model.bytesPerWeight, Double(pp["model_size"] as! Int) / Double(pp["model_n_params"] as! Int)))
        #expect(h.hardware.name == "NVIDIA H100 SXM5 80GB")
        #expect(h.producer == "inferscope-import llama-bench 3f1a9c2 (6120)")
        // The analyzer's tg rate equals llama-bench's avg_ts (tokens/s = n_gen / mean sample time).
        let result = try analyze(events)
        let decodeSeconds = try #require(result.metrics.phases.seconds[.decode])
        let avg = Double(tg["avg_ns"] as! Int) * 1e-9
        #expect(close(Double(decode.reduce(0) { $0 + $1.stepCount }) / decodeSeconds, Double(nGen) / avg, 1e-3))
        // Decode MBU from the catalog roofline: ≈ the file's weight bytes per token / (step time · 3.35 TB/s).
        #expect(result.verdict.phases.contains { $0.phase == .decode })
        let roof = try #require(result.roofline?.phase(.decode))
        let expectedMBU = Double(pp["model_size"] as! Int) / (avg / Double(nGen) * 3.35e12)
        #expect(close(roof.mbu, expectedMBU, 0.05))
    }

    @Test func otelServerSpansBecomeRequests() throws {
        let events = try importFixture("otel-vllm-spans.jsonl", .otel)
        let docs = try foundationJSON("otel-vllm-spans.jsonl", lines: true)
        var spans: [[String: Any]] = []
        for d in docs {
            let rs = (d as! [String: Any])["resourceSpans"] as! [[String: Any]]
            for r in rs { for s in r["scopeSpans"] as! [[String: Any]] { spans += s["spans"] as! [[String: Any]] } }
        }
        func attr(_ span: [String: Any], _ key: String) -> Double? {
            for a in span["attributes"] as! [[String: Any]] where a["key"] as? String == key {
                let v = a["value"] as! [String: Any]
                return (v["doubleValue"] as? Double) ?? (v["intValue"] as? String).flatMap(Double.init)
            }
            return nil
        }
        let byRequest = requestEvents(events)
        #expect(byRequest.count == spans.count)
        let sorted = spans.sorted { Int64($0["startTimeUnixNano"] as! String)! < Int64($1["startTimeUnixNano"] as! String)! }
        for (i, span) in sorted.enumerated() {
            let evs = byRequest[RequestID(i)]!
            let arrival = evs[0].time
            #expect(abs(seconds(evs.first { $0.kind == .firstToken }!.time - arrival) - attr(span, "gen_ai.latency.time_to_first_token")!) < 2e-9)
            #expect(abs(seconds(evs.first { $0.kind == .scheduled }!.time - arrival) - attr(span, "gen_ai.latency.time_in_queue")!) < 2e-9)
            #expect(abs(seconds(evs.last!.time - arrival) - attr(span, "gen_ai.latency.e2e")!) < 2e-9)
            #expect(evs.last!.tokens == Int32(attr(span, "gen_ai.usage.completion_tokens")!))
            #expect(evs[0].promptTokens == Int32(attr(span, "gen_ai.usage.prompt_tokens")!))
        }
        let m = try analyze(events).metrics
        #expect(m.queue?.count == spans.count)
        #expect(try header(events).model.name == "Llama 3.1 8B")
    }

    @Test func errorPathsNameFileLineAndField() {
        #expect(importFailure("{\"metadata\": {}, \"metrics\": {}}\n", .aiperf, file: "p.jsonl")
                == "p.jsonl:1: field 'metadata.request_start_ns': expected the request start in epoch nanoseconds (0.1.x: metadata.timestamp_ns), found nothing")
        #expect(importFailure("{\"metadata\": {\"request_start_ns\": 1}, \"metrics\": {}}\n{\"metadata\": {\"request_start_ns\": 2}, \"metrics\": {\"time_to_first_token\": {\"value\": 3, \"unit\": \"fortnights\"}}}\n",
                              .aiperf, file: "p.jsonl")
                == "p.jsonl:2: field 'metrics.time_to_first_token.unit': expected a time unit (ms, ns, us, s), found \"fortnights\"")
        #expect(importFailure("{\"results_ttft_s_mean\": 0.1}", .llmperf, file: "s.json")
                == "s.json:1: expected a JSON array of per-request objects (the *_individual_responses.json file; the *_summary.json file has no per-request data), found an object")
        #expect(importFailure("[{\"error_code\": null, \"ttft_s\": \"soon\", \"end_to_end_latency_s\": 1}]", .llmperf, file: "r.json")
                == "r.json:1: field '[0].ttft_s': expected a time to first token in seconds, found a string")
        #expect(importFailure("[{\"n_prompt\": 512, \"n_gen\": 0}]", .llamaBench, file: "b.json")
                == "b.json:1: field '[0].samples_ns': expected the per-repetition times in ns (or avg_ns), found nothing")
        #expect(importFailure("{\"n_prompt\": 512, \"n_gen\": 0, \"samples_ns\": [0]}\n", .llamaBench, file: "b.jsonl")
                == "b.jsonl:1: field 'samples_ns[0]': expected a positive duration in ns up to 1e15, found 0.0")
        #expect(importFailure("{\"spans\": []}\n", .otel, file: "o.jsonl")
                == "o.jsonl:1: field 'resourceSpans': expected an array of resource spans (an OTLP/JSON export request), found nothing")
        #expect(importFailure("{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"attributes\": [{\"key\": \"gen_ai.usage.input_tokens\", \"value\": {\"intValue\": \"12\"}}]}]}]}]}",
                              .otel, file: "o.jsonl")
                == "o.jsonl:1: field 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano': expected epoch nanoseconds (a decimal string) in startTimeUnixNano and endTimeUnixNano")
    }

    @Test func detectionPicksEachFixturesFormat() throws {
        let expected: [(String, ImportFormat)] = [
            ("vllm-bench-serve.json", .vllm), ("vllm-append-old.json", .vllm), ("sglang-bench-serving.jsonl", .sglang),
            ("aiperf-profile_export.jsonl", .aiperf), ("llmperf_individual_responses.json", .llmperf),
            ("llama-bench.json", .llamaBench), ("otel-vllm-spans.jsonl", .otel), ("vllm-metrics.txt", .vllmMetrics),
            ("aiperf-server_metrics_export.jsonl", .vllmMetrics), ("aiperf-profile_export_aiperf.csv", .aiperfCSV),
        ]
        for (name, format) in expected {
            #expect(try ImportDetection.detect(firstBytes: try fixtureBytes(name), file: name) == format, "\(name)")
        }
        #expect(throws: ImportError(file: "x.json", message: "not a recognised format; supported: vllm (vLLM `bench serve` result JSON), sglang (SGLang bench_serving JSONL), aiperf (AIPerf profile_export.jsonl), aiperf-csv (AIPerf profile_export_aiperf.csv (aggregates only)), llmperf (LLMPerf individual_responses.json), llama-bench (llama.cpp llama-bench JSON/JSONL), otel (OpenTelemetry OTLP/JSON spans with gen_ai.* attributes), vllm-metrics (vLLM Prometheus /metrics scrape or AIPerf server_metrics_export.jsonl), serving-text (vLLM/SGLang 'Serving Benchmark Result' console block), vllm-nightly (vLLM nightly benchmark results (a list of runs)), genai-perf (GenAI-Perf profile_export_genai_perf.json/.csv (aggregates only)), perf-analyzer (perf_analyzer profile_export.json), aiperf-json (AIPerf profile_export_aiperf.json (aggregates only)), llmperf-summary (LLMPerf summary.json (aggregates only)), llama-server (llama.cpp server responses with timings), llama-bench-md (llama.cpp llama-bench markdown table), trtllm-bench (trtllm-bench console report), kineto (PyTorch profiler / Kineto Chrome trace (.json, .json.gz)). If this is one of them, force it with --from NAME")) {
            try ImportDetection.detect(firstBytes: Array("{\"hello\": 1}".utf8), file: "x.json")
        }
        #expect(throws: ImportError(file: "y.json", message: "ambiguous format: looks like vllm or sglang; force one with --from NAME")) {
            try ImportDetection.detect(firstBytes: Array("{\"ttfts\": [], \"itls\": []}".utf8), file: "y.json")
        }
    }
}
