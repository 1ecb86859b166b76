import Analysis
import Foundation
import Testing
@testable import InferScopeCLI

/// The advice matrix (`inferscope-bench advice`, issue #14): oracle, tie and hit logic and
/// Kendall τ-b on constructed measurements, the report's structure, and the tiny subset end to end.
@Suite struct AdviceMatrixTests {
    typealias C = AdviceMatrix.Candidate

    static func scenario(_ candidates: [C], objective: Objective = .throughput) -> AdviceMatrix.Scenario {
        AdviceMatrix.Scenario(setup: "s", model: "m", profile: ["--model", "m"], objective: objective,
                              baselineValue: 100, candidates: candidates)
    }

    @Test func kendallTauBOnKnownOrders() throws {
        #expect(AdviceMatrix.kendallTauB([1, 2, 3], [10, 20, 30]) == 1)
        #expect(AdviceMatrix.kendallTauB([1, 2, 3], [30, 20, 10]) == -1)
        // One discordant pair of three: (2 − 1)/3.
        let t = try #require(AdviceMatrix.kendallTauB([1, 2, 3], [1, 3, 2]))
        #expect(abs(t - 1.0 / 3) < 1e-12)
        // Ties in x: pairs (1,1) tied in x only; C = 2 ((1,3),(1,3)), D = 0 → 2/√(2·3).
        let tb = try #require(AdviceMatrix.kendallTauB([1, 1, 2], [1, 2, 3]))
        #expect(abs(tb - 2 / (2.0 * 3).squareRoot()) < 1e-12)
        #expect(AdviceMatrix.kendallTauB([1, 1, 1], [1, 2, 3]) == nil)
        #expect(AdviceMatrix.kendallTauB([1], [1]) == nil)
    }

    /// Measured ties: two candidates whose ranges overlap are tied in the measured order, so noise
    /// between two "no different" changes counts neither way; a triggered rule the greedy ranking
    /// dropped still implies its own gain.
    @Test func resolvedTauTiesOverlappingRangesAndUnrankedTriggeredRulesImplyTheirGain() throws {
        let s = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [0.95, 1.0, 1.05]),
            C(id: "R3", predicted: 2.5, triggered: true, rank: 1, samples: [1.9, 2.0, 2.1]),
            C(id: "R2", predicted: 2.1, triggered: true, rank: nil, samples: [1.7, 1.8, 1.85]),
            C(id: "R7", predicted: 1.1, triggered: false, samples: [1.02, 1.06, 1.1]),
        ])
        #expect(s.candidates[2].impliedFactor == 2.1)
        // Implied: R3 2.5 > R2 2.1 > none = R7 = 1. Measured medians: R3 > R2 > R7 > none.
        // Plain τ-b: 5 concordant, 1 tied in x only (none, R7): 5/√(6·5).
        #expect(abs(s.kendallTau! - 5 / (6.0 * 5).squareRoot()) < 1e-12)
        // Resolved: (none, R7) overlap → tied in both, left out: 5/√(5·5) = 1.
        #expect(abs(s.kendallTauResolved! - 1) < 1e-12)
        let sum = AdviceMatrix.summarize([s])
        #expect(sum.tauResolvedScenarios == 1 && abs(sum.meanKendallTauResolved! - 1) < 1e-12)
    }

    /// A predicted loss counts in the implied order whether or not the rule fired (the analyzer
    /// says it makes things worse); a withheld what-if gain of a rule that did not fire counts as
    /// no change; a "loss" within 5% of 1 is "about the same".
    @Test func predictedLossesRankBelowNoChangeAndWithheldGainsDoNot() throws {
        let s = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [0.97, 1.0, 1.03]),
            C(id: "R5", predicted: 1.3, triggered: true, rank: 1, samples: [1.2, 1.25, 1.3]),
            C(id: "R4", predicted: 0.25, triggered: false, samples: [0.2, 0.22, 0.25]),
            C(id: "R10", predicted: 1.6, triggered: false, samples: [0.98, 1.0, 1.02]),
            C(id: "R3", predicted: 0.97, triggered: false, samples: [0.99, 1.0, 1.01]),
        ])
        #expect(s.candidates.map(\.impliedFactor) == [1, 1.3, 0.25, 1, 1])
        // Implied R5 > none = R10 = R3 > R4; measured R5 > {none, R10, R3 overlapping} > R4.
        // Resolved τ-b: the 3 middle pairs are tied in both; 7 concordant pairs of 7 → 1.
        #expect(abs(s.kendallTauResolved! - 1) < 1e-12)
        let flipped = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [0.97, 1.0, 1.03]),
            C(id: "R4", predicted: 0.25, triggered: false, samples: [1.4, 1.5, 1.6]),
        ])
        #expect(flipped.kendallTau == -1)
    }

    @Test func medianAndPercentile() {
        #expect(AdviceMatrix.median([3, 1, 2]) == 2)
        #expect(AdviceMatrix.median([4, 1, 3, 2]) == 2.5)
        #expect(AdviceMatrix.median([]) == nil)
        #expect(AdviceMatrix.percentile([1, 2, 3, 4, 5], 0.9) == 4.6)
    }

    @Test func oracleIsTheBestMedianAndAResolvedWinnerIsAHitOnlyForIt() {
        let s = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [0.98, 1.0, 1.02]),
            C(id: "R1", predicted: 2.0, triggered: true, rank: 2, samples: [1.9, 2.1, 2.0]),
            C(id: "R10", predicted: 3.0, triggered: true, rank: 1, samples: [1.1, 1.15, 1.05]),
        ])
        #expect(s.oracle == "R1")
        #expect(s.runnerUp == "R10")
        #expect(s.tieSet == ["R1"] && !s.isTie)
        #expect(s.analyzerTop == "R10")
        #expect(s.hit == false)
        // Predicted R10 > R1 > none, measured R1 > R10 > none: pairs (R10,none), (R1,none) concordant, (R10,R1) not: τ = (2 − 1)/3.
        #expect(abs(s.kendallTau! - 1.0 / 3) < 1e-12)
    }

    @Test func overlappingRangesAreATieAndEitherAnswerIsAHit() {
        var candidates = [
            C(id: "none", predicted: 1, triggered: true, samples: [0.9, 1.0, 1.1]),
            C(id: "R7", predicted: 1.3, triggered: true, rank: 1, samples: [1.05, 1.12, 1.3]),
            C(id: "R5", predicted: 1.1, triggered: false, samples: [1.2, 1.15, 1.25]),
        ]
        let s = Self.scenario(candidates)
        #expect(s.oracle == "R5")
        #expect(s.isTie && s.tieSet.contains("R7") && s.tieSet.contains("none") == false)
        #expect(s.hit == true)
        // The analyzer abstaining (nothing ranked) is a miss here: no change is resolved below R5.
        candidates[1].rank = nil
        #expect(Self.scenario(candidates).analyzerTop == "none")
        #expect(Self.scenario(candidates).hit == false)
    }

    @Test func abstainingIsAHitWhenNothingBeatsTheBaseline() {
        let s = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [0.99, 1.0, 1.01]),
            C(id: "R4", predicted: 1.8, triggered: false, samples: [0.4, 0.39, 0.42]),
        ], objective: .tpot)
        #expect(s.oracle == "none" && s.analyzerTop == "none" && s.hit == true)
        let summary = AdviceMatrix.summarize([s])
        let r4 = summary.errors.first { $0.rule == "R4" }!
        #expect(r4.objective == .tpot && r4.count == 1)
        #expect(abs(r4.median - abs(0.4 - 1.8) / 1.8) < 1e-12)
    }

    @Test func cpuTimeThatOrdersTheTwoTheOtherWayMakesATie() {
        let s = Self.scenario([
            C(id: "none", predicted: 1, triggered: true, samples: [1, 1, 1], cpuSamples: [1, 1, 1]),
            C(id: "R2", triggered: false, samples: [1.5, 1.5, 1.5], cpuSamples: [1.1, 1.1, 1.1]),
            C(id: "R3", triggered: true, rank: 1, samples: [1.3, 1.3, 1.3], cpuSamples: [1.2, 1.2, 1.2]),
        ])
        #expect(s.oracle == "R2" && s.tieSet == ["R2", "R3"] && s.hit == true)
    }

    @Test func summaryCountsHitsTiesAndTau() {
        let hit = Self.scenario([C(id: "none", samples: [1, 1, 1]), C(id: "R1", predicted: 2, triggered: true, rank: 1, samples: [2, 2.2, 1.8])])
        let miss = Self.scenario([C(id: "none", samples: [1, 1, 1]), C(id: "R1", predicted: 2, triggered: true, rank: 1, samples: [0.5, 0.5, 0.5])])
        let s = AdviceMatrix.summarize([hit, miss])
        #expect(s.scenarios == 2 && s.judged == 2 && s.hits == 1 && s.ties == 0)
        #expect(s.topOneAgreement == 0.5)
        #expect(s.meanKendallTau == 0 && s.tauScenarios == 2)
    }

    @Test func reportHasEveryScenarioAndTheSummaryInAllFormats() throws {
        let s = Self.scenario([C(id: "none", predicted: 1, triggered: true, samples: [1, 1, 1]),
                               C(id: "R1", change: ["scheduler": "continuous"], predicted: 2, triggered: true, rank: 1,
                                 samples: [2, 2.2, 1.8])])
        let context = [("date", "d")]
        let text = AdviceMatrixReport.render([s], context: context, format: .text)
        #expect(text.contains("SCENARIOS") && text.contains("SUMMARY") && text.contains("scheduler=continuous"))
        #expect(text.contains("top-1 agreement (ties = hits)") && text.contains("100.0% (1/1, 0 ties)"))
        let md = AdviceMatrixReport.render([s], context: context, format: .markdown)
        #expect(md.contains("| setup | model | objective | analyzer top | oracle |"))
        let json = AdviceMatrixReport.render([s], context: context, format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["top1_agreement"] as? Double == 1)
        let scenarios = try #require(object["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == 1 && scenarios[0]["oracle"] as? String == "R1" && scenarios[0]["hit"] as? Bool == true)
        let candidates = try #require(scenarios[0]["candidates"] as? [[String: Any]])
        #expect(candidates.map { $0["id"] as? String } == ["none", "R1"])
        #expect((candidates[1]["samples"] as? [Double])?.count == 3)
    }

    /// The debug-sized subset end to end on the runtime: tiny model, one static setup, three
    /// objectives; every candidate run three times interleaved with the baseline. Checks the
    /// structure (not the speed): each scenario has the no-change candidate and R1's switch, three
    /// paired samples each, an oracle and a verdict.
    @Test func tinySubsetRunsEndToEnd() throws {
        let dir = temporaryDirectory()
        let setup = try #require(AdviceMatrixRunner.tinySubset().first)
        let context = CommandContext(stdout: CapturedOutput(), stderr: CapturedOutput(), environment: [:], workingDirectory: dir)
        let runner = AdviceMatrixRunner(threads: 1, seed: 5, repetitions: 3, probe: false, rules: ["R1", "R10"],
                                        directory: dir, context: context)
        var lines: [String] = []
        let scenarios = try runner.run(setup) { lines.append($0) }
        #expect(lines.count == 3)
        #expect(scenarios.map(\.objective) == [.throughput, .ttft, .tpot])
        for s in scenarios {
            let ids = s.candidates.map(\.id)
            #expect(ids.first == "none" && ids.contains("R1"), "\(ids)")
            for c in s.candidates {
                #expect(c.samples.count == 3, "\(s.objective) \(c.id): \(c.samples) \(c.note ?? "")")
                #expect(c.samples.allSatisfy { $0.isFinite && $0 > 0 })
            }
            #expect(s.candidates.first { $0.id == "R1" }?.change == ["scheduler": "continuous"])
            #expect(s.oracle != nil && s.hit != nil)
            #expect(s.profile.contains("static"))
        }
        #expect(scenarios[0].candidates.allSatisfy { $0.cpuSamples.count == 3 })
        let report = AdviceMatrixReport.render(scenarios, context: [], format: .text)
        #expect(report.split(separator: "\n").filter { $0.contains("tiny-mixed-static") }.count >= 3 + scenarios.map(\.candidates.count).reduce(0, +))
    }
}
