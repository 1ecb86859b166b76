/// Latency targets a request must all meet to count as "good" (vLLM-style goodput).
///
/// Parsed from `ttft=200ms,tpot=50ms,e2e=2s,itl=100ms`; values are stored in seconds.
/// A request is good iff every configured target holds (`value <= target`); a request with
/// at most one output token has TPOT 0 for this purpose (as in vLLM). `itl` is not a
/// per-request goodput criterion: it is compared against the pooled per-chunk gap percentiles.
public struct ServiceLevelObjectives: Sendable, Equatable {
    /// Seconds.
    public var ttft: Double?
    /// Seconds.
    public var tpot: Double?
    /// Seconds.
    public var e2e: Double?
    /// Seconds; the time-between-tokens target (vLLM ITL / Sarathi TBT), judged on p99.
    public var itl: Double?

    public init(ttft: Double? = nil, tpot: Double? = nil, e2e: Double? = nil, itl: Double? = nil) {
        self.ttft = ttft
        self.tpot = tpot
        self.e2e = e2e
        self.itl = itl
    }

    public var isEmpty: Bool { ttft == nil && tpot == nil && e2e == nil && itl == nil }

    /// Parses `key=value[unit],…` with keys ttft, tpot, e2e (alias e2el), itl (alias tbt) and
    /// units `ns`, `us`, `ms`, `s` (a bare number means milliseconds, as in vLLM's `--goodput`).
    public init(parsing text: String) throws(AnalysisError) {
        self.init()
        for item in text.split(separator: ",") where !String(item).trimmingCharacters(in: " ").isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: " ") }
            guard parts.count == 2, let seconds = ServiceLevelObjectives.parseDuration(parts[1]) else {
                throw .invalidArgument(name: "--slo", value: String(item),
                                       expected: "key=duration such as ttft=200ms, tpot=50ms, e2e=2s, itl=100ms")
            }
            switch parts[0].lowercased() {
            case "ttft": ttft = seconds
            case "tpot": tpot = seconds
            case "e2e", "e2el": e2e = seconds
            case "itl", "tbt": itl = seconds
            default:
                throw .invalidArgument(name: "--slo", value: parts[0], expected: "one of ttft, tpot, e2e, itl")
            }
        }
    }

    /// "200ms" → 0.2. nil when malformed or negative.
    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let v = Double(text.dropLast(suffix.count)), v >= 0, v.isFinite else { return nil }
            return v * scale
        }
        guard let v = Double(text), v >= 0, v.isFinite else { return nil }
        return v * 1e-3
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
