import TraceFormat

/// A CI performance gate: a run's analysis held to absolute requirements and, given a baseline
/// run, to regression budgets. Pure: the same analyses and rules give the same report.
public struct Gate: Sendable {
    public var rules: [GateRule]
    /// Fail when the workload verdict (prefill-/decode-/load-bound) differs from the baseline's.
    public var failOnVerdictChange: Bool

    public init(rules: [GateRule], failOnVerdictChange: Bool = false) {
        self.rules = rules
        self.failOnVerdictChange = failOnVerdictChange
    }

    /// Checks `current` (and `baseline`, needed by regression rules). O(rules).
    public func evaluate(current: AnalysisResult, baseline: AnalysisResult?) -> GateReport {
        var checks: [GateCheck] = []
        for rule in rules {
            guard let metric = GateMetric.named(rule.metric) else { continue }  // rules are parsed against the list
            let now = metric.value(in: current)
            let before = baseline.flatMap { metric.value(in: $0) }
            var check = GateCheck(rule: rule, unit: metric.unit, higherIsBetter: metric.higherIsBetter,
                                  baseline: before, current: now, samples: metric.sampleSize(in: current),
                                  status: .pass, reason: "")
            switch rule.kind {
            case .bound(let atMost, let limit):
                if let v = now {
                    let holds = atMost ? v <= limit : v >= limit
                    check.status = holds ? .pass : .fail
                } else {
                    check.status = .fail
                    check.reason = "the trace has no \(metric.name) (\(Gate.why(metric.name)))"
                }
            case .maxRegression(let budget):
                if baseline == nil {
                    check.status = .fail
                    check.reason = "a regression budget needs --baseline"
                } else if let v = now, let b = before {
                    let worse = Gate.worsening(baseline: b, current: v, higherIsBetter: metric.higherIsBetter)
                    check.status = worse <= budget + 1e-12 ? .pass : .fail
                } else {
                    check.status = .fail
                    let side = now == nil ? "this run" : "the baseline"
                    check.reason = "\(side) has no \(metric.name) (\(Gate.why(metric.name)))"
                }
            case .exact:
                check.status = now != nil && now == before ? .pass : .fail
            }
            if let p = metric.percentile, let n = check.samples, p >= 90, Double(n) * (1 - p / 100) < 1 {
                let note = "p\(Int(p)) of \(n) samples rests on the single largest one; gate a lower percentile or run more requests"
                check.reason = check.reason.isEmpty ? note : check.reason + "; " + note
            }
            checks.append(check)
        }

        var notes: [String] = []
        var verdictChange: (String, String)?
        if let b = baseline {
            let from = b.verdict.workload.rawValue, to = current.verdict.workload.rawValue
            if from != to { verdictChange = (from, to) }
            notes += Gate.differences(b.header, current.header)
        }
        let failed = checks.contains { $0.status == .fail } || (failOnVerdictChange && verdictChange != nil)
        return GateReport(checks: checks, verdictBaseline: baseline?.verdict.workload.rawValue,
                          verdictCurrent: current.verdict.workload.rawValue,
                          verdictChangeFails: failOnVerdictChange, notes: notes, passed: !failed)
    }

    /// How much worse `current` is than `baseline` as a fraction of the baseline, in the metric's
    /// bad direction (negative = better). A zero baseline: 0 when equal, +∞ when worse.
    public static func worsening(baseline b: Double, current v: Double, higherIsBetter: Bool) -> Double {
        let delta = higherIsBetter ? b - v : v - b
        if b == 0 { return delta == 0 ? 0 : (delta > 0 ? .infinity : -.infinity) }
        return delta / abs(b)
    }

    static func why(_ metric: String) -> String {
        switch metric.split(separator: ".").first.map(String.init) ?? "" {
        case "ttft", "e2e", "queue": return "no completed request"
        case "tpot": return "no completed request with more than one output token"
        case "itl": return "no request with two or more token events"
        case "goodput": return "give --slo targets"
        case "mbu", "mfu": return "no roofline: give --hardware, or the phase has no steps"
        case "idle": return "no step spans"
        default: return "not recorded"
        }
    }

    /// What differs between the two runs' setups, so a reader knows the comparison is not like for like.
    static func differences(_ a: RunHeader, _ b: RunHeader) -> [String] {
        var out: [String] = []
        func differ(_ what: String, _ x: String, _ y: String) { if x != y { out.append("\(what) differs: \(x) (baseline) vs \(y)") } }
        differ("model", a.model.name, b.model.name)
        differ("weight type", a.model.weightType, b.model.weightType)
        differ("hardware", a.hardware.name, b.hardware.name)
        differ("threads", String(a.hardware.threads), String(b.hardware.threads))
        differ("workload", a.workload.name, b.workload.name)
        differ("requests", String(a.workload.requests), String(b.workload.requests))
        for key in Set(a.options.keys).union(b.options.keys).sorted() {
            differ("option \(key)", a.options[key] ?? "unset", b.options[key] ?? "unset")
        }
        return out
    }
}

/// The outcome of one rule.
public struct GateCheck: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable { case pass, fail }
    public var rule: GateRule
    public var unit: GateMetric.Unit
    public var higherIsBetter: Bool
    public var baseline: Double?
    public var current: Double?
    /// Sample size behind a percentile metric in the current run.
    public var samples: Int?
    public var status: Status
    /// Why it failed without a comparison (missing data), or a caution; empty otherwise.
    public var reason: String

    /// Worsening against the baseline as a fraction (negative = improved), when both exist.
    public var worsening: Double? {
        guard let b = baseline, let v = current else { return nil }
        return Gate.worsening(baseline: b, current: v, higherIsBetter: higherIsBetter)
    }
}

/// Every check, the verdicts of both runs, and whether the gate passed.
public struct GateReport: Sendable, Equatable {
    public var checks: [GateCheck]
    public var verdictBaseline: String?
    public var verdictCurrent: String
    public var verdictChangeFails: Bool
    /// Setup differences between the baseline and this run.
    public var notes: [String]
    public var passed: Bool
    /// "file: problem" for each judged trace that records an incomplete run (cut off, requests
    /// still open). The caller fills it; ``failIfIncomplete()`` makes it fail the gate.
    public var incomplete: [String] = []
    /// Whether the incomplete runs fail the gate (not with `--allow-incomplete`).
    public var incompleteFails = false

    /// Records incomplete runs; with `fails`, the gate no longer passes.
    public mutating func markIncomplete(_ problems: [String], fails: Bool) {
        incomplete += problems
        if fails && !problems.isEmpty {
            incompleteFails = true
            passed = false
        }
    }
}
