import Foundation
import Testing
import TraceFormat
@testable import Analysis
@testable import Reporting

/// Golden outputs of the report for the §7.5 worked-example trace. The goldens were reviewed by
/// hand against the hand computations in WorkedExampleTests; `RECORD_GOLDENS=1 swift test`
/// rewrites them (and the test fails that run so a rewrite is never silent).
@Suite struct GoldenTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    static func check(_ text: String, _ name: String) throws {
        let url = dir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("golden \(name) rewritten; re-run without RECORD_GOLDENS")
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "output differs from Goldens/\(name); review and re-record with RECORD_GOLDENS=1")
    }

    static let result: AnalysisResult = {
        var o = WorkedExampleTests.options
        o.whatIf = "A100-80GB"
        o.pricePerHour = 2.0
        return try! Analyzer.analyze(Fixtures.workedExample(), options: o)
    }()

    @Test func workedExampleJSON() throws {
        try Self.check(AnalysisJSON.render(Self.result), "worked-example.json")
    }

    @Test func workedExampleText() throws {
        try Self.check(TextReport.render(Self.result), "worked-example.txt")
    }

    @Test func jsonIsDeterministic() throws {
        let again = try Analyzer.analyze(Fixtures.workedExample(), options: Self.result.options)
        #expect(AnalysisJSON.render(again) == AnalysisJSON.render(Self.result))
    }
}
