#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope gate` end to end: AnalyzeCommandTests' small trace is the baseline, and
/// Fixtures/gate-slower.json is the same run with every decode step 25% longer (later events
/// shifted by the time added), so decode latencies regress and prefill ones do not.
@Suite(.serialized) struct GateCommandTests {
    static let baseline = AnalyzeCommandTests.fixture
    static let slower = "Tests/InferScopeCLITests/Fixtures/gate-slower.json"

    /// The baseline's events with each decode step stretched by `factor`.
    static func slowerEvents(factor: Double = 1.25) -> [TraceEvent] {
        var shift: Int64 = 0
        return AnalyzeCommandTests.events().map { event in
            switch event {
            case .step(var s):
                s.start += shift
                if s.phase == .decode {
                    let longer = Int64((Double(s.duration) * factor).rounded())
                    shift += longer - s.duration
                    s.duration = longer
                }
                return .step(s)
            case .request(var r): r.time += shift; return .request(r)
            case .kvCache(var k): k.time += shift; return .kvCache(k)
            default: return event
            }
        }
    }

    @Test func fixtureIsCurrent() throws {
        try expectFixtureCurrent(Self.slowerEvents(), Self.slower)
    }

    @Test func regressionAgainstABaselineFailsWithExitOne() {
        let arguments = ["gate", Self.slower, "--baseline", Self.baseline]
        let run = runCLI(arguments)
        #expect(run.exit == .failure)
        // Decode steps got 25% slower. TPOT of requests 1 and 2 spans 7 decode steps and the 24 ms
        // mixed step: (7·8 + 24)/8 = 10 ms before, (7·10 + 24)/8 = 11.75 ms after, +17.5%. TTFT is
        // prefill only and does not move; p99 ITL is the unchanged mixed step.
        #expect(run.stdout.contains("tpot.p50"))
        let tpot = run.stdout.split(separator: "\n").first { $0.hasPrefix("tpot.p50") }.map(String.init) ?? ""
        #expect(tpot.hasSuffix("FAIL") && tpot.contains("+17.5%"))
        let ttft = run.stdout.split(separator: "\n").first { $0.hasPrefix("ttft.p50") }.map(String.init) ?? ""
        #expect(ttft.hasSuffix("pass"))
        expectGolden("gate-regression", arguments)
        expectGolden("gate-regression-markdown", arguments + ["--format", "markdown"])
        expectGolden("gate-regression-json", arguments + ["--format", "json"])
    }

    @Test func generousBudgetsPassWithExitZero() {
        let arguments = ["gate", Self.slower, "--baseline", Self.baseline, "--max-regression", "30%"]
        let run = runCLI(arguments)
        #expect(run.exit == .success)
        expectGolden("gate-pass-budget", arguments)
        // A per-metric budget overrides the default for that metric only.
        let tight = runCLI(arguments + ["--budget", "tpot.p50=5%"])
        #expect(tight.exit == .failure)
    }

    @Test func aRunAgainstItselfPasses() {
        let run = runCLI(["gate", Self.baseline, "--baseline", Self.baseline])
        #expect(run.exit == .success)
        #expect(!run.stdout.contains("FAIL"))
    }

    @Test func absoluteRequirementsAndMissingMetrics() {
        let ok = runCLI(["gate", Self.baseline, "--require", "ttft.p50<=40ms", "--require", "throughput.output>=10"])
        #expect(ok.exit == .success)
        let tooSlow = runCLI(["gate", Self.baseline, "--require", "ttft.p50<=20ms"])
        #expect(tooSlow.exit == .failure)
        // goodput needs SLO targets: a metric the trace cannot give fails the gate, with the reason.
        let missing = ["gate", Self.baseline, "--require", "goodput.attainment>=90%"]
        #expect(runCLI(missing).exit == .failure)
        expectGolden("gate-missing-metric", missing)
        let withSLO = runCLI(missing + ["--slo", "ttft=50ms"])
        #expect(withSLO.stdout.contains("goodput.attainment"))
    }

    @Test func usageErrorsTeach() {
        expectGolden("gate-unknown-metric", ["gate", Self.baseline, "--require", "ttft.p999<=1s"])
        expectGolden("gate-missing-unit", ["gate", Self.baseline, "--require", "ttft.p99<=200"])
        expectGolden("gate-budget-without-baseline", ["gate", Self.baseline, "--budget", "ttft.p99=5%"])
        expectGolden("gate-nothing-to-check", ["gate", Self.baseline])
        expectGolden("gate-list-metrics", ["gate", "--list-metrics"])
        #expect(runCLI(["gate", Self.baseline, "--require", "ttft.p99<200ms"]).exit == .usage)
        #expect(runCLI(["gate", Self.baseline, "--baseline", Self.baseline, "--format", "html"]).exit == .usage)
    }

    @Test func unreadableTraceIsAFailureWithNoReport() {
        let run = runCLI(["gate", "no-such-trace.json", "--require", "ttft.p99<=1s"])
        #expect(run.exit == .failure)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("no-such-trace.json"))
    }
}
