#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope analyze` end to end on a small committed trace (Fixtures/analyze-small.json, written
/// by `TraceWriter` from the events below; `RECORD_GOLDENS=1` rewrites it).
@Suite(.serialized) struct AnalyzeCommandTests {
    static let fixture = "Tests/InferScopeCLITests/Fixtures/analyze-small.json"

    /// Llama 3.1 8B BF16 on H100 SXM: two requests prefilled together, then decoded at 8 ms per step;
    /// a third arrives and is prefilled in a mixed step (24 ms) that stalls the other two.
    static func events() -> [TraceEvent] {
        let model = ModelDescriptor(name: "Llama 3.1 8B", dim: 4096, layers: 32, heads: 32, kvHeads: 8, headDim: 128,
                                    ffnDim: 14336, vocabSize: 128256, maxContext: 131072, weightType: "bf16",
                                    bytesPerWeight: 2, kvType: "bf16", bytesPerKVElement: 2)
        let header = RunHeader(producer: "inferscope 0.1.0", model: model,
                               hardware: HardwareDescriptor(name: "NVIDIA H100 SXM5 80GB", source: "catalog", threads: 1),
                               options: ["scheduler": "continuous", "kv_layout": "paged", "prefix_cache": "false", "block_size": "16"],
                               workload: WorkloadDescriptor(name: "small", requests: 3), clock: "test")
        let ms: Int64 = 1_000_000
        var ev: [TraceEvent] = [.header(header)]
        for r: RequestID in [1, 2] {
            ev.append(.request(RequestEvent(request: r, kind: .arrival, time: 0, promptTokens: 512)))
            ev.append(.request(RequestEvent(request: r, kind: .scheduled, time: 0, cachedTokens: 0)))
        }
        ev.append(.step(StepEvent(step: 0, phase: .prefill, start: 0, duration: 30 * ms, batch: [
            BatchEntry(request: 1, prefillTokens: 512, decodeTokens: 0, contextLength: 0),
            BatchEntry(request: 2, prefillTokens: 512, decodeTokens: 0, contextLength: 0)])))
        for r: RequestID in [1, 2] { ev.append(.request(RequestEvent(request: r, kind: .firstToken, time: 30 * ms))) }
        var t = 30 * ms
        for k in 1...8 {
            var batch = [BatchEntry(request: 1, prefillTokens: 0, decodeTokens: 1, contextLength: Int32(511 + k)),
                         BatchEntry(request: 2, prefillTokens: 0, decodeTokens: 1, contextLength: Int32(511 + k))]
            var duration = 8 * ms
            if k == 4 {
                ev.append(.request(RequestEvent(request: 3, kind: .arrival, time: t - 5 * ms, promptTokens: 256)))
                ev.append(.request(RequestEvent(request: 3, kind: .scheduled, time: t, cachedTokens: 0)))
                batch.append(BatchEntry(request: 3, prefillTokens: 256, decodeTokens: 0, contextLength: 0))
                duration = 24 * ms
            }
            ev.append(.step(StepEvent(step: Int64(k), phase: k == 4 ? .mixed : .decode, start: t, duration: duration, batch: batch)))
            t += duration
            ev.append(.kvCache(KVCacheCounters(time: t, blocksTotal: 1000, blocksUsed: k < 4 ? 66 : 83, blockSize: 16,
                                               tokensStored: Int64(k < 4 ? 1030 + 2 * k : 1290 + 2 * k), bytesUsed: 0)))
            for r: RequestID in [1, 2] { ev.append(.request(RequestEvent(request: r, kind: .token, time: t))) }
            if k == 4 { ev.append(.request(RequestEvent(request: 3, kind: .firstToken, time: t))) }
        }
        for r: RequestID in [1, 2] { ev.append(.request(RequestEvent(request: r, kind: .finished, time: t, tokens: 9))) }
        ev.append(.request(RequestEvent(request: 3, kind: .finished, time: t, tokens: 1)))
        return ev
    }

    @Test func fixtureIsCurrent() throws {
        try expectFixtureCurrent(Self.events(), Self.fixture)
    }

    @Test func goldenOutputs() {
        expectGolden("analyze-small", ["analyze", Self.fixture, "--slo", "ttft=50ms,itl=20ms", "--objective", "itl"])
        expectGolden("analyze-small-json", ["analyze", Self.fixture, "--json", "--hardware", "H100-SXM",
                                            "--on", "A100-80GB", "--price", "2"])
        expectGolden("analyze-unknown-hardware", ["analyze", Self.fixture, "--hardware", "H100-SMX"])
        expectGolden("analyze-bad-objective", ["analyze", Self.fixture, "--objective", "speed"])
        expectGolden("analyze-bad-slo", ["analyze", Self.fixture, "--slo", "ttft=fast"])
        expectGolden("analyze-missing-file", ["analyze", "no-such-trace.json"])
    }

    @Test func invalidTraceGivesNoPartialOutput() {
        let run = runCLI(["analyze", "Tests/InferScopeCLITests/Fixtures/malformed.json"])
        #expect(run.exit == .failure)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("malformed.json"))
    }
}
