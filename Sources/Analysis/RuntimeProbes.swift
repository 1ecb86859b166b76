/// The runtime's what-if probes as the analyzer reads them from a trace header: speculation
/// (`probe.spec.*`) and the prefill/decode thread split (`probe.split.*`).

/// Speculative decoding as InferScope's runtime measured it before the run (`probe.spec.*` header
/// options, written by `profile`'s speculation probe): acceptance α of a draft strategy on the
/// workload's own first prompts, the draft step's and the γ+1-token verification step's cost in
/// plain decode steps, all at batch 1. Lets R4 price speculation on measured numbers where the
/// trace has no speculation counters.
public struct ProbedSpeculation: Sendable, Equatable {
    /// Draft strategy (`--spec` spelling) and the fixed draft length γ it was probed at.
    public var strategy: String
    public var gamma: Int
    public var alpha: Double
    /// Draft tokens behind α.
    public var draftedTokens: Int
    /// One draft step / one plain decode step (c), batch 1.
    public var draftCostRatio: Double
    /// One verification step of γ + 1 tokens / one plain decode step, batch 1.
    public var verifyCostRatio: Double

    public init(strategy: String, gamma: Int, alpha: Double, draftedTokens: Int, draftCostRatio: Double, verifyCostRatio: Double) {
        self.strategy = strategy
        self.gamma = gamma
        self.alpha = alpha
        self.draftedTokens = draftedTokens
        self.draftCostRatio = draftCostRatio
        self.verifyCostRatio = verifyCostRatio
    }

    /// Parses the header options; nil when any key is missing or out of range.
    public init?(options o: [String: String]) {
        guard let s = o["probe.spec.strategy"], let g = o["probe.spec.gamma"].flatMap({ Int($0) }), g >= 1,
              let a = o["probe.spec.alpha"].flatMap({ Double($0) }), (0...1).contains(a),
              let n = o["probe.spec.drafted_tokens"].flatMap({ Int($0) }), n > 0,
              let c = o["probe.spec.draft_cost_ratio"].flatMap({ Double($0) }), c >= 0, c.isFinite,
              let v = o["probe.spec.verify_cost_ratio"].flatMap({ Double($0) }), v > 0, v.isFinite else { return nil }
        self.init(strategy: s, gamma: g, alpha: a, draftedTokens: n, draftCostRatio: c, verifyCostRatio: v)
    }

    /// Verification step over plain decode step at `batch` sequences and draft length `gamma`, from
    /// the two measured points at batch 1 under a step time linear in the tokens fed,
    /// T(n) = a + b·n with T(1) = 1 and T(γ_probe + 1) = ``verifyCostRatio`` (a: the per-step cost
    /// that does not grow with tokens — weight reads, dispatch; b: the per-token cost):
    /// (a + b·B·(γ+1)) / (a + b·B). O(1).
    public func verifyStepRatio(batch: Double, gamma g: Int) -> Double {
        let b = max(0, verifyCostRatio - 1) / Double(gamma)
        let a = max(0, 1 - b)
        let bb = max(1, batch)
        return (a + b * bb * Double(g + 1)) / max(1e-12, a + b * bb)
    }
}

/// The runtime's forward step time against the rows it computes, as its probe measured it before
/// the run (`probe.step_us.threads_<t>` = "n:µs,…"): decode steps of n sequences at the shortest
/// context, for the run's thread count and each worker's share under `--disaggregated`. The
/// analyzer prices batch growth, verification and the thread split on it instead of the roofline
/// (a CPU decode step is far from flat in the batch).
public struct ProbedStepCurve: Sendable, Equatable {
    /// One measured step: `rows` rows took `seconds`.
    public struct Point: Sendable, Equatable {
        public var rows: Double
        public var seconds: Double
        public init(rows: Double, seconds: Double) { self.rows = rows; self.seconds = seconds }
    }

    /// Threads → points ascending in rows.
    public var points: [Int: [Point]]

    public init(points: [Int: [Point]]) { self.points = points }

    /// Parses every `probe.step_us.threads_<t>` option with at least two valid points; nil when none.
    public init?(options o: [String: String]) {
        let prefix = "probe.step_us.threads_"
        var points: [Int: [Point]] = [:]
        for (k, v) in o where k.hasPrefix(prefix) {
            guard let t = Int(k.dropFirst(prefix.count)), t >= 1 else { continue }
            var p: [Point] = []
            for pair in v.split(separator: ",") {
                let f = pair.split(separator: ":")
                guard f.count == 2, let n = Double(f[0]), n >= 1, let us = Double(f[1]), us > 0, us.isFinite else { p = []; break }
                p.append(Point(rows: n, seconds: us * 1e-6))
            }
            p.sort { $0.rows < $1.rows }
            if p.count >= 2 { points[t] = p }
        }
        guard !points.isEmpty else { return nil }
        self.points = points
    }

    /// Seconds of a step of `rows` rows on `threads` threads: piecewise linear between the measured
    /// points, T(first) below them, the last segment's slope above them. nil when that thread count
    /// was not measured. O(points).
    public func seconds(rows: Double, threads: Int) -> Double? {
        guard let p = points[threads] else { return nil }
        if rows <= p[0].rows { return p[0].seconds }
        for i in 1..<p.count where rows <= p[i].rows {
            let a = p[i - 1], b = p[i]
            return a.seconds + (b.seconds - a.seconds) * (rows - a.rows) / (b.rows - a.rows)
        }
        let a = p[p.count - 2], b = p[p.count - 1]
        return b.seconds + max(0, (b.seconds - a.seconds) / (b.rows - a.rows)) * (rows - b.rows)
    }
}
