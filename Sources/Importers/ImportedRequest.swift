import TraceFormat

/// One request as a foreign file describes it, in seconds relative to the run's first request.
/// Every importer of request-level data fills these and lets ``emitEvents(id:emit:)`` write the
/// lifecycle, so all formats map to trace events the same way:
/// `arrival` → `first_token` (at arrival + TTFT) → one `token` per further streamed chunk (at the
/// file's chunk gaps) → `finished` (tokens = the file's output count) or `aborted`.
struct ImportedRequest: Sendable {
    /// The producer's id, when it has one.
    var externalID: String?
    /// Seconds from the trace origin.
    var arrival: Double
    var promptTokens: Int?
    /// Seconds from arrival to the first token; nil when not measured.
    var ttft: Double?
    /// Gaps between consecutive streamed chunks after the first, seconds (vLLM `itls[i]`).
    var chunkGaps: [Double] = []
    /// Seconds from arrival to the end of the request, when the file gives it; otherwise
    /// TTFT + Σ chunk gaps.
    var latency: Double?
    var outputTokens: Int?
    /// Prompt tokens served from a prefix cache, when the source reports them.
    var cachedTokens: Int?
    /// Seconds from arrival until the engine scheduled the request, when the source reports it.
    var queueTime: Double?
    /// Non-nil for a failed request: the error text.
    var error: String?

    /// The end, seconds from arrival.
    var endOffset: Double? {
        if let latency { return latency }
        guard let t = ttft else { return nil }
        return t + chunkGaps.reduce(0, +)
    }

    /// Writes this request's events. Token counts are spread evenly over the chunks (the files
    /// do not say how many tokens each chunk held); `finished` carries the file's total.
    func emitEvents(id: RequestID, emit: (TraceEvent) -> Void) {
        let start = nanoseconds(arrival)
        let prompt = promptTokens.map(clamp32)
        emit(.request(RequestEvent(request: id, kind: .arrival, time: start, promptTokens: prompt,
                                   cachedTokens: error == nil ? cachedTokens.map(clamp32) : nil, externalID: externalID)))
        if let error {
            let end = start + nanoseconds(max(0, endOffset ?? 0))
            emit(.request(RequestEvent(request: id, kind: .aborted, time: end, promptTokens: prompt,
                                       tokens: outputTokens.map(clamp32), reason: error.isEmpty ? "failed" : error)))
            return
        }
        if let queueTime {
            emit(.request(RequestEvent(request: id, kind: .scheduled, time: start + nanoseconds(queueTime), promptTokens: prompt)))
        }
        guard let ttft else {
            let end = start + nanoseconds(max(0, latency ?? 0))
            emit(.request(RequestEvent(request: id, kind: .finished, time: end, promptTokens: prompt,
                                       tokens: outputTokens.map(clamp32))))
            return
        }
        let chunks = chunkGaps.count + 1
        let total = max(outputTokens ?? chunks, 1)
        if chunkGaps.isEmpty, let latency, latency > ttft {
            // No chunk times: one token at TTFT, the rest delivered by the finish (the analyzer
            // ends such a request at its finish, not at its first token).
            emit(.request(RequestEvent(request: id, kind: .firstToken, time: start + nanoseconds(ttft), tokens: 1)))
            emit(.request(RequestEvent(request: id, kind: .finished, time: start + nanoseconds(latency), promptTokens: prompt,
                                       tokens: clamp32(total))))
            return
        }
        let base = total / chunks, extra = total % chunks
        func share(_ i: Int) -> Int32 { clamp32(max(1, base + (i < extra ? 1 : 0))) }
        // Times are accumulated in seconds and rounded once per point, so the gaps reconstruct
        // the file's values to the nanosecond and rounding never drifts.
        var offset = ttft
        emit(.request(RequestEvent(request: id, kind: .firstToken, time: start + nanoseconds(offset), tokens: share(0))))
        for (i, gap) in chunkGaps.enumerated() {
            offset += gap
            emit(.request(RequestEvent(request: id, kind: .token, time: start + nanoseconds(offset), tokens: share(i + 1))))
        }
        let end = start + nanoseconds(max(offset, latency ?? offset))
        emit(.request(RequestEvent(request: id, kind: .finished, time: end, promptTokens: prompt, tokens: clamp32(total))))
    }
}

/// Seconds → nanoseconds, rounded; non-finite or negative values become 0, and values are
/// capped at 4·10^18 ns (≈ 127 years) so that an arrival plus an offset, both converted here,
/// stays below Int64.max (9.2·10^18) instead of trapping.
@inline(__always) func nanoseconds(_ seconds: Double) -> TraceTime {
    guard seconds.isFinite, seconds > 0 else { return 0 }
    return TraceTime(min((seconds * 1e9).rounded(), 4e18))
}

@inline(__always) func clamp32(_ x: Int) -> Int32 { Int32(clamping: x) }

/// The largest count a file may give as a JSON number: 2^53, the last integer a Double holds
/// exactly (far beyond any real token count). Larger values are refused with a typed error, so
/// `Int(x)` of a checked value never traps.
let maxFileCount: Double = 9_007_199_254_740_992

/// A count read as a Double → Int without trapping: NaN and negatives → 0, the whole part,
/// at most ``maxFileCount``. For counts that were already validated, or only estimate something.
@inline(__always) func clampedCount(_ x: Double) -> Int {
    guard x > 0 else { return 0 }  // also NaN
    return Int(min(x, maxFileCount).rounded(.down))
}

/// `a - b` on trace times from a file, saturating instead of trapping on overflow.
@inline(__always) func clampedDifference(_ a: Int64, _ b: Int64) -> Int64 {
    let (d, overflow) = a.subtractingReportingOverflow(b)
    guard overflow else { return d }
    return a < b ? .min : .max
}

/// Emits the header and then each request's events, ids in file order from 0.
func emitRequests(_ requests: [ImportedRequest], header: RunHeader, emit: (TraceEvent) -> Void) {
    emit(.header(header))
    for (i, r) in requests.enumerated() { r.emitEvents(id: RequestID(i), emit: emit) }
}
