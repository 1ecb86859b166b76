import TraceFormat

/// What changed between two analysed runs, A (before) and B (after), and why.
///
/// `metrics` lists every ``GateMetric`` with both values and its change in the metric's own bad
/// or good direction. `drivers` attribute the change to its mechanisms: the run's time per output
/// token split additively by phase (prefill, decode, idle, other; the parts sum to the total, so
/// "decode accounts for +4.9 of the +5.8 ms" is exact), per-phase mean step time, the decode batch,
/// KV occupancy, preemptions, speculative acceptance, queueing and prefix hits. `findings` are the
/// sentences a reader needs first: the headline metrics that moved beyond `threshold`, each with
/// the drivers that explain it. Pure: O(metrics + phases).
public struct RunDiff: Sendable {
    public enum Direction: String, Sendable, Equatable {
        case better, worse, unchanged
        /// One side lacks the metric.
        case unavailable = "n/a"
    }

    public struct MetricChange: Sendable, Equatable {
        public var name: String
        public var unit: GateMetric.Unit
        public var higherIsBetter: Bool
        public var a: Double?
        public var b: Double?
        /// b/a − 1 (nil when a side is missing or a is 0).
        public var relative: Double?
        public var direction: Direction
    }

    /// One mechanism's value in A and B. `unit` is "s", "s/token", "share", "tokens", "count" or
    /// "sequences"; `contribution` is set for the additive time-per-token parts (B − A, seconds).
    public struct Driver: Sendable, Equatable {
        public var name: String
        public var unit: String
        public var a: Double?
        public var b: Double?
        public var contribution: Double?
        public var relative: Double? {
            guard let a, let b, a != 0 else { return nil }
            return b / a - 1
        }
    }

    public var metrics: [MetricChange]
    public var drivers: [Driver]
    public var findings: [String]
    public var verdictA: String
    public var verdictB: String
    /// A relative change below this (default 2%) counts as unchanged.
    public var threshold: Double

    public init(a: AnalysisResult, b: AnalysisResult, threshold: Double = 0.02) {
        self.threshold = threshold
        metrics = GateMetric.all.map { m in
            let x = m.value(in: a), y = m.value(in: b)
            var rel: Double?
            if let x, let y, x != 0 { rel = y / x - 1 }
            let dir: Direction
            if x == nil || y == nil { dir = .unavailable }
            else if let r = rel, abs(r) >= threshold { dir = (r > 0) == m.higherIsBetter ? .better : .worse }
            else if rel == nil && x != y { dir = (y! > x!) == m.higherIsBetter ? .better : .worse }
            else { dir = .unchanged }
            return MetricChange(name: m.name, unit: m.unit, higherIsBetter: m.higherIsBetter, a: x, b: y, relative: rel, direction: dir)
        }
        drivers = Self.drivers(a.metrics, b.metrics)
        (verdictA, verdictB) = Self.verdictLabels(a, b)
        findings = []
        findings = explain()
    }

    public func metric(_ name: String) -> MetricChange? { metrics.first { $0.name == name } }
    public func driver(_ name: String) -> Driver? { drivers.first { $0.name == name } }

    /// Like for like: the workload verdicts when both runs have one, else both request-time
    /// splits (a measured trace against an imported file), else whatever each has.
    static func verdictLabels(_ a: AnalysisResult, _ b: AnalysisResult) -> (String, String) {
        let va = a.verdict, vb = b.verdict
        if va.workload != .unknown && vb.workload != .unknown { return (va.workload.rawValue, vb.workload.rawValue) }
        if let ta = va.requestTime, let tb = vb.requestTime { return (ta.dominant.rawValue, tb.dominant.rawValue) }
        func one(_ v: Verdict) -> String { v.workload != .unknown ? v.workload.rawValue : v.requestTime?.dominant.rawValue ?? "unknown" }
        return (one(va), one(vb))
    }

    /// The additive split of time per output token, then the mechanisms.
    static func drivers(_ a: TraceMetrics, _ b: TraceMetrics) -> [Driver] {
        var out: [Driver] = []
        func perToken(_ m: TraceMetrics, _ seconds: Double) -> Double? {
            m.requests.outputTokens > 0 && m.phases.totalSeconds > 0 ? seconds / Double(m.requests.outputTokens) : nil
        }
        let parts: [(String, (PhaseTimes) -> Double)] = [
            ("time per output token: prefill", { $0.prefillSeconds }),
            ("time per output token: decode", { $0.decodeSeconds }),
            ("time per output token: idle", { $0.idleSeconds }),
            ("time per output token: other", { p in
                let rest = p.totalSeconds - p.prefillSeconds - p.decodeSeconds - p.idleSeconds
                return rest > 1e-9 * p.totalSeconds ? rest : 0   // rounding of the sums is not "other"
            }),
        ]
        let totalA = perToken(a, a.phases.totalSeconds), totalB = perToken(b, b.phases.totalSeconds)
        if totalA != nil || totalB != nil {
            out.append(Driver(name: "time per output token", unit: "s/token", a: totalA, b: totalB,
                              contribution: totalA.flatMap { x in totalB.map { $0 - x } }))
            for (name, pick) in parts {
                let x = perToken(a, pick(a.phases)), y = perToken(b, pick(b.phases))
                if (x ?? 0) == 0 && (y ?? 0) == 0 { continue }
                out.append(Driver(name: name, unit: "s/token", a: x, b: y, contribution: x.flatMap { x in y.map { $0 - x } }))
            }
        }
        for phase in [Phase.prefill, .decode, .mixed, .verify] {
            func step(_ m: TraceMetrics) -> Double? {
                m.work.first { $0.phase == phase && $0.steps > 0 }.map { $0.seconds / Double($0.steps) }
            }
            let x = step(a), y = step(b)
            if x != nil || y != nil { out.append(Driver(name: "\(phase.rawValue) step time (mean)", unit: "s", a: x, b: y)) }
        }
        let batchA = a.batch.timeWeightedMean ?? a.batch.sizes?.mean, batchB = b.batch.timeWeightedMean ?? b.batch.sizes?.mean
        if batchA != nil || batchB != nil { out.append(Driver(name: "decode batch (mean)", unit: "sequences", a: batchA, b: batchB)) }
        if a.batch.meanContext != nil || b.batch.meanContext != nil {
            out.append(Driver(name: "attended context (mean)", unit: "tokens", a: a.batch.meanContext, b: b.batch.meanContext))
        }
        func kv(_ m: TraceMetrics) -> KVPoolStats? { m.kv.max { $0.meanUsage < $1.meanUsage } }
        if kv(a) != nil || kv(b) != nil {
            out.append(Driver(name: "KV usage (mean)", unit: "share", a: kv(a)?.meanUsage, b: kv(b)?.meanUsage))
            out.append(Driver(name: "KV usage (peak)", unit: "share", a: kv(a)?.peakUsage, b: kv(b)?.peakUsage))
            out.append(Driver(name: "time at high KV usage", unit: "share", a: kv(a)?.timeAtHighUsage, b: kv(b)?.timeAtHighUsage))
        }
        func preempt(_ m: TraceMetrics) -> Double? {
            m.requests.completed > 0 ? Double(m.preemptions.total) / Double(m.requests.completed) : nil
        }
        if (preempt(a) ?? 0) > 0 || (preempt(b) ?? 0) > 0 {
            out.append(Driver(name: "preemptions per request", unit: "count", a: preempt(a), b: preempt(b)))
        }
        if a.speculation != nil || b.speculation != nil {
            out.append(Driver(name: "draft acceptance α", unit: "share", a: a.speculation?.alpha, b: b.speculation?.alpha))
            out.append(Driver(name: "tokens per verify step", unit: "tokens", a: a.speculation?.meanAcceptedLength, b: b.speculation?.meanAcceptedLength))
        }
        if a.queue != nil || b.queue != nil {
            out.append(Driver(name: "queueing delay (mean)", unit: "s", a: a.queue?.mean, b: b.queue?.mean))
        }
        if a.ttft != nil || b.ttft != nil {
            out.append(Driver(name: "TTFT (mean)", unit: "s", a: a.ttft?.mean, b: b.ttft?.mean))
        }
        if a.prefix.measuredHitRate != nil || b.prefix.measuredHitRate != nil {
            out.append(Driver(name: "prefix-cache hit rate", unit: "share", a: a.prefix.measuredHitRate, b: b.prefix.measuredHitRate))
        }
        out.append(Driver(name: "completed requests", unit: "count", a: Double(a.requests.completed), b: Double(b.requests.completed)))
        out.append(Driver(name: "output tokens", unit: "tokens", a: Double(a.requests.outputTokens), b: Double(b.requests.outputTokens)))
        return out
    }

    func moved(_ d: Driver) -> Bool {
        guard let a = d.a, let b = d.b else { return d.a != nil || d.b != nil }
        if let r = d.relative { return abs(r) >= threshold }
        return a != b
    }

    public static func fmt(_ x: Double?, _ unit: String) -> String {
        guard let x else { return "n/a" }
        switch unit {
        case "s", "s/token": return NumberFormat.duration(x)
        case "share": return NumberFormat.percent(x)
        default: return NumberFormat.significant(x)
        }
    }

    public static func signed(_ x: Double, _ unit: String) -> String {
        (x >= 0 ? "+" : "-") + fmt(abs(x), unit)
    }

    public static func percentChange(_ r: Double) -> String {
        (r >= 0 ? "+" : "-") + NumberFormat.percent(abs(r))
    }

    /// Finding sentences: each moved headline metric with the drivers that explain it.
    func explain() -> [String] {
        var out: [String] = []
        if verdictA != verdictB { out.append("verdict changed: \(verdictA) → \(verdictB)") }
        func change(_ d: Driver) -> String { "\(d.name) \(Self.fmt(d.a, d.unit)) → \(Self.fmt(d.b, d.unit))" }
        // Throughput and TPOT: the time-per-token split and the decode mechanisms.
        let throughput = metric("throughput.output")
        let tpot = metric("tpot.p50")
        if let t = throughput, t.direction == .better || t.direction == .worse, let r = t.relative {
            var s = "output throughput \(Self.percentChange(r)) (\(t.direction.rawValue))"
            if let total = driver("time per output token"), let c = total.contribution {
                s += ": time per output token \(Self.fmt(total.a, total.unit)) → \(Self.fmt(total.b, total.unit)) (\(Self.signed(c, "s")))"
                let parts = drivers.filter { $0.name.hasPrefix("time per output token: ") && $0.contribution != nil }
                    .sorted { abs($0.contribution!) > abs($1.contribution!) }
                    .filter { abs($0.contribution!) >= 0.05 * abs(c) }
                if !parts.isEmpty {
                    s += "; " + parts.map { "\($0.name.replacingOccurrences(of: "time per output token: ", with: "")) \(Self.signed($0.contribution!, "s"))" }
                        .joined(separator: ", ")
                }
            }
            out.append(s)
        }
        if let t = tpot, t.direction == .better || t.direction == .worse, let r = t.relative {
            var s = "TPOT p50 \(Self.percentChange(r)) (\(t.direction.rawValue))"
            let mech = ["decode step time (mean)", "verify step time (mean)", "mixed step time (mean)", "decode batch (mean)",
                        "attended context (mean)", "tokens per verify step"]
                .compactMap(driver).filter(moved)
            if !mech.isEmpty { s += ": " + mech.map(change).joined(separator: "; ") }
            out.append(s)
        }
        if let t = metric("ttft.p50"), t.direction == .better || t.direction == .worse, let r = t.relative {
            var s = "TTFT p50 \(Self.percentChange(r)) (\(t.direction.rawValue))"
            var mech: [String] = []
            if let q = driver("queueing delay (mean)"), let f = driver("TTFT (mean)"), let qa = q.a, let qb = q.b, let fa = f.a, let fb = f.b, fb != fa {
                mech.append("mean TTFT \(Self.signed(fb - fa, "s")) = queueing \(Self.signed(qb - qa, "s")) + prefill and first step \(Self.signed((fb - fa) - (qb - qa), "s"))")
            }
            mech += ["prefill step time (mean)", "mixed step time (mean)", "preemptions per request", "prefix-cache hit rate"]
                .compactMap(driver).filter(moved).map(change)
            if !mech.isEmpty { s += ": " + mech.joined(separator: "; ") }
            out.append(s)
        }
        let capacity = ["KV usage (peak)", "time at high KV usage", "preemptions per request", "draft acceptance α"]
            .compactMap(driver).filter(moved).filter { d in !out.contains { $0.contains(d.name) } }
        if !capacity.isEmpty { out.append("also moved: " + capacity.map(change).joined(separator: "; ")) }
        if let c = driver("completed requests"), let o = driver("output tokens"), moved(c) || moved(o) {
            out.append("the runs did different work (\(change(c)); \(change(o))): per-token and latency figures compare, totals do not")
        }
        if out.isEmpty { out.append("no headline metric moved by \(NumberFormat.percent(threshold)) or more") }
        return out
    }
}
