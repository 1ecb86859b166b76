import Foundation
import TraceFormat

/// What happened to one request, in engine time (nanoseconds on the run's clock).
public struct RequestRecord: Sendable, Equatable {
    public var id: UInt64
    public var promptTokens: Int
    public var arrival: TraceTime
    public var firstToken: TraceTime?
    public var finished: TraceTime?
    /// Generated token ids, in order.
    public var output: [Int32]
    public var preemptions: Int
    public var cachedTokens: Int
    /// Set when the request was aborted.
    public var abortReason: String?
}

/// Everything the engine measured in a run, with or without a trace: per-request timelines, the
/// time per phase, inter-token gaps, KV peaks and transfers. Thread-safe (both disaggregated
/// workers write to it).
public final class RunStatistics: @unchecked Sendable {
    struct State {
        var requests: [UInt64: RequestRecord] = [:]
        var lastToken: [UInt64: TraceTime] = [:]
        var itl: [TraceDuration] = []
        var phaseTime: [Phase: TraceDuration] = [:]
        var steps = 0
        var stepsByPhase: [Phase: Int] = [:]
        var prefillTokens = 0
        var decodeTokens = 0
        var paddingRows = 0
        var promptPaddingTokens = 0
        var peakBlocksUsed: [String: Int] = [:]
        var peakBytesUsed: [String: Int64] = [:]
        var blocksTotal: [String: Int] = [:]
        var peakRunning = 0
        var transferBytes: [TransferEvent.Kind: Int64] = [:]
        var transferTime: [TransferEvent.Kind: TraceDuration] = [:]
        var preemptions: [String: Int] = [:]
        var prefixQueried = 0
        var prefixHit = 0
    }
    private let lock = NSLock()
    private var s = State()
    /// False for a long-running server (``OnlineEngine``): nobody reads a ``RunResult`` there, so
    /// a finished request's record and its inter-token gaps are dropped at once and memory stays
    /// O(requests in flight) however long it serves; the totals are still kept.
    let retainRequests: Bool

    init(retainRequests: Bool = true) { self.retainRequests = retainRequests }

    func with<T>(_ body: (inout State) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&s)
    }

    func arrived(_ id: UInt64, prompt: Int, at t: TraceTime) {
        with { $0.requests[id] = RequestRecord(id: id, promptTokens: prompt, arrival: t, output: [], preemptions: 0, cachedTokens: 0) }
    }

    func tokens(_ id: UInt64, _ tokens: [Int32], at t: TraceTime) {
        with { s in
            if s.requests[id]?.firstToken == nil { s.requests[id]?.firstToken = t }
            else if let last = s.lastToken[id], retainRequests { s.itl.append(t - last) }
            s.lastToken[id] = t
            s.requests[id]?.output.append(contentsOf: tokens)
        }
    }

    func finished(_ id: UInt64, at t: TraceTime) {
        with {
            $0.requests[id]?.finished = t
            if !retainRequests { $0.requests[id] = nil; $0.lastToken[id] = nil }
        }
    }
    func aborted(_ id: UInt64, reason: String, at t: TraceTime) {
        with {
            if $0.requests[id] == nil { $0.requests[id] = RequestRecord(id: id, promptTokens: 0, arrival: t, output: [], preemptions: 0, cachedTokens: 0) }
            $0.requests[id]?.abortReason = reason
            $0.requests[id]?.finished = t
            if !retainRequests { $0.requests[id] = nil; $0.lastToken[id] = nil }
        }
    }

    /// Requests with a record held (in flight, or every request when `retainRequests`).
    var heldRequests: Int { with { max($0.requests.count, $0.lastToken.count) } }
    /// Inter-token gaps held.
    var heldGaps: Int { with { $0.itl.count } }
    func preempted(_ id: UInt64, mode: String) {
        with { $0.requests[id]?.preemptions += 1; $0.preemptions[mode, default: 0] += 1 }
    }
    func cached(_ id: UInt64, _ n: Int) { with { $0.requests[id]?.cachedTokens += n } }
    func phase(_ p: Phase, _ d: TraceDuration) { with { $0.phaseTime[p, default: 0] += d } }
    func forward(_ phase: Phase, prefill: Int, decode: Int, padding: Int = 0, promptPadding: Int = 0) {
        with {
            $0.steps += 1; $0.stepsByPhase[phase, default: 0] += 1; $0.prefillTokens += prefill; $0.decodeTokens += decode
            $0.paddingRows += padding; $0.promptPaddingTokens += promptPadding
        }
    }
    func transfer(_ k: TransferEvent.Kind, bytes: Int64, time: TraceDuration) {
        with { $0.transferBytes[k, default: 0] += bytes; $0.transferTime[k, default: 0] += time }
    }
    func kv(pool: String, used: Int, total: Int, bytes: Int64, running: Int) {
        with {
            $0.peakBlocksUsed[pool] = max($0.peakBlocksUsed[pool] ?? 0, used)
            $0.peakBytesUsed[pool] = max($0.peakBytesUsed[pool] ?? 0, bytes)
            $0.blocksTotal[pool] = total
            $0.peakRunning = max($0.peakRunning, running)
        }
    }
    func prefix(queried: Int, hit: Int) { with { $0.prefixQueried += queried; $0.prefixHit += hit } }

    /// A frozen copy of the statistics.
    func result(start: TraceTime, end: TraceTime) -> RunResult {
        with { s in
            RunResult(start: start, end: end, requests: s.requests.values.sorted { $0.id < $1.id }, interTokenGaps: s.itl,
                      phaseTime: s.phaseTime, forwardSteps: s.steps, forwardStepsByPhase: s.stepsByPhase, prefillTokens: s.prefillTokens,
                      decodeTokens: s.decodeTokens, paddingRows: s.paddingRows, promptPaddingTokens: s.promptPaddingTokens,
                      peakBlocksUsed: s.peakBlocksUsed, peakBytesUsed: s.peakBytesUsed,
                      blocksTotal: s.blocksTotal, peakRunning: s.peakRunning, transferBytes: s.transferBytes,
                      transferTime: s.transferTime, preemptions: s.preemptions,
                      prefixQueriedTokens: s.prefixQueried, prefixHitTokens: s.prefixHit)
        }
    }
}

/// The outcome of a serving run: what each request got and when, and the engine's totals.
public struct RunResult: Sendable, Equatable {
    public var start: TraceTime
    public var end: TraceTime
    /// Sorted by request id.
    public var requests: [RequestRecord]
    /// Every gap between consecutive token deliveries of a request, pooled (vLLM's ITL).
    public var interTokenGaps: [TraceDuration]
    public var phaseTime: [Phase: TraceDuration]
    public var forwardSteps: Int
    /// Forward steps by phase (prefill, decode, mixed, verify).
    public var forwardStepsByPhase: [Phase: Int]
    /// Prompt tokens fed to forward passes (prefix-cache hits excluded; recomputation included;
    /// `static` prompt padding excluded).
    public var prefillTokens: Int
    public var decodeTokens: Int
    /// `static`: decode rows computed for finished members of a batch still in flight (wasted work).
    public var paddingRows: Int
    /// `static`: filler tokens computed to pad each batch's prompts to its longest (wasted work).
    public var promptPaddingTokens: Int
    /// Per pool ("kv", "kv.prefill", "kv.decode").
    public var peakBlocksUsed: [String: Int]
    public var peakBytesUsed: [String: Int64]
    public var blocksTotal: [String: Int]
    /// Most sequences running at once (summed over workers' samples, per worker maximum).
    public var peakRunning: Int
    public var transferBytes: [TransferEvent.Kind: Int64]
    public var transferTime: [TransferEvent.Kind: TraceDuration]
    public var preemptions: [String: Int]
    public var prefixQueriedTokens: Int
    public var prefixHitTokens: Int
    /// Speculative-decoding counters of a colocated run with `--spec`, else nil.
    public var speculation: SpeculationStats? = nil

    public var duration: TraceDuration { end - start }
    public var completed: [RequestRecord] { requests.filter { $0.abortReason == nil && $0.finished != nil } }
    public var outputTokens: Int { completed.reduce(0) { $0 + $1.output.count } }
    /// Output tokens per second of wall time.
    public var outputThroughput: Double { duration > 0 ? Double(outputTokens) / (Double(duration) / 1e9) : 0 }
    /// Time to first token per completed request, ns.
    public var ttft: [TraceDuration] { completed.compactMap { r in r.firstToken.map { $0 - r.arrival } } }
    /// Time per output token after the first, per completed request with > 1 token, ns.
    public var tpot: [Double] {
        completed.compactMap { r in
            guard let f = r.firstToken, let e = r.finished, r.output.count > 1 else { return nil }
            return Double(e - f) / Double(r.output.count - 1)
        }
    }
}

/// Percentile with linear interpolation between order statistics (NumPy's default). nil if empty.
public func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let v = values.sorted()
    let rank = p / 100 * Double(v.count - 1)
    let lo = Int(rank.rounded(.down)), hi = Int(rank.rounded(.up))
    return v[lo] + (v[hi] - v[lo]) * (rank - Double(lo))
}
