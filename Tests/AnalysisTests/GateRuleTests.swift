import Testing
@testable import Analysis

/// The gate's expression parser and its direction-aware regression arithmetic.
struct GateRuleTests {
    @Test func requirementsParseWithUnits() throws {
        #expect(try GateRule.parseRequirement("ttft.p99<=200ms") == GateRule(metric: "ttft.p99", kind: .bound(atMost: true, limit: 0.2)))
        #expect(try GateRule.parseRequirement(" e2e.p50 <= 1.5s ") == GateRule(metric: "e2e.p50", kind: .bound(atMost: true, limit: 1.5)))
        #expect(try GateRule.parseRequirement("itl.p90<=800us") == GateRule(metric: "itl.p90", kind: .bound(atMost: true, limit: 8e-4)))
        #expect(try GateRule.parseRequirement("throughput.output>=450") == GateRule(metric: "throughput.output", kind: .bound(atMost: false, limit: 450)))
        #expect(try GateRule.parseRequirement("goodput.attainment>=95%") == GateRule(metric: "goodput.attainment", kind: .bound(atMost: false, limit: 0.95)))
        #expect(try GateRule.parseRequirement("mbu.decode>=0.6") == GateRule(metric: "mbu.decode", kind: .bound(atMost: false, limit: 0.6)))
    }

    @Test func badRequirementsSayWhatWasExpected() {
        #expect(throws: GateRuleError.self) { try GateRule.parseRequirement("ttft.p99<200ms") }
        #expect(throws: GateRuleError.self) { try GateRule.parseRequirement("ttft.p99<=") }
        #expect(throws: GateRuleError.self) { try GateRule.parseRequirement("ttft.p99<=fast") }
        #expect(throws: GateRuleError.self) { try GateRule.parseRequirement("throughput.output>=-3") }
        do {
            _ = try GateRule.parseRequirement("tpot.p95<=0.05")
            Issue.record("a duration without a unit must be refused")
        } catch {
            #expect(error.description.contains("give a number with a unit"))
        }
        do {
            _ = try GateRule.parseRequirement("ttfb.p99<=1s")
            Issue.record("an unknown metric must be refused")
        } catch {
            #expect(error.description.contains("unknown metric 'ttfb.p99'"))
            #expect(error.description.contains("ttft.p99"))
        }
    }

    @Test func budgetsAndPercentages() throws {
        #expect(try GateRule.parseBudget("tpot.p99=20%") == GateRule(metric: "tpot.p99", kind: .maxRegression(0.2)))
        #expect(try GateRule.parseBudget("throughput.output=0.05") == GateRule(metric: "throughput.output", kind: .maxRegression(0.05)))
        #expect(throws: GateRuleError.self) { try GateRule.parseBudget("tpot.p99") }
        #expect(throws: GateRuleError.self) { try GateRule.parseBudget("tpot.p99=-5%") }
    }

    @Test func worseningFollowsTheMetricsDirection() {
        // Latency: up is worse. Throughput: down is worse.
        #expect(Gate.worsening(baseline: 100, current: 110, higherIsBetter: false) == 0.1)
        #expect(Gate.worsening(baseline: 100, current: 90, higherIsBetter: false) == -0.1)
        #expect(Gate.worsening(baseline: 200, current: 150, higherIsBetter: true) == 0.25)
        #expect(Gate.worsening(baseline: 200, current: 250, higherIsBetter: true) == -0.25)
        #expect(Gate.worsening(baseline: 0, current: 0, higherIsBetter: false) == 0)
        #expect(Gate.worsening(baseline: 0, current: 1, higherIsBetter: false) == .infinity)
        #expect(Gate.worsening(baseline: 0, current: 1, higherIsBetter: true) == -.infinity)
    }

    @Test func metricNamesAreUniqueAndDefaultsExist() {
        let names = GateMetric.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in GateMetric.defaultRegressionChecks { #expect(GateMetric.named(name) != nil) }
        #expect(GateMetric.named("ttft.p99")?.percentile == 99)
        #expect(GateMetric.named("ttft.mean")?.percentile == nil)
    }
}
