import TraceFormat

/// Request-level totals the analyzer can use when a trace has no step spans (imported
/// benchmark files): how much decode work the requests represent and when any was in flight.
/// Filled by ``MetricsAccumulator`` for every trace; O(requests) memory (one interval and one
/// prompt shape per request).
public struct RequestTimeline: Sendable, Equatable {
    /// Σ over completed requests of (E2E − TTFT), seconds: request-seconds spent decoding.
    public var decodeSeconds: Double
    /// Σ (E2E − TTFT)·(prompt + output/2), token·seconds: for the decode-time-weighted context.
    public var decodeContextSeconds: Double
    /// Σ max(0, output − 1): tokens generated after the first (one decode step each).
    public var decodeTokens: Int
    /// Σ TTFT over completed requests, seconds.
    public var ttftSeconds: Double
    /// Time with at least one request in flight (union of [arrival, end]), seconds.
    public var busySeconds: Double
    /// Completed requests' prompts: (tokens computed, tokens served from the prefix cache).
    public var prefills: [PrefillShape]

    public struct PrefillShape: Sendable, Equatable {
        public var uncached: Int
        public var cached: Int
    }

    /// Length of the union of `intervals` (ns pairs), seconds. O(n log n).
    static func unionSeconds(_ intervals: [(TraceTime, TraceTime)]) -> Double {
        let sorted = intervals.sorted { $0.0 < $1.0 }
        var total = 0.0
        var current: (TraceTime, TraceTime)?
        for iv in sorted {
            if let c = current, iv.0 <= c.1 {
                current = (c.0, max(c.1, iv.1))
            } else {
                if let c = current { total += seconds(from: c.0, to: c.1) }
                current = iv
            }
        }
        if let c = current { total += seconds(from: c.0, to: c.1) }
        return total
    }
}
