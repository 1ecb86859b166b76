import TraceFormat

/// What one request's stream says once decoded: the content-chunk times, token counts and where
/// they came from, and how it ended.
public struct RequestOutcome: Sendable, Equatable {
    public enum TokenSource: String, Sendable { case usage, timings, chunks }

    public var id: UInt64
    public var sent: Int64
    /// Times of the chunks that carried generated text (the first is the first token).
    public var contentTimes: [Int64]
    public var promptTokens: Int
    /// Prompt length as sent (token list length, or the text's target length).
    public var plannedPromptTokens: Int
    public var cachedTokens: Int?
    public var completionTokens: Int
    public var tokenSource: TokenSource
    /// llama.cpp `timings.predicted_n`, when sent (cross-checked against `usage`).
    public var timingsPredicted: Int?
    public var end: Int64
    /// Why the request did not complete (nil when it did).
    public var failure: String?
    public var cancelled: Bool
    public var model: String?
    public var fingerprint: String?

    /// Decodes a record's payloads. O(payload bytes).
    public init(_ r: RequestRecord) {
        id = r.id
        sent = r.sent
        plannedPromptTokens = r.promptLength
        contentTimes = []
        var usagePrompt: Int?, usageCompletion: Int?, cached: Int?, timingsPrompt: Int?
        var error: String?, malformed = 0, sawDone = false
        for p in r.payloads {
            let c = StreamChunk.decode(p.data)
            if c.done { sawDone = true; continue }
            if c.malformed { malformed += 1; continue }
            if c.hasContent { contentTimes.append(p.time) }
            if let v = c.promptTokens { usagePrompt = v }
            if let v = c.completionTokens { usageCompletion = v }
            if let v = c.cachedTokens { cached = v }
            if let v = c.timingsPromptTokens { timingsPrompt = v }
            if let v = c.timingsPredictedTokens { timingsPredicted = v }
            if let e = c.error { error = e }
            model = model ?? c.model
            fingerprint = fingerprint ?? c.systemFingerprint
        }
        _ = sawDone
        promptTokens = usagePrompt ?? timingsPrompt ?? r.promptLength
        cachedTokens = cached
        if let u = usageCompletion { completionTokens = u; tokenSource = .usage }
        else if let t = timingsPredicted { completionTokens = t; tokenSource = .timings }
        else { completionTokens = contentTimes.count; tokenSource = .chunks }
        end = r.end ?? (r.payloads.last?.time ?? r.sent)
        cancelled = r.cancelled
        if r.cancelled {
            failure = "cancelled by the client"
        } else if let t = r.transportError {
            failure = "transport: \(t)"
        } else if let s = r.status, !(200..<300).contains(s) {
            let body = String(decoding: r.errorBody.prefix(300), as: UTF8.self)
            failure = "HTTP \(s)" + (body.isEmpty ? "" : ": \(body)")
        } else if r.status == nil {
            failure = "no response"
        } else if let e = error {
            failure = "stream error: \(e)"
        } else if contentTimes.isEmpty {
            failure = malformed > 0 ? "no content chunk (\(malformed) malformed payloads)" : "no content chunk"
        }
    }
}

/// Builds the InferScope trace of an endpoint run: one lane per request (arrival when sent,
/// first_token at the first content chunk, token at each later content chunk, finished with the
/// server's token counts, aborted with the reason), and the server's counters (KV usage, running,
/// waiting) as `kvCache` samples of pool "server" when the server exposes KV usage, speculative
/// acceptance as `speculation` samples. Times are relative to the run start. O(records + snapshots).
public enum EndpointTrace {
    /// Blocks of the synthetic "server" pool: usage fractions are written as blocks out of 10 000.
    public static let scaledBlocks: Int32 = 10_000

    public struct Summary: Sendable, Equatable {
        public var completed = 0
        public var failed = 0
        public var cancelled = 0
        /// Requests whose token count came from each source.
        public var tokenSources: [RequestOutcome.TokenSource: Int] = [:]
        /// Completed requests whose `usage.completion_tokens` differs from the content chunks
        /// received (servers that bundle several tokens into one chunk, or send empty ones).
        public var chunkMismatches = 0
        /// Completed requests with both `usage` and llama.cpp `timings`, and those where they disagree.
        public var timingsChecked = 0
        public var timingsMismatches = 0
        public var outputTokens = 0
        public var model: String?
        public var fingerprint: String?
        public var failures: [String: Int] = [:]
    }

    public static func events(_ result: LoadResult, snapshots: [ServerSnapshot],
                              header: RunHeader) -> (events: [TraceEvent], summary: Summary) {
        var events: [TraceEvent] = []
        var summary = Summary()
        let origin = result.start
        func t(_ x: Int64) -> Int64 { max(0, x - origin) }
        var requestEvents: [RequestEvent] = []
        for r in result.records {
            let o = RequestOutcome(r)
            summary.model = summary.model ?? o.model
            summary.fingerprint = summary.fingerprint ?? o.fingerprint
            requestEvents.append(RequestEvent(request: o.id, kind: .arrival, time: t(o.sent),
                                              promptTokens: Int32(clamping: o.promptTokens)))
            for (i, time) in o.contentTimes.enumerated() {
                var tokens: Int32 = 1
                // Reconcile with the server's count: extra tokens ride on the last chunk.
                if i == o.contentTimes.count - 1, o.failure == nil, o.completionTokens > o.contentTimes.count {
                    tokens += Int32(clamping: o.completionTokens - o.contentTimes.count)
                }
                requestEvents.append(RequestEvent(request: o.id, kind: i == 0 ? .firstToken : .token, time: t(time), tokens: tokens))
            }
            let endTime = t(max(o.end, o.contentTimes.last ?? o.end))
            if let failure = o.failure {
                if o.cancelled { summary.cancelled += 1 } else { summary.failed += 1 }
                let key = failure.prefix { $0 != ":" }
                summary.failures[String(key), default: 0] += 1
                requestEvents.append(RequestEvent(request: o.id, kind: .aborted, time: endTime,
                                                  promptTokens: Int32(clamping: o.promptTokens),
                                                  tokens: Int32(clamping: o.contentTimes.count), reason: failure))
            } else {
                summary.completed += 1
                summary.outputTokens += o.completionTokens
                summary.tokenSources[o.tokenSource, default: 0] += 1
                if o.tokenSource == .usage && o.completionTokens != o.contentTimes.count { summary.chunkMismatches += 1 }
                if let p = o.timingsPredicted, o.tokenSource == .usage {
                    summary.timingsChecked += 1
                    if p != o.completionTokens { summary.timingsMismatches += 1 }
                }
                requestEvents.append(RequestEvent(request: o.id, kind: .finished, time: endTime,
                                                  promptTokens: Int32(clamping: o.promptTokens),
                                                  tokens: Int32(clamping: o.completionTokens),
                                                  cachedTokens: o.cachedTokens.map { Int32(clamping: $0) }))
            }
        }
        // Counters.
        var counterEvents: [(Int64, TraceEvent)] = []
        var previous: ServerSnapshot?
        var step: Int64 = 0
        for s in snapshots {
            let time = t(s.time)
            if let usage = s.values[.kvUsage] {
                let used = Int32((max(0, min(1, usage)) * Double(scaledBlocks)).rounded())
                counterEvents.append((time, .kvCache(KVCacheCounters(
                    time: time, pool: "server", blocksTotal: scaledBlocks, blocksUsed: used, blockSize: 16,
                    tokensStored: 0, bytesUsed: 0,
                    running: Int32(clamping: Int(s.values[.running] ?? 0)),
                    waiting: Int32(clamping: Int(s.values[.waiting] ?? 0))))))
            }
            if let p = previous, let d1 = s.values[.specDraftTokens], let d0 = p.values[.specDraftTokens],
               let a1 = s.values[.specAcceptedTokens], let a0 = p.values[.specAcceptedTokens], d1 > d0 {
                var gamma: Int32 = 0
                if let r1 = s.values[.specDrafts], let r0 = p.values[.specDrafts], r1 > r0 {
                    gamma = Int32(((d1 - d0) / (r1 - r0)).rounded())
                }
                step += 1
                counterEvents.append((time, .speculation(SpeculationCounters(
                    time: time, step: step, draftLength: gamma, drafted: Int32(clamping: Int(d1 - d0)),
                    accepted: Int32(clamping: Int(max(0, a1 - a0)))))))
            }
            previous = s
        }
        // One time-ordered stream after the header (request events of one request stay in order).
        var merged: [(Int64, Int, TraceEvent)] = []
        for (i, e) in requestEvents.enumerated() { merged.append((e.time, i, .request(e))) }
        for (i, c) in counterEvents.enumerated() { merged.append((c.0, requestEvents.count + i, c.1)) }
        merged.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        events.append(.header(header))
        events += merged.map(\.2)
        return (events, summary)
    }

    /// Header parameters summarising the server's counters over the run: `server.<quantity>.mean`
    /// and `.max` for gauges, `.delta` (last − first scrape) for counters. O(snapshots).
    public static func counterSummary(_ snapshots: [ServerSnapshot]) -> [String: String] {
        var out: [String: String] = [:]
        for q in ServerQuantity.allCases {
            let values = snapshots.compactMap { $0.values[q] }
            guard let first = values.first, let last = values.last else { continue }
            if q.isCounter {
                out["server.\(q.rawValue).delta"] = number(last - first)
            } else {
                out["server.\(q.rawValue).mean"] = number(values.reduce(0, +) / Double(values.count))
                out["server.\(q.rawValue).max"] = number(values.max()!)
            }
        }
        return out
    }

    /// Fixed text for a number: integers plainly, else 4 decimals.
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        let scaled = (x * 10_000).rounded() / 10_000
        return String(scaled)
    }
}
