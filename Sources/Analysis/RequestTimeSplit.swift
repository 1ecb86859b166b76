/// What a verdict was derived from, printed next to it in text, JSON and HTML.
public enum DerivationLevel: String, Sendable, Equatable {
    /// Engine step spans (an InferScope runtime trace, or a file with per-step timings).
    case measured
    /// Per-request timings (arrival, first token, end) without step spans.
    case requests = "estimated from requests"
    /// The file's own aggregate statistics only (means, percentiles, throughputs).
    case aggregates = "estimated from aggregates"
}

/// Where the time of a request goes, model- and hardware-free: the time to the first token
/// (queueing + prefill) against the decode time after it (E2E − TTFT), and which dominates.
///
/// - From requests: Σ TTFT and Σ (E2E − TTFT) over completed requests (request-weighted means).
/// - From aggregates: mean TTFT against mean E2E − mean TTFT, else TPOT × (mean output − 1),
///   else ITL × (mean output − 1) (the formula used is stated in ``decodeSource``).
///
/// Verdict: first-token-dominated when TTFT / (TTFT + decode) ≥ `Thresholds.ttftShare`. O(1).
public struct RequestTimeSplit: Sendable, Equatable {
    public enum Dominant: String, Sendable, Equatable {
        /// Time to first token (queueing + prefill) takes most of a request's time.
        case firstToken = "prefill/queue-dominated"
        case decode = "decode-dominated"
    }

    public var level: DerivationLevel
    /// Mean TTFT and mean decode time per request, seconds.
    public var ttftSeconds: Double
    public var decodeSeconds: Double
    /// Mean queueing delay, seconds, when the source reports it.
    public var queueSeconds: Double?
    /// How the decode time was obtained, e.g. "mean E2E − mean TTFT".
    public var decodeSource: String
    /// Requests the means cover (nil for aggregates that do not say).
    public var requests: Int?
    public var dominant: Dominant
    public var evidence: [Evidence]

    /// TTFT / (TTFT + decode).
    public var ttftShare: Double { ttftSeconds + decodeSeconds > 0 ? ttftSeconds / (ttftSeconds + decodeSeconds) : 0 }

    init(level: DerivationLevel, ttft: Double, decode: Double, queue: Double?, decodeSource: String, requests: Int?,
         thresholds t: Thresholds) {
        self.level = level
        ttftSeconds = ttft
        decodeSeconds = max(0, decode)
        queueSeconds = queue
        self.decodeSource = decodeSource
        self.requests = requests
        evidence = []
        dominant = .decode
        let share = Evidence("TTFT share of request time: mean TTFT \(NumberFormat.duration(ttft)) vs decode \(NumberFormat.duration(max(0, decode))) (\(decodeSource))",
                             ttftShare, "≥", t.ttftShare, unit: .share)
        evidence.append(share)
        if let q = queue, ttft > 0 {
            evidence.append(Evidence("queueing share of TTFT (mean queue \(NumberFormat.duration(q)))", q / ttft, "≥", 0.5, unit: .share))
        }
        dominant = share.holds ? .firstToken : .decode
    }

    /// From the per-request timings of completed requests; nil without a completed request that
    /// has both a first token and an end.
    public init?(metrics m: TraceMetrics, level: DerivationLevel, thresholds t: Thresholds) {
        guard m.requests.completed > 0, let tl = m.timeline, let e2e = m.e2e, m.ttft != nil, e2e.count > 0 else { return nil }
        let n = Double(e2e.count)
        guard tl.ttftSeconds + tl.decodeSeconds > 0 else { return nil }
        self.init(level: level, ttft: tl.ttftSeconds / n, decode: tl.decodeSeconds / n, queue: m.queue?.mean,
                  decodeSource: "per request E2E − TTFT, mean of \(e2e.count)", requests: e2e.count, thresholds: t)
    }

    /// From a file's aggregates; nil when TTFT or every way to the decode time is missing.
    public init?(aggregates a: AggregateSummary, thresholds t: Thresholds) {
        guard let ttft = a.ttft.central, ttft.isFinite, ttft >= 0 else { return nil }
        let which = a.ttft.mean != nil ? "mean" : "median"
        var decode: Double?, source = ""
        if let e = a.e2e.central, e.isFinite, e >= ttft {
            decode = e - ttft
            source = "\(a.e2e.mean != nil ? "mean" : "median") E2E − \(which) TTFT"
        } else if let tpot = a.tpot.central, let out = a.outputTokensMean, out >= 1 {
            decode = tpot * (out - 1)
            source = "TPOT × (mean output − 1) = \(NumberFormat.duration(tpot)) × \(NumberFormat.significant(out - 1))"
        } else if let itl = a.itl.central, let out = a.outputTokensMean, out >= 1 {
            decode = itl * (out - 1)
            source = "ITL × (mean output − 1) = \(NumberFormat.duration(itl)) × \(NumberFormat.significant(out - 1))"
        }
        guard let decode, decode.isFinite, ttft + decode > 0 else { return nil }
        self.init(level: .aggregates, ttft: ttft, decode: decode, queue: a.queue.central, decodeSource: source,
                  requests: a.completed, thresholds: t)
    }
}

/// The failed and cancelled requests of a run, said before anything else when they are many.
public struct FailureSummary: Sendable, Equatable {
    public struct ErrorCount: Sendable, Equatable {
        public var error: String
        public var count: Int
    }
    public var completed: Int
    public var failed: Int
    /// Distinct errors, most frequent first (at most 5), when the source names them.
    public var errors: [ErrorCount]
    /// "requests" (abort events) or "aggregates" (the file's failed/completed counts).
    public var source: DerivationLevel

    public var total: Int { completed + failed }
    public var failedShare: Double { total > 0 ? Double(failed) / Double(total) : 0 }
    /// Every request failed: nothing is computed from the (empty) sample.
    public var allFailed: Bool { failed > 0 && completed == 0 }
    /// Half or more failed: the run's numbers describe a minority.
    public var mostFailed: Bool { failed > 0 && failedShare >= 0.5 }

    /// nil when nothing failed.
    public init?(metrics m: TraceMetrics, aggregates a: AggregateSummary) {
        if m.requests.aborted > 0 {
            completed = m.requests.completed
            failed = m.requests.aborted
            errors = m.requests.abortReasons.map { ErrorCount(error: $0.key, count: $0.value) }
                .sorted { ($0.count, $1.error) > ($1.count, $0.error) }.prefix(5).map { $0 }
            source = .requests
        } else if let f = a.failed, f > 0, m.requests.arrived == 0 {
            completed = a.completed ?? 0
            failed = f
            errors = []
            source = .aggregates
        } else {
            return nil
        }
    }

    /// The one line a report opens with: counts, share, errors.
    public var headline: String {
        let what = allFailed ? "ALL \(failed) REQUESTS FAILED" : "\(failed) of \(total) requests failed or were cancelled (\(NumberFormat.percent(failedShare)))"
        let errs = errors.isEmpty ? "; the file names no error" : "; errors: " + errors.map { "\"\($0.error)\" ×\($0.count)" }.joined(separator: ", ")
        let tail = allFailed ? "; no latency, throughput or verdict is computed from zero completed requests" : ""
        return what + errs + tail
    }
}
