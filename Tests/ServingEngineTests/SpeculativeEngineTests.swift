import Testing
import KVCache
import LlamaModel
import Scheduling
import ServingEngine
import TraceFormat
import Tracing

/// Speculation inside the serving engine's continuous batching: greedy outputs unchanged for
/// every strategy (also under preemption), the KV pool empty at the end, and the trace carrying
/// draft/verify spans and per-request acceptance.
struct SpeculativeEngineTests {
    static func options(_ spec: String?, gamma: String = "3", blocks: Int = 64) throws -> EngineOptions {
        var o = EngineOptions()
        o.threads = 1
        o.capacity = .blocks(blocks)
        o.blockSize = 8
        if let spec { o.speculation = SpeculationConfig(strategy: try DraftStrategy(parsing: spec), draftLength: try DraftLength(parsing: gamma)) }
        return o
    }

    static func outputs(_ r: RunResult) -> [UInt64: [Int32]] {
        Dictionary(uniqueKeysWithValues: r.requests.map { ($0.id, $0.output) })
    }

    static let reference = outputs(try! Fixtures.run(try! options(nil)))

    @Test(arguments: ["draft:tiny", "quant", "early-exit:1", "ngram"])
    func greedyOutputsUnchangedInsideContinuousBatching(strategy: String) throws {
        let sink = InMemorySink()
        let result = try Fixtures.run(try Self.options(strategy, gamma: strategy == "ngram" ? "adaptive" : "3"), sink: sink)
        #expect(Self.outputs(result) == Self.reference, "\(strategy) changed greedy outputs")
        let events = sink.events
        let verifies = events.compactMap { if case .step(let s) = $0, s.phase == .verify { s } else { nil } }
        let counters = events.compactMap { if case .speculation(let c) = $0 { c } else { nil } }
        #expect(!verifies.isEmpty && verifies.count == counters.count)
        for c in counters {
            let verify = verifies.first { $0.step == c.step }
            for r in c.perRequest { #expect(verify?.batch.first { $0.request == r.request }?.decodeTokens == r.drafted + 1) }
        }
        // Every block is back in the pool once all requests finished (no leak through rollbacks).
        let lastKV = events.compactMap { if case .kvCache(let k) = $0 { k } else { nil } }.last
        #expect(lastKV?.blocksUsed == 0)
        if strategy == "quant" { #expect(counters.reduce(0) { $0 + $1.accepted } > 0) }
    }

    @Test func speculationSurvivesPreemption() throws {
        for mode in PreemptionMode.allCases {
            var o = try Self.options("quant", gamma: "4", blocks: 14)
            o.preemption = mode
            let result = try Fixtures.run(o)
            #expect(Self.outputs(result) == Self.reference, "quant under \(mode) preemption changed greedy outputs")
            #expect(result.preemptions.values.reduce(0, +) > 0)
        }
    }

    @Test func disaggregatedSpeculationIsRejectedWithTheOptionName() throws {
        var o = try Self.options("ngram")
        o.disaggregated = true
        o.threads = 2
        #expect(throws: EngineError.self) { try o.validate() }
    }
}
