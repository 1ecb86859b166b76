/// One judged run: its analysis and its per-request values.
public struct GateRun: Sendable {
    public var result: AnalysisResult
    public var samples: RequestSamples
    public init(result: AnalysisResult, samples: RequestSamples) {
        self.result = result
        self.samples = samples
    }
}

extension Gate {
    /// Significance level of the rank tests: a regression beyond its budget fails only when a
    /// one-sided test gives p below this.
    public static let significance = 0.01

    /// Names of the deterministic quantities compared exactly when several runs are gated: a
    /// seeded workload gives the same counts on every rerun, so any difference is a real change.
    public static let exactMetrics: [(name: String, read: @Sendable (AnalysisResult) -> Double?)] = [
        ("requests.completed", { Double($0.metrics.requests.completed) }),
        ("tokens.input", { Double($0.metrics.requests.inputTokens) }),
        ("tokens.output", { Double($0.metrics.requests.outputTokens) }),
    ]

    /// Several runs per side (reruns of one configuration). With one run on each side this is
    /// ``evaluate(current:baseline:)``. Otherwise:
    /// - a latency metric (ttft, tpot, itl, e2e, queue) is the statistic of the per-request values
    ///   pooled over the side's runs; a regression beyond the budget fails only when the one-sided
    ///   Mann–Whitney U test on the per-request values (for ITL: each request's mean gap) gives
    ///   p < ``significance`` (rerun noise does not fail, a shift of the whole distribution does);
    /// - any other metric (one value per run) is the median over runs; a regression beyond the
    ///   budget fails only when every current run is worse than every baseline run;
    /// - limits (`--require`) apply to the pooled statistic or the median;
    /// - ``exactMetrics`` must be equal in every run of both sides.
    /// O(total requests · log).
    public func evaluate(current: [GateRun], baseline: [GateRun]) -> GateReport {
        precondition(!current.isEmpty, "no current run")
        var report = evaluate(current: current[0].result, baseline: baseline.first?.result)
        guard current.count > 1 || baseline.count > 1 else { return report }
        for i in report.checks.indices {
            var check = report.checks[i]
            guard let metric = GateMetric.named(check.rule.metric) else { continue }
            let parts = metric.name.split(separator: ".").map(String.init)
            let family = parts.first ?? "", statistic = parts.last ?? ""
            let latency = ["ttft", "tpot", "itl", "e2e", "queue"].contains(family)
            let pooledC = current.flatMap { $0.samples.values[family] ?? [] }
            let pooledB = baseline.flatMap { $0.samples.values[family] ?? [] }
            // The rank test's unit is the request: ITL compares each request's mean gap (a
            // request's gaps share its batch and its moment, so pooling them would count one
            // slow stretch hundreds of times).
            let testFamily = family == "itl" ? "itl.request" : family
            let testC = current.flatMap { $0.samples.values[testFamily] ?? [] }
            let testB = baseline.flatMap { $0.samples.values[testFamily] ?? [] }
            let runsC = current.compactMap { metric.value(in: $0.result) }
            let runsB = baseline.compactMap { metric.value(in: $0.result) }
            if latency {
                check.current = RequestSamples.statistic(statistic, of: pooledC)
                check.baseline = baseline.isEmpty ? nil : RequestSamples.statistic(statistic, of: pooledB)
                check.samples = pooledC.count
            } else {
                check.current = runsC.count == current.count ? Self.median(runsC) : nil
                check.baseline = !baseline.isEmpty && runsB.count == baseline.count ? Self.median(runsB) : nil
            }
            check.reason = ""
            switch check.rule.kind {
            case .bound(let atMost, let limit):
                if let v = check.current { check.status = (atMost ? v <= limit : v >= limit) ? .pass : .fail } else {
                    check.status = .fail
                    check.reason = "the runs have no \(metric.name) (\(Gate.why(metric.name)))"
                }
            case .maxRegression(let budget):
                guard let v = check.current, let b = check.baseline else {
                    check.status = .fail
                    check.reason = "a side has no \(metric.name) (\(Gate.why(metric.name)))"
                    break
                }
                let beyond = Gate.worsening(baseline: b, current: v, higherIsBetter: metric.higherIsBetter) > budget + 1e-12
                if latency {
                    let p = metric.higherIsBetter ? MannWhitney.pGreater(testB, than: testC)
                        : MannWhitney.pGreater(testC, than: testB)
                    check.status = beyond && p < Gate.significance ? .fail : .pass
                    check.reason = (family == "itl" ? "pooled \(pooledC.count) vs \(pooledB.count) gaps, tested as \(testC.count) vs \(testB.count) per-request means"
                                                    : "pooled \(pooledC.count) vs \(pooledB.count) values") + "; Mann-Whitney one-sided p = "
                        + NumberFormat.significant(p, digits: 2) + (beyond && p >= Gate.significance ? ": not significant, passes" : "")
                } else {
                    let worseC = metric.higherIsBetter ? runsC.max()! : runsC.min()!
                    let bestB = metric.higherIsBetter ? runsB.min()! : runsB.max()!
                    let separate = metric.higherIsBetter ? worseC < bestB : worseC > bestB
                    check.status = beyond && separate ? .fail : .pass
                    check.reason = "median of \(current.count) vs \(baseline.count) runs; "
                        + (separate ? "every run is worse than every baseline run" : "the runs overlap")
                        + (beyond && !separate ? ": passes" : "")
                }
            case .exact:
                break
            }
            report.checks[i] = check
        }
        if !baseline.isEmpty {
            for (name, read) in Self.exactMetrics {
                let all = (baseline + current).map { read($0.result) }
                let b = all.first ?? nil
                let same = all.allSatisfy { $0 != nil && $0 == b }
                report.checks.append(GateCheck(rule: GateRule(metric: name, kind: .exact), unit: .count, higherIsBetter: true,
                                               baseline: b, current: current.first.flatMap { read($0.result) }, samples: nil,
                                               status: same ? .pass : .fail,
                                               reason: same ? "" : "differs between runs: " + all.map { $0.map { "\(Int($0))" } ?? "-" }.joined(separator: ", ")))
            }
        }
        let verdictFails = report.verdictChangeFails && report.verdictBaseline != nil && report.verdictBaseline != report.verdictCurrent
        report.passed = !report.checks.contains { $0.status == .fail } && !verdictFails
        return report
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        return Distribution.percentile(sorted: values.sorted(), 50)
    }
}
