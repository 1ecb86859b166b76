import Testing
import PrometheusText
import TraceFormat
@testable import LoadGenerator

/// Each engine's exposition names map to the trace's quantities; the trace builder turns
/// records and scrapes into request lanes and counters.
@Suite struct ServerMetricsTests {
    static func snapshot(_ text: String) throws -> ServerSnapshot {
        ServerMetrics.snapshot(try PrometheusText.parse(text, lenient: false), at: 0)
    }

    @Test func vllmSumsEnginesAndAveragesUsage() throws {
        let s = try Self.snapshot("""
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{engine="0",model_name="m"} 3.0
            vllm:num_requests_running{engine="1",model_name="m"} 2.0
            vllm:num_requests_waiting{engine="0",model_name="m"} 4.0
            vllm:num_requests_waiting_by_reason{engine="0",reason="capacity"} 9.0
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5
            vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.25
            vllm:num_preemptions_total{engine="0",model_name="m"} 7.0
            vllm:num_preemptions_created{engine="0",model_name="m"} 1.7e9
            vllm:spec_decode_num_drafts_total{engine="0"} 10
            vllm:spec_decode_num_draft_tokens_total{engine="0"} 40
            vllm:spec_decode_num_accepted_tokens_total{engine="0"} 30
            vllm:generation_tokens_total{engine="0",model_name="m"} 1234
            """)
        #expect(s.server == .vllm)
        #expect(s.values == [.running: 5, .waiting: 4, .kvUsage: 0.375, .preemptions: 7, .specDrafts: 10,
                             .specDraftTokens: 40, .specAcceptedTokens: 30, .generationTokens: 1234])
    }

    @Test func renamedVLLMGaugeIsStillRead() throws {
        #expect(try Self.snapshot("vllm:gpu_cache_usage_perc 0.9\n").values[.kvUsage] == 0.9)
    }

    @Test func sglang() throws {
        let s = try Self.snapshot("""
            sglang:num_running_reqs{model_name="m"} 8
            sglang:num_queue_reqs{model_name="m"} 2
            sglang:token_usage{model_name="m"} 0.61
            sglang:num_retracted_requests_total{model_name="m"} 3
            sglang:spec_accept_rate{model_name="m"} 0.7
            sglang:generation_tokens_total{model_name="m"} 99
            """)
        #expect(s.server == .sglang)
        #expect(s.values == [.running: 8, .waiting: 2, .kvUsage: 0.61, .preemptions: 3, .specAcceptRate: 0.7, .generationTokens: 99])
    }

    @Test func llamaCppHasNoKVGauge() throws {
        let s = try Self.snapshot("""
            # HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
            # TYPE llamacpp:prompt_tokens_total counter
            llamacpp:prompt_tokens_total 120
            llamacpp:tokens_predicted_total 640
            llamacpp:requests_processing 2
            llamacpp:requests_deferred 2
            llamacpp:n_busy_slots_per_decode 1.5
            llamacpp:predicted_tokens_seconds 41.2
            """)
        #expect(s.server == .llamacpp)
        #expect(s.values == [.promptTokens: 120, .generationTokens: 640, .running: 2, .waiting: 2])
        #expect(s.values[.kvUsage] == nil)
    }

    @Test func tgi() throws {
        let s = try Self.snapshot("""
            tgi_batch_current_size 4
            tgi_queue_size 1
            tgi_request_generated_tokens_sum 500
            tgi_request_generated_tokens_count 10
            tgi_request_input_length_sum 800
            """)
        #expect(s.server == .tgi)
        #expect(s.values == [.running: 4, .waiting: 1, .generationTokens: 500, .promptTokens: 800])
    }

    @Test func unknownServerAndBadLines() throws {
        #expect(try Self.snapshot("process_cpu_seconds_total 1.5\n").server == nil)
        #expect(throws: PrometheusLineError.self) { try PrometheusText.parse("ok 1\nvllm:x{a=\"1\" 2\n", lenient: false) }
        #expect(try PrometheusText.parse("ok 1\nvllm:x{a=\"1\" 2\nbad\n", lenient: true).map(\.name) == ["ok"])
        let sample = try PrometheusText.parseLine(#"m{a="x\"y",b="1"} +Inf 1795774500000"#)
        #expect(sample == PrometheusSample(name: "m", labels: ["a": "x\"y", "b": "1"], value: .infinity,
                                           timestampMilliseconds: 1795774500000))
    }

    @Test func traceOfRecordsAndScrapes() {
        func payload(_ t: Int64, _ s: String) -> TimedPayload { TimedPayload(time: t, data: Array(s.utf8)) }
        // Request 1: three content chunks, usage says 5 tokens (bundled chunks): the extra ride on the last.
        var r1 = RequestRecord(id: 1, promptLength: 10, maxTokens: 5, sent: 1_000)
        r1.status = 200
        r1.payloads = [payload(1_100, #"{"choices":[{"delta":{"role":"assistant"}}]}"#),
                       payload(1_200, #"{"choices":[{"text":"a"}]}"#), payload(1_300, #"{"choices":[{"text":"bc"}]}"#),
                       payload(1_400, #"{"choices":[{"text":"de"}]}"#),
                       payload(1_500, #"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5}}"#), payload(1_500, "[DONE]")]
        r1.end = 1_600
        // Request 2: HTTP 503.
        var r2 = RequestRecord(id: 2, promptLength: 4, maxTokens: 3, sent: 2_000)
        r2.status = 503
        r2.errorBody = Array("queue full".utf8)
        r2.end = 2_100
        // Request 3: cancelled after one chunk, no usage.
        var r3 = RequestRecord(id: 3, promptLength: 4, maxTokens: 3, sent: 2_000)
        r3.status = 200
        r3.payloads = [payload(2_500, #"{"choices":[{"text":"x"}]}"#)]
        r3.cancelled = true
        r3.end = 2_600
        let result = LoadResult(records: [r1, r2, r3], start: 1_000, end: 3_000, notSent: 0, stopped: true, warmupFailures: 0)
        let snaps = [ServerSnapshot(time: 1_050, server: .vllm, values: [.kvUsage: 0.25, .running: 1, .specDraftTokens: 0, .specAcceptedTokens: 0, .specDrafts: 0]),
                     ServerSnapshot(time: 1_550, server: .vllm, values: [.kvUsage: 0.5, .running: 2, .specDraftTokens: 8, .specAcceptedTokens: 6, .specDrafts: 2])]
        let header = RunHeader(producer: "t", model: ModelDescriptor(name: "m", dim: 0, layers: 0, heads: 0, kvHeads: 0, headDim: 0, ffnDim: 0,
                                                                     vocabSize: 0, maxContext: 0, weightType: "f32", bytesPerWeight: 4,
                                                                     kvType: "f32", bytesPerKVElement: 4),
                               hardware: HardwareDescriptor(name: "h", source: "unknown", threads: 1),
                               workload: WorkloadDescriptor(name: "w", requests: 3), clock: "manual")
        let (events, summary) = EndpointTrace.events(result, snapshots: snaps, header: header)
        #expect(summary.completed == 1 && summary.failed == 1 && summary.cancelled == 1)
        #expect(summary.chunkMismatches == 1 && summary.tokenSources == [.usage: 1])
        let requests = events.compactMap { e -> RequestEvent? in if case .request(let r) = e { return r } else { return nil } }
        let one = requests.filter { $0.request == 1 }
        #expect(one.map(\.kind) == [.arrival, .firstToken, .token, .token, .finished])
        #expect(one.map(\.time) == [0, 200, 300, 400, 600])            // relative to the start; role-only chunk is not a token
        #expect(one.compactMap(\.tokens) == [1, 1, 3, 5])               // 1 + 1 + (1 + 2 bundled) = usage 5
        #expect(one.first?.promptTokens == 11)                          // usage overrides the planned 10
        let two = requests.filter { $0.request == 2 }
        #expect(two.last?.kind == .aborted && two.last?.reason == "HTTP 503: queue full")
        let three = requests.filter { $0.request == 3 }
        #expect(three.last?.kind == .aborted && three.last?.reason == "cancelled by the client" && three.last?.tokens == 1)
        let kv = events.compactMap { e -> KVCacheCounters? in if case .kvCache(let k) = e { return k } else { return nil } }
        #expect(kv.map(\.blocksUsed) == [2_500, 5_000] && kv.map(\.time) == [50, 550] && kv.map(\.running) == [1, 2])
        let spec = events.compactMap { e -> SpeculationCounters? in if case .speculation(let s) = e { return s } else { return nil } }
        #expect(spec.count == 1 && spec[0].drafted == 8 && spec[0].accepted == 6 && spec[0].draftLength == 4)
        #expect(EndpointTrace.counterSummary(snaps)["server.kv_usage.max"] == "0.5")
        #expect(EndpointTrace.counterSummary(snaps)["server.spec_accepted_tokens.delta"] == "6")
        // Time-ordered after the header.
        if case .header = events[0] {} else { Issue.record("header first") }
    }
}
