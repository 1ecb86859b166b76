import TraceFormat

/// Per-request latency values of one trace, kept whole (the analysis keeps only summaries) so
/// that several runs can be pooled and compared by a rank test. Fed the trace's events in order.
/// Seconds. O(1) per event, O(requests + tokens) memory.
public struct RequestSamples: Sendable {
    /// Values per metric family: "ttft", "tpot", "itl", "e2e", "queue", and "itl.request" (each
    /// finished request's mean gap: the unit the rank test compares, since a request's gaps are
    /// not independent of each other).
    public private(set) var values: [String: [Double]] = [:]
    private var open: [RequestID: (arrival: TraceTime, scheduled: TraceTime?, first: TraceTime?, last: TraceTime?, tokens: Int,
                                   gapSum: Double, gaps: Int)] = [:]

    public init() {}

    public mutating func consume(_ event: TraceEvent) {
        guard case .request(let r) = event else { return }
        switch r.kind {
        case .arrival:
            open[r.request] = (r.time, nil, nil, nil, 0, 0, 0)
        case .scheduled:
            if var o = open[r.request], o.scheduled == nil { o.scheduled = r.time; open[r.request] = o }
        case .firstToken, .token:
            guard var o = open[r.request] else { return }
            if let last = o.last {
                let gap = Double(r.time - last) / 1e9
                values["itl", default: []].append(gap)
                o.gapSum += gap
                o.gaps += 1
            }
            if o.first == nil { o.first = r.time }
            o.last = r.time
            o.tokens += Int(r.tokens ?? 1)
            open[r.request] = o
        case .finished:
            guard let o = open.removeValue(forKey: r.request) else { return }
            let end = o.last ?? r.time
            values["e2e", default: []].append(Double(end - o.arrival) / 1e9)
            if let s = o.scheduled { values["queue", default: []].append(Double(s - o.arrival) / 1e9) }
            if o.gaps > 0 { values["itl.request", default: []].append(o.gapSum / Double(o.gaps)) }
            if let f = o.first {
                values["ttft", default: []].append(Double(f - o.arrival) / 1e9)
                let tokens = Int(r.tokens ?? Int32(o.tokens))
                if tokens > 1 { values["tpot", default: []].append(Double(end - f) / 1e9 / Double(tokens - 1)) }
            }
        case .aborted:
            open.removeValue(forKey: r.request)
        case .preempted, .resumed:
            break
        }
    }

    /// The statistic a gate metric names ("p50", "p99", "mean") of pooled values; nil when empty.
    public static func statistic(_ name: String, of values: [Double]) -> Double? {
        guard let d = Distribution(values) else { return nil }
        switch name {
        case "mean": return d.mean
        case "p50": return d.p50
        case "p90": return d.p90
        case "p95": return d.p95
        case "p99": return d.p99
        default: return nil
        }
    }
}
