#if canImport(Glibc)
import Glibc
#endif
import Analysis
import Reporting
import Testing
import TraceFormat
@testable import InferScopeCLI

/// The traps of issue 11, each a committed trace built from the events below (`RECORD_GOLDENS=1`
/// rewrites them) with a golden `analyze` output: a disaggregated run whose TTFT is tens of
/// seconds at ~10 ms TPOT (queueing → R12), a server scrape with dozens waiting at low KV usage
/// (admission cap → R13, never capacity-bound), an all-failed run (said first, nothing computed),
/// chunked streaming (ITL per chunk, TPOT per token), and an MoE model from a config.json.
@Suite(.serialized) struct VerdictTrapTests {
    static let dir = "Tests/InferScopeCLITests/Fixtures/"
    static let llama8B = ModelCatalog.all.first { $0.name == "Llama 3.1 8B" }!.descriptor()
    static let h100 = HardwareDescriptor(name: "NVIDIA H100 SXM5 80GB", source: "catalog", threads: 1)

    static func importedHeader(_ tool: String, file: String, parameters: [String: String], arrivals: String? = nil) -> RunHeader {
        var options = ["import.source_file": file]
        if let a = arrivals { options["import.arrivals"] = a }
        return RunHeader(producer: "inferscope-import \(tool)", model: llama8B, hardware: h100, options: options,
                         workload: WorkloadDescriptor(name: "external", requests: 0, parameters: parameters), clock: "client-monotonic")
    }

    /// SGLang PD-disaggregated result line (aggregates only): 1 prefill : 3 decode workers, 4000-token
    /// prompts, 256-token outputs, mean TTFT 24.3 s at 10.2 ms TPOT.
    static func disaggregated() -> [TraceEvent] {
        var a = AggregateSummary()
        a.ttft = .init(mean: 24.3, p50: 23.9, p99: 41.2)
        a.tpot = .init(mean: 0.0102, p50: 0.0101, p99: 0.0131)
        a.itl = .init(mean: 0.0102)
        a.e2e = .init(mean: 24.3 + 0.0102 * 255, p99: 44.0)
        a.inputTokensMean = 4000
        a.outputTokensMean = 256
        a.completed = 2000
        a.failed = 0
        a.durationSeconds = 640
        a.requestThroughput = 2000.0 / 640
        a.outputThroughput = 2000.0 * 256 / 640
        a.requestRate = .infinity
        a.maxConcurrency = 128
        a.prefillWorkers = 1
        a.decodeWorkers = 3
        var p: [String: String] = [:]
        a.write(into: &p)
        return [.header(importedHeader("sglang bench_serving", file: "sglang-pd-1p3d.jsonl", parameters: p, arrivals: "none: aggregates only"))]
    }

    /// vLLM /metrics scraped every second for a minute: running pinned at 64, 20-60 waiting, KV 28-33%.
    static func admissionScrape() -> [TraceEvent] {
        var ev: [TraceEvent] = [.header(importedHeader("vllm /metrics", file: "metrics.jsonl", parameters: [:]))]
        let total: Int32 = 28_000
        for s in 0..<60 {
            let used = total * Int32(28 + (s * 7) % 6) / 100
            let running: Int32 = s % 10 == 9 ? 63 : 64
            let waiting = Int32(20 + (s * 13) % 41)
            ev.append(.kvCache(KVCacheCounters(time: Int64(s) * 1_000_000_000, blocksTotal: total, blocksUsed: used, blockSize: 16,
                                               tokensStored: 0, bytesUsed: 0, running: running, waiting: waiting)))
        }
        return ev
    }

    /// A vLLM bench run where every request failed: 4 × HTTP 500 OOM, 2 × connection reset.
    static func allFailed() -> [TraceEvent] {
        var a = AggregateSummary()
        a.completed = 0
        a.failed = 6
        var p: [String: String] = [:]
        a.write(into: &p)
        var ev: [TraceEvent] = [.header(importedHeader("vllm bench serve", file: "vllm-failed.json", parameters: p, arrivals: "from start_times"))]
        for r: RequestID in 0..<6 {
            let t = Int64(r) * 100_000_000
            ev.append(.request(RequestEvent(request: r, kind: .arrival, time: t, promptTokens: 512)))
            ev.append(.request(RequestEvent(request: r, kind: .aborted, time: t + 50_000_000, tokens: 0,
                                            reason: r < 4 ? "HTTP 500: CUDA out of memory" : "ClientConnectorError: connection reset")))
        }
        return ev
    }

    /// Streaming in chunks of 4 tokens, 40 ms apart (10 ms per token), TTFT 40 ms: 12 requests, 1 s apart.
    static func chunked() -> [TraceEvent] {
        var ev: [TraceEvent] = [.header(importedHeader("vllm bench serve", file: "vllm-chunked.json", parameters: [:],
                                                       arrivals: "from start_times"))]
        let ms: Int64 = 1_000_000
        for r: RequestID in 0..<12 {
            let t0 = Int64(r) * 1000 * ms
            ev.append(.request(RequestEvent(request: r, kind: .arrival, time: t0, promptTokens: 800)))
            var t = t0 + 40 * ms
            ev.append(.request(RequestEvent(request: r, kind: .firstToken, time: t)))
            for _ in 0..<32 {
                t += 40 * ms
                ev.append(.request(RequestEvent(request: r, kind: .token, time: t, tokens: 4)))
            }
            ev.append(.request(RequestEvent(request: r, kind: .finished, time: t, tokens: 129)))
        }
        return ev
    }

    static let names = ["verdict-disaggregated", "verdict-admission-scrape", "verdict-all-failed", "verdict-chunked-stream"]
    static func events(_ name: String) -> [TraceEvent] {
        switch name {
        case "verdict-disaggregated": return disaggregated()
        case "verdict-admission-scrape": return admissionScrape()
        case "verdict-all-failed": return allFailed()
        default: return chunked()
        }
    }

    @Test func fixturesAreCurrent() throws {
        for name in Self.names { try expectFixtureCurrent(Self.events(name), Self.dir + name + ".json") }
    }

    @Test func goldenOutputs() {
        for name in Self.names { expectGolden("analyze-" + name, ["analyze", Self.dir + name + ".json"]) }
        expectGolden("analyze-verdict-disaggregated-json", ["analyze", Self.dir + "verdict-disaggregated.json", "--json"])
        expectGolden("analyze-import-moe-config", ["analyze", "traces/import/vllm-bench-serve.json", "--model",
                                                   Self.dir + "qwen3-moe-config.json", "--hardware", "H100"])
        expectGolden("analyze-hardware-list", ["analyze", "--hardware", "list"])
        expectGolden("analyze-model-list", ["analyze", "--model", "list"])
    }

    static func analyze(_ events: [TraceEvent], _ o: AnalysisOptions = AnalysisOptions()) throws -> AnalysisResult {
        try Analyzer.analyze(events, options: o)
    }

    @Test func disaggregatedQueueingIsCalledQueueingAndRebalanced() throws {
        let r = try Self.analyze(Self.disaggregated())
        #expect(r.verdict.level == .aggregates)
        let split = try #require(r.verdict.requestTime)
        #expect(split.dominant == .firstToken && split.level == .aggregates)
        #expect(abs(split.decodeSeconds - 0.0102 * 255) < 1e-9, "decode = mean E2E − mean TTFT")
        let e = try #require(r.aggregateEstimate)
        // Roofline prefill of one 4000-token prompt on H100: compute-bound, FLOPs / peak.
        let prompt = Self.llama8B.forwardCost(batch: [BatchEntry(request: 0, prefillTokens: 4000, decodeTokens: 0, contextLength: 0)], logitRows: 1)
        #expect(abs(e.prefillFloorSeconds - max(prompt.flops / 989.4e12, prompt.bytes / 3350e9)) < 1e-12)
        #expect(e.ttftIsQueueing && e.ttftOverFloor > 100)
        let x: Double = 2000.0 / 640, decode: Double = 0.0102 * 255
        let concurrency = try #require(e.concurrency), batch = try #require(e.decodeBatch)
        #expect(abs(concurrency - x * (24.3 + decode)) < 1e-9, "Little's law")
        #expect(abs(batch - x * decode / 3) < 1e-9, "per decode worker")
        let r12 = try #require(r.recommendations.first { $0.id == "R12" })
        #expect(r12.status == .triggered)
        #expect(r12.runtimeChange?["prefill_workers"] == "2" && r12.runtimeChange?["decode_workers"] == "3")
        #expect(r12.gains[.ttft]?.factor == 2)
        #expect(r.verdict.phase(.prefill)?.note?.contains("the first token waits") == true)
        // The same run without worker counts: R12 does not fire; with flags it does.
        var events = Self.disaggregated()
        if case .header(var h) = events[0] {
            h.workload.parameters["aggregate.prefill_workers"] = nil
            h.workload.parameters["aggregate.decode_workers"] = nil
            events[0] = .header(h)
        }
        #expect(try Self.analyze(events).recommendations.first { $0.id == "R12" }?.status == .notTriggered)
        var o = AnalysisOptions()
        o.prefillWorkers = 2
        o.decodeWorkers = 6
        let flagged = try Self.analyze(events, o).recommendations.first { $0.id == "R12" }
        #expect(flagged?.status == .triggered && flagged?.runtimeChange?["prefill_workers"] == "3")
    }

    @Test func admissionCapIsNeverCapacityBound() throws {
        let r = try Self.analyze(Self.admissionScrape())
        #expect(r.verdict.capacityBound == false)
        #expect(r.verdict.admissionCap?.allSatisfy(\.holds) == true)
        let r13 = try #require(r.recommendations.first { $0.id == "R13" })
        #expect(r13.status == .triggered)
        // Peak usage while waiting is 33% of 28000 blocks: N_new = min(64·0.9/u_peak, 64 + 60).
        let peak = Double(28_000 * 33 / 100) / 28_000
        #expect(r13.runtimeChange?["max_num_seqs"] == String(Int(min(64 * 0.9 / peak, 124).rounded(.down))))
        #expect(!r.recommendations.contains { $0.status == .triggered && ["R3", "R8"].contains($0.id) })
        // Raise KV usage to 95%: the same queue is then a KV limit, not an admission cap.
        let full = Self.admissionScrape().map { e -> TraceEvent in
            guard case .kvCache(var k) = e else { return e }
            k.blocksUsed = k.blocksTotal * 95 / 100
            return .kvCache(k)
        }
        let kvBound = try Self.analyze(full)
        #expect(kvBound.verdict.admissionCap == nil && kvBound.verdict.capacityBound == true)
        #expect(kvBound.recommendations.first { $0.id == "R13" }?.status == .notTriggered)
    }

    @Test func allFailedIsSaidFirstAndNothingIsComputed() throws {
        let r = try Self.analyze(Self.allFailed())
        let f = try #require(r.failures)
        #expect(f.allFailed && f.failed == 6 && f.completed == 0)
        #expect(f.errors.map(\.error) == ["HTTP 500: CUDA out of memory", "ClientConnectorError: connection reset"])
        #expect(f.errors.map(\.count) == [4, 2])
        #expect(r.verdict.requestTime == nil && r.aggregateEstimate == nil && r.verdict.level == nil)
        let first = TextReport.render(r).split(separator: "\n").first.map(String.init)
        #expect(first?.hasPrefix("FAILED: ALL 6 REQUESTS FAILED; errors: \"HTTP 500: CUDA out of memory\" ×4") == true)
    }

    @Test func chunkedStreamingUsesTPOTNotChunkITL() throws {
        let r = try Self.analyze(Self.chunked())
        #expect(abs(try #require(r.metrics.tpot?.mean) - 1.28 / 128) < 1e-12)
        #expect(abs(try #require(r.metrics.itl?.p50) - 0.040) < 1e-12, "ITL is per chunk")
        let e = try #require(r.estimate)
        #expect(e.decodeStepSeconds == r.metrics.tpot?.mean, "the decode step is the per-token TPOT")
        #expect(r.verdict.requestTime?.dominant == .decode)
        #expect(r.aggregateEstimate?.decodeStepRoofline != nil && r.aggregateEstimate?.ttftIsQueueing == false)
    }

    @Test func moeConfigCostAndHeaderRoundTrip() throws {
        let bytes = Array(FileBytes.text(of: packageRoot + "/" + Self.dir + "qwen3-moe-config.json")!.utf8)
        let m = try HuggingFaceConfig.descriptor(bytes, file: "qwen3-moe-config.json")
        #expect(m.isMoE && m.experts == 128 && m.expertsPerToken == 8 && m.expertFFNDim == 768 && m.kvHeads == 4 && m.headDim == 128)
        let d: Double = 2048, L: Double = 48
        let attn: Double = 2 * d * 32 * 128 + 2 * d * 4 * 128
        let router: Double = d * 128, expert: Double = 3 * d * 768
        let total: Double = L * (attn + 128 * expert + router)
        let active: Double = L * (attn + 8 * expert + router)
        #expect(m.linearParameters == total)
        #expect(m.activeLinearParameters == active)
        #expect(m.parameterCount == ModelCatalog.all.first { $0.name == "Qwen3 30B-A3B" }!.parametersComputed)
        // E·(1 − (1 − k/E)^T): one token touches k experts; many tokens approach all E.
        #expect(abs(m.expectedDistinctExperts(tokens: 1) - 8) < 1e-9)
        #expect(abs(m.expectedDistinctExperts(tokens: 64) - 128 * (1 - pow(1 - 8.0 / 128, 64))) < 1e-9)
        // Decode bytes: the affine parts plus the experts B tokens touch, not B·k experts.
        let one = m.decodeStepCost(batch: 1, context: 0), many = m.decodeStepCost(batch: 64, context: 0)
        let expertBytes: Double = L * expert * 2
        let perToken: Double = d * 2 + m.kvBytesPerToken
        let extraExperts: Double = m.expectedDistinctExperts(tokens: 64) - 8
        #expect(abs((many.bytes - one.bytes) - (63 * perToken + expertBytes * extraExperts)) < 1)
        #expect(abs(many.flops - 64 * one.flops) / many.flops < 1e-12, "FLOPs scale with tokens (active parameters)")
        // The header keeps the MoE fields; a dense header is written exactly as before (no new keys).
        let header = RunHeader(producer: "test", model: m, hardware: Self.h100, workload: WorkloadDescriptor(name: "x", requests: 0), clock: "test")
        let back = try TraceReader.readAll(bytes: TraceEncoder.encode([.header(header)])).header
        #expect(back.model == m)
        let dense = TraceEncoder.encode([.header(RunHeader(producer: "test", model: Self.llama8B, hardware: Self.h100,
                                                           workload: WorkloadDescriptor(name: "x", requests: 0), clock: "test"))])
        #expect(!String(decoding: dense, as: UTF8.self).contains("experts"))
    }

    @Test func engineIDsAndQuantizedSuffixes() {
        #expect(ModelCatalog.quantization(inID: "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8")?.type == "fp8")
        #expect(ModelCatalog.quantization(inID: "Qwen/Qwen2.5-3B-Instruct-AWQ")?.bytesPerWeight == 4.5 / 8)
        #expect(ModelCatalog.quantization(inID: "bartowski/Llama-3.3-70B-Instruct-Q4_K_M.gguf")?.type == "q4_k_m")
        #expect(ModelCatalog.quantization(inID: "RedHatAI/Qwen3-8B-quantized.w8a8")?.type == "int8")
        #expect(ModelCatalog.quantization(inID: "nvidia/Llama-3.1-8B-Instruct-NVFP4")?.type == "nvfp4")
        #expect(ModelCatalog.quantization(inID: "meta-llama/Llama-3.1-8B-Instruct") == nil)
    }
}
