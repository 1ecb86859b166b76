import Testing
import TraceFormat
@testable import Analysis
@testable import Reporting

/// Seeded random traces of every event kind (TraceFormat's SyntheticTrace, plausible and
/// adversarial values): the analysis must finish and render, never trap.
@Suite struct RobustnessTests {
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func syntheticTracesAnalyse(seed: UInt64) throws {
        for adversarial in [false, true] {
            var gen = SyntheticTrace(seed: seed, adversarial: adversarial)
            let events = gen.events(1500)
            for options in [AnalysisOptions(), AnalysisOptions(hardware: "H100-SXM", objective: .itl,
                                                               slo: ServiceLevelObjectives(ttft: 0.1, tpot: 0.01, itl: 0.02),
                                                               whatIf: "L4", pricePerHour: 1)] {
                let r = try Analyzer.analyze(events, options: options)
                #expect(!TextReport.render(r).isEmpty)
                #expect(AnalysisJSON.render(r).hasPrefix("{"))
                #expect(r.recommendations.count == RuleSet.all.count)
            }
        }
    }
}
