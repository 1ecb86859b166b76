import Foundation
import Testing
import Analysis
@testable import InferScopeCLI

/// `inferscope diff A B`: goldens in the three formats, the additive time-per-token split, a run
/// against itself, the attribution of a known change (every decode step 25% longer), an
/// incomplete run named first, and usage errors.
@Suite(.serialized) struct DiffCommandTests {
    static let small = AnalyzeCommandTests.fixture
    static let slower = GateCommandTests.slower

    @Test func goldens() {
        expectGolden("diff-slower", ["diff", Self.small, Self.slower])
        expectGolden("diff-slower-markdown", ["diff", Self.small, Self.slower, "--format", "markdown"])
        expectGolden("diff-slower-json", ["diff", Self.small, Self.slower, "--json"])
        expectGolden("diff-static-vs-continuous", ["diff", "traces/profile-mixed-static.json", "traces/profile-mixed-continuous.json"])
        expectGolden("diff-bad-threshold", ["diff", Self.small, Self.slower, "--threshold", "lots"])
        expectGolden("diff-missing-b", ["diff", Self.small])
    }

    static func analysis(_ path: String) throws -> AnalysisResult {
        let context = CommandContext(stdout: CapturedOutput(), stderr: CapturedOutput(), environment: [:], workingDirectory: packageRoot)
        return try AnalyzeCommand.analyze(path, options: AnalysisOptions(), context: context)
    }

    /// The slower fixture differs only in decode step length: decode explains the whole change of
    /// time per output token, the parts add up to the total, and throughput/TPOT are "worse".
    @Test func attributesTheSlowerDecode() throws {
        let d = RunDiff(a: try Self.analysis(Self.small), b: try Self.analysis(Self.slower))
        let total = try #require(d.driver("time per output token")?.contribution)
        let parts = d.drivers.filter { $0.name.hasPrefix("time per output token: ") }.compactMap(\.contribution)
        #expect(abs(parts.reduce(0, +) - total) <= 1e-9 * max(1, abs(total)))
        let decode = try #require(d.driver("time per output token: decode")?.contribution)
        #expect(total > 0 && decode > 0.5 * total, "decode \(decode) of \(total)")
        let step = try #require(d.driver("decode step time (mean)")?.relative)
        #expect(step > 0.15 && step < 0.35, "decode steps were made 25% longer: \(step)")
        #expect(d.metric("tpot.p50")?.direction == .worse)
        #expect(d.findings.contains { $0.hasPrefix("TPOT p50 +") && $0.contains("decode step time") })
    }

    @Test func aRunAgainstItselfHasNoChange() throws {
        let r = try Self.analysis(Self.small)
        let d = RunDiff(a: r, b: r)
        #expect(d.metrics.allSatisfy { $0.direction == .unchanged || $0.direction == .unavailable })
        #expect(d.findings == ["no headline metric moved by 2% or more"])
        #expect(d.drivers.compactMap(\.contribution).allSatisfy { $0 == 0 })
    }

    /// A request-level workload verdict on one side and only a request-time split on the other:
    /// the diff compares the request-time splits, never one kind of label with the other.
    @Test func verdictsAreComparedLikeForLike() {
        let run = runCLI(["diff", "traces/import/vllm-bench-serve.json", "traces/import/sglang-bench-serving.jsonl"])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.contains("verdict: decode-dominated → decode-dominated"), "\(run.stdout.prefix(300))")
        #expect(!run.stdout.contains("verdict changed"))
    }

    @Test func incompleteRunIsNamedFirst() {
        let run = runCLI(["diff", Self.small, "traces/crashed-run.json"])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("INCOMPLETE RUN: "), "\(run.stdout.prefix(200))")
        let json = runCLI(["diff", Self.small, "traces/crashed-run.json", "--json"])
        #expect(json.stdout.contains("\"complete\": false"))
    }
}
