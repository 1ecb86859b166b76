import Foundation
import Testing
import TraceFormat
@testable import Analysis

/// Verdicts on traces recorded by InferScope's runtime (`inferscope profile`, release build,
/// stories15m; see Fixtures/README in the test comments): workloads of known character.
/// No hardware spec is given, so the results do not depend on the machine running the tests.
@Suite struct RuntimeTraceTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func analyze(_ name: String, _ options: AnalysisOptions = .init()) throws -> AnalysisResult {
        let reader = try TraceReader(path: dir.appendingPathComponent(name).path)
        var analyzer = try Analyzer(options: options)
        while let event = reader.next() { try analyzer.consume(event) }
        #expect(!reader.hasErrors)
        return try analyzer.finish()
    }

    /// `profile --workload agent --requests 8`: 16–48-token prompts, 80–128-token outputs.
    @Test func agentIsDecodeBound() throws {
        let r = try Self.analyze("runtime-agent.json")
        #expect(r.verdict.workload == .decodeBound)
        #expect(r.metrics.phases.prefillShareOfBusy < 0.3)
        #expect(r.metrics.requests.completed == 8)
        // The runtime records FLOPs and bytes on every forward span.
        #expect(r.metrics.work.allSatisfy { $0.stepsWithTraceCost == $0.steps })
    }

    /// `profile --workload rag --scheduler chunked --requests 16`: 120–200-token prompts, 8–24 outputs.
    @Test func ragOnChunkedIsPrefillHeavy() throws {
        let r = try Self.analyze("runtime-rag-chunked.json")
        #expect(r.verdict.workload == .prefillBound)
        #expect(r.metrics.phases.seconds[.mixed, default: 0] > 0)
        #expect(r.metrics.phases.mixedSplitMethod != "none")
        #expect(r.metrics.stepModel != nil)
    }

    /// `profile --workload chat --scheduler static --requests 6 --rate 100`.
    @Test func staticSchedulerIsDetected() throws {
        let r = try Self.analyze("runtime-chat-static.json")
        #expect(r.metrics.staticBatching.detected)
        #expect(r.metrics.staticBatching.joinsWhileDecoding == 0)
        #expect(r.rule("R1").status == .triggered)
        #expect(r.rule("R1").runtimeChange == ["scheduler": "continuous"])
    }

    /// Without peaks the analysis says what it cannot conclude, and `host` without probes fails clearly.
    @Test func runtimeTraceWithoutPeaks() throws {
        let r = try Self.analyze("runtime-agent.json")
        #expect(r.roofline == nil)
        #expect(r.cannotConclude.contains { $0.contains("--hardware") })
        let e = failure { () throws(AnalysisError) in
            let reader = try? TraceReader(path: Self.dir.appendingPathComponent("runtime-agent.json").path)
            var a = try Analyzer(options: .init(hardware: "host"))
            while let event = reader?.next() { try a.consume(event) }
            _ = try a.finish()
        }
        #expect(e == .hostPeaksMissing(field: "memoryBandwidth"))
    }
}
