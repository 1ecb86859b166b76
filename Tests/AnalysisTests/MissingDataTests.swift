import Testing
import TraceFormat
@testable import Analysis
@testable import Reporting

/// A trace lacking data: the analysis must say what it cannot conclude instead of guessing.
@Suite struct MissingDataTests {
    /// Header with an unknown, unmeasured machine; steps without batch composition or cost; no
    /// request, KV or speculation events.
    static let bare: [TraceEvent] = [
        Fixtures.header(hardware: HardwareDescriptor(name: "Mystery Box 9000", source: "unknown", threads: 4)),
        .step(StepEvent(step: 0, phase: .decode, start: 0, duration: 10 * Fixtures.ms)),
        .step(StepEvent(step: 1, phase: .decode, start: 10 * Fixtures.ms, duration: 10 * Fixtures.ms)),
    ]

    @Test func saysWhatItCannotConclude() throws {
        let r = try Analyzer.analyze(Self.bare, options: .init())
        #expect(r.hardware == nil && r.roofline == nil)
        #expect(r.verdict.phases.isEmpty)
        #expect(r.verdict.capacityBound == nil)
        let text = r.cannotConclude.joined(separator: "\n")
        #expect(text.contains("request events"))
        #expect(text.contains("KV-cache counters"))
        #expect(text.contains("'Mystery Box 9000'"))
        #expect(text.contains("--hardware"))
        // Rules that need the missing data say so instead of firing.
        for id in ["R3", "R4", "R5", "R7", "R10"] {
            let rec = r.rule(id)
            #expect(rec.status == .insufficientData, "\(id)")
            #expect(!rec.missing.isEmpty)
        }
        #expect(r.ranking.entries.isEmpty)
        let report = TextReport.render(r)
        #expect(report.contains("CANNOT CONCLUDE"))
        #expect(report.contains("phases: unknown"))
    }

    @Test func hostNeedsMeasuredPeaks() throws {
        let e = failure { () throws(AnalysisError) in _ = try Analyzer.analyze(Self.bare, options: .init(hardware: "host")) }
        #expect(e == .hostPeaksMissing(field: "memoryBandwidth"))
    }

    @Test func hostUsesTheHeaderProbes() throws {
        let hw = HardwareDescriptor(name: "Test CPU", source: "measured", threads: 2, memoryBandwidth: 20e9, peakFLOPS: 200e9)
        var ev = Self.bare
        ev[0] = Fixtures.header(hardware: hw)
        let r = try Analyzer.analyze(ev, options: .init(hardware: "host"))
        #expect(r.hardware?.origin == "measured" && r.roofline?.ridge == 10)
    }

    @Test func missingHeaderIsAnError() {
        let e = failure { () throws(AnalysisError) in
            _ = try Analyzer.analyze([TraceEvent.step(StepEvent(step: 0, phase: .decode, start: 0, duration: 1))], options: .init())
        }
        #expect(e == .missingHeader)
    }
}
