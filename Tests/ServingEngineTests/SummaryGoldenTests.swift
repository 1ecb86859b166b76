import Foundation
import Testing
import LlamaModel
import ServingEngine
import Tracing

/// The `inferscope profile` summary, byte for byte, from a run timed by a deterministic clock
/// (1 ms per clock reading). `RECORD_GOLDENS=1` rewrites the golden and fails the test.
struct SummaryGoldenTests {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    @Test func profileSummaryFormat() throws {
        var options = EngineOptions()
        options.threads = 1
        options.capacity = .blocks(9)
        options.blockSize = 8
        options.policy = .chunked
        options.tokenBudget = 32
        options.preemption = .swap
        let clock = SteppingClock(step: 1_000_000)
        let engine = try ServingEngine(model: Fixtures.tiny, options: options, tracer: Tracer(sink: nil, clock: clock),
                                       sleep: { clock.sleep(until: $0) })
        let workload = Fixtures.workload(arrival: .poisson(rate: 2_000))
        let result = try engine.run(workload)
        let text = result.summary(engine: engine, workload: workload, tracePath: "inferscope-trace.json")
        let path = Self.goldens.appendingPathComponent("profile-summary.txt")
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try text.write(to: path, atomically: true, encoding: .utf8)
            Issue.record("RECORD_GOLDENS=1: rewrote \(path.lastPathComponent); review it and run again without it")
            return
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(text == expected)
    }
}
