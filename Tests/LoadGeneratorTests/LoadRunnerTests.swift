import Testing
import TraceFormat
import Tracing
@testable import LoadGenerator

/// The runner against a scripted server on 127.0.0.1 (free port, bounded, stopped here).
@Suite(.serialized) struct LoadRunnerTests {
    static func requests(_ n: Int, tokens: Int) -> [LoadRequest] {
        (1...n).map { LoadRequest(id: UInt64($0), arrival: 0, promptTokens: [5, 6, 7], promptText: "a b c", maxTokens: tokens) }
    }

    @Test func closedLoopStreamsEveryChunkWithUsage() throws {
        let server = try ScriptedSSEServer()
        defer { server.stop() }
        var config = EndpointConfiguration(baseURL: server.baseURL + "/v1/", model: "scripted")
        config.maxConnections = 8
        let result = LoadRunner(configuration: config, clock: MonotonicClock()).run(Self.requests(6, tokens: 7), arrival: .closedLoop(concurrency: 3))
        #expect(result.records.map(\.id) == [1, 2, 3, 4, 5, 6] && result.notSent == 0 && !result.stopped)
        for r in result.records {
            let o = RequestOutcome(r)
            #expect(o.failure == nil && o.contentTimes.count == 7 && o.completionTokens == 7 && o.tokenSource == .usage)
            #expect(o.promptTokens == 3 && o.contentTimes == o.contentTimes.sorted() && o.contentTimes[0] >= r.sent)
        }
    }

    @Test func stopCancelsInFlightAndKeepsWhatHappened() throws {
        var script = ScriptedSSEServer.Script()
        script.chunkInterval = 5_000_000   // 20 chunks ≈ 100 ms per request; 40 requests at 4 ≈ 1 s
        let server = try ScriptedSSEServer(script: script)
        defer { server.stop() }
        let stop = StopFlag()
        let result = LoadRunner(configuration: EndpointConfiguration(baseURL: server.baseURL), clock: MonotonicClock())
            .run(Self.requests(40, tokens: 20), arrival: .closedLoop(concurrency: 4), stop: stop,
                 progress: { _, _ in stop.stop() })   // the first progress tick (≈ 250 ms) is the Ctrl-C
        #expect(result.stopped && result.notSent > 0)
        #expect(result.records.count + result.notSent == 40)
        let cancelled = result.records.filter(\.cancelled)
        #expect(!cancelled.isEmpty)
        #expect(cancelled.allSatisfy { RequestOutcome($0).failure == "cancelled by the client" })
        let header = RunHeader(producer: "t", model: ModelDescriptor(name: "m", dim: 0, layers: 0, heads: 0, kvHeads: 0, headDim: 0,
                                                                     ffnDim: 0, vocabSize: 0, maxContext: 0, weightType: "f32",
                                                                     bytesPerWeight: 4, kvType: "f32", bytesPerKVElement: 4),
                               hardware: HardwareDescriptor(name: "h", source: "unknown", threads: 1),
                               workload: WorkloadDescriptor(name: "w", requests: 40), clock: "CLOCK_MONOTONIC")
        let (events, summary) = EndpointTrace.events(result, snapshots: [], header: header)
        #expect(summary.cancelled == cancelled.count && summary.completed + summary.failed + summary.cancelled == result.records.count)
        // The trace of an interrupted run is still a valid trace.
        let loaded = try TraceReader.readAll(bytes: TraceEncoder.encode(events), options: .init(strict: true))
        #expect(loaded.events.count == events.count - 1 && loaded.header == header)
    }
}
