import Analysis

/// The advice matrix's judgement (`inferscope-bench advice`, issue #14): for one scenario (a
/// profiled baseline and one objective) every candidate rule's runtime change was measured
/// repeatedly against the baseline; this decides which candidate measured best (the oracle),
/// whether that best is resolved from the runner-up given the measured spread (else a tie), whether
/// the analyzer's top recommendation is a hit, and how well the predicted order matches the
/// measured one (Kendall τ-b). Pure values and functions: the runs live in ``AdviceMatrixRunner``.
public enum AdviceMatrix {
    /// The id of the "change nothing" candidate.
    public static let noChange = "none"

    /// One candidate of a scenario: a rule's runtime change (or no change) with its prediction and
    /// its measurements.
    public struct Candidate: Sendable, Equatable {
        /// Rule id, or ``AdviceMatrix/noChange``.
        public var id: String
        public var change: [String: String]
        /// The rule's predicted factor on the objective (> 1 better), whether or not it fired; nil
        /// when the rule predicts nothing for this objective.
        public var predicted: Double?
        /// Whether the rule fired (the analyzer advises it).
        public var triggered: Bool
        /// Place in the analyzer's ranking for the objective (1 = top), nil when not ranked.
        public var rank: Int?
        /// Paired measured factors, one per repetition: candidate vs the baseline run of the same
        /// repetition (> 1 better). For ``AdviceMatrix/noChange``: each baseline run vs the
        /// baselines' median (the baseline's own spread).
        public var samples: [Double]
        /// Throughput only: the same factors from process CPU time per output token.
        public var cpuSamples: [Double]
        /// Why there is no measurement (run failed), if so.
        public var note: String?

        public init(id: String, change: [String: String] = [:], predicted: Double? = nil, triggered: Bool = false,
                    rank: Int? = nil, samples: [Double] = [], cpuSamples: [Double] = [], note: String? = nil) {
            self.id = id
            self.change = change
            self.predicted = predicted
            self.triggered = triggered
            self.rank = rank
            self.samples = samples
            self.cpuSamples = cpuSamples
            self.note = note
        }

        /// Median measured factor, nil without samples.
        public var measured: Double? { AdviceMatrix.median(samples) }
        public var cpuMeasured: Double? { AdviceMatrix.median(cpuSamples) }
        /// The measured range [min, max] over repetitions.
        public var range: ClosedRange<Double>? { samples.isEmpty ? nil : samples.min()!...samples.max()! }
        /// The factor the analyzer implies for this candidate applied alone: its predicted gain
        /// when it fired, its predicted loss (below ``Gain/lossBelow``) whether or not it fired —
        /// the analyzer says "this makes it worse" and the report prints it — and 1 otherwise (a rule that did not
        /// fire withholds its what-if gain: not advised ≈ no change). A fired rule the greedy
        /// ranking dropped after an earlier pick (R2 once R3 has freed the KV pool) still implies
        /// its own first-round gain: the matrix applies each change alone.
        public var impliedFactor: Double {
            guard let p = predicted, p > 0 else { return 1 }
            if p < Gain.lossBelow { return p }
            return triggered ? p : 1
        }
        /// |measured − predicted| / predicted, when both exist.
        public var relativeError: Double? {
            guard let p = predicted, p > 0, let m = measured else { return nil }
            return abs(m - p) / p
        }
    }

    /// One scenario: a baseline configuration, an objective, and its candidates (including
    /// ``AdviceMatrix/noChange``).
    public struct Scenario: Sendable, Equatable {
        public var setup: String
        public var model: String
        /// `profile` arguments of the baseline.
        public var profile: [String]
        public var objective: Objective
        /// Median objective value of the baseline runs (tokens/s or seconds).
        public var baselineValue: Double?
        public var candidates: [Candidate]

        public init(setup: String, model: String, profile: [String], objective: Objective,
                    baselineValue: Double?, candidates: [Candidate]) {
            self.setup = setup
            self.model = model
            self.profile = profile
            self.objective = objective
            self.baselineValue = baselineValue
            self.candidates = candidates
        }

        /// Measured candidates only.
        public var measured: [Candidate] { candidates.filter { $0.measured != nil } }

        /// The analyzer's answer: the best-ranked candidate that was measured, else no change.
        public var analyzerTop: String {
            measured.filter { $0.rank != nil }.min { $0.rank! < $1.rank! }?.id ?? AdviceMatrix.noChange
        }

        /// The candidate with the highest median measured factor (no change counts at its own
        /// median); ties broken by id order for determinism.
        public var oracle: String? {
            let m = measured
            guard !m.isEmpty else { return nil }
            return m.max { a, b in a.measured! != b.measured! ? a.measured! < b.measured! : a.id > b.id }?.id
        }

        /// Runner-up by median measured factor.
        public var runnerUp: String? {
            guard let o = oracle else { return nil }
            return measured.filter { $0.id != o }.max { a, b in a.measured! != b.measured! ? a.measured! < b.measured! : a.id > b.id }?.id
        }

        /// The candidates not resolved from the oracle: their measured range overlaps the
        /// oracle's, or (throughput) the CPU-time factors order them the other way. Always holds
        /// the oracle; more than one member means the scenario is a tie.
        public var tieSet: [String] {
            guard let o = oracle, let best = candidates.first(where: { $0.id == o }), let br = best.range else { return [] }
            var set = [o]
            for c in measured where c.id != o {
                guard let r = c.range else { continue }
                var unresolved = r.overlaps(br)
                if let cb = best.cpuMeasured, let cc = c.cpuMeasured, cc >= cb { unresolved = true }
                if unresolved { set.append(c.id) }
            }
            return set
        }

        public var isTie: Bool { tieSet.count > 1 }

        /// Hit: the analyzer's top is the oracle, or is tied with it. nil when nothing was measured.
        public var hit: Bool? { oracle == nil ? nil : tieSet.contains(analyzerTop) }

        /// Kendall τ-b between the implied (predicted) factors and the measured medians over the
        /// measured candidates; nil when either order is constant (undefined).
        public var kendallTau: Double? {
            let m = measured
            return AdviceMatrix.kendallTauB(m.map(\.impliedFactor), m.map { $0.measured! })
        }

        /// Kendall τ-b against the measured order as far as the measurements resolve it: two
        /// candidates whose measured ranges overlap are tied in the measured order (the same rule
        /// as the tie set), so noise between two changes that both measured "no different" is
        /// neither agreement nor disagreement. nil when undefined.
        public var kendallTauResolved: Double? {
            let m = measured
            let ranges = m.map { $0.range! }
            return AdviceMatrix.kendallTauB(m.map(\.impliedFactor), m.map { $0.measured! }) { i, j in ranges[i].overlaps(ranges[j]) }
        }
    }

    /// Matrix-wide figures.
    public struct Summary: Sendable, Equatable {
        public struct ErrorStat: Sendable, Equatable {
            public var rule: String
            public var objective: Objective
            public var count: Int
            public var median: Double
            public var p90: Double
        }

        public var scenarios: Int
        public var judged: Int
        public var hits: Int
        public var ties: Int
        /// hits / judged.
        public var topOneAgreement: Double?
        /// Mean Kendall τ-b over the scenarios where it is defined, and their count.
        public var meanKendallTau: Double?
        public var tauScenarios: Int
        /// The same over ``Scenario/kendallTauResolved``.
        public var meanKendallTauResolved: Double?
        public var tauResolvedScenarios: Int
        /// Per rule and objective, over every candidate with a prediction and a measurement.
        public var errors: [ErrorStat]
        /// Per objective over all rules.
        public var objectiveErrors: [ErrorStat]
    }

    public static func summarize(_ scenarios: [Scenario]) -> Summary {
        let judged = scenarios.filter { $0.hit != nil }
        let hits = judged.filter { $0.hit == true }.count
        let taus = scenarios.compactMap(\.kendallTau)
        let resolved = scenarios.compactMap(\.kendallTauResolved)
        var byRule: [String: [Double]] = [:], byObjective: [Objective: [Double]] = [:]
        for s in scenarios {
            for c in s.candidates where c.id != noChange {
                guard let e = c.relativeError else { continue }
                byRule["\(c.id)\u{1}\(s.objective.rawValue)", default: []].append(e)
                byObjective[s.objective, default: []].append(e)
            }
        }
        let errors = byRule.keys.sorted { a, b in a.localizedStandardCompare(b) == .orderedAscending }.map { key -> Summary.ErrorStat in
            let parts = key.split(separator: "\u{1}")
            let v = byRule[key]!
            return .init(rule: String(parts[0]), objective: Objective(rawValue: String(parts[1]))!, count: v.count,
                         median: median(v)!, p90: percentile(v, 0.9)!)
        }
        let objectiveErrors = Objective.allCases.compactMap { o -> Summary.ErrorStat? in
            guard let v = byObjective[o] else { return nil }
            return .init(rule: "all", objective: o, count: v.count, median: median(v)!, p90: percentile(v, 0.9)!)
        }
        return Summary(scenarios: scenarios.count, judged: judged.count, hits: hits,
                       ties: judged.filter(\.isTie).count,
                       topOneAgreement: judged.isEmpty ? nil : Double(hits) / Double(judged.count),
                       meanKendallTau: taus.isEmpty ? nil : taus.reduce(0, +) / Double(taus.count),
                       tauScenarios: taus.count,
                       meanKendallTauResolved: resolved.isEmpty ? nil : resolved.reduce(0, +) / Double(resolved.count),
                       tauResolvedScenarios: resolved.count, errors: errors, objectiveErrors: objectiveErrors)
    }

    // MARK: - Statistics

    /// Median (mean of the middle two for even counts); nil when empty. O(n log n).
    public static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Linear-interpolation percentile (numpy's default), q in [0, 1]; nil when empty.
    public static func percentile(_ v: [Double], _ q: Double) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted()
        let pos = q * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
    }

    /// Kendall τ-b of two equally long samples (ties in either handled); nil when fewer than two
    /// items or when either sample is constant. `tiedY(i, j)` declares more pairs tied in y than
    /// equal values (default: none). O(n²).
    public static func kendallTauB(_ x: [Double], _ y: [Double], tiedY: (Int, Int) -> Bool = { _, _ in false }) -> Double? {
        precondition(x.count == y.count)
        let n = x.count
        guard n >= 2 else { return nil }
        var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let dx = x[i] - x[j], dy = tiedY(i, j) ? 0 : y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tiesX += 1; continue }
                if dy == 0 { tiesY += 1; continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
        guard denominator > 0 else { return nil }
        return (concordant - discordant) / denominator
    }
}
