import Analysis
import TraceFormat

/// The run over time, bucketed for plotting: how each slice of wall time was spent, tokens
/// produced, batch size, queue and KV-cache usage. Built by ``TimelineCollector`` in the same pass
/// that feeds the analyzer; memory O(steps + KV samples + requests + tokens) while collecting (the
/// latency samples of the CDFs), O(buckets + requests + tokens) after.
public struct Timeline: Sendable, Equatable {
    /// Bucket start times, seconds from the first event; every bucket is `bucketSeconds` long.
    public var bucketStarts: [Double]
    public var bucketSeconds: Double
    /// Seconds of step time per phase in each bucket (spans clipped to the bucket).
    public var phaseSeconds: [Phase: [Double]]
    /// Output (decode) and prompt (prefill) tokens per second in each bucket; a step's tokens are
    /// spread over its span, so the rate is what the engine sustained while the step ran.
    public var decodeTokensPerSecond: [Double]
    public var prefillTokensPerSecond: [Double]
    /// Time-weighted mean number of sequences in a step, per bucket (nil: no step in it).
    public var meanBatchRows: [Double?]
    /// Per KV pool: the highest usage (0…1) sampled in each bucket; a bucket without a sample holds
    /// the previous value (usage persists between samples); nil before the first sample.
    public var kvUsage: [String: [Double?]]
    /// Waiting requests at the last KV sample of each bucket, held like `kvUsage`.
    public var waiting: [Double?]
    /// True when the trace has KV samples with a queue length.
    public var hasQueue: Bool

    /// Per request, in arrival order: arrival, first token and end, seconds from the first event
    /// (nil: never reached). For the per-request timeline.
    public var requests: [RequestSpan] = []
    /// Sorted latency samples for the CDFs, seconds, as the gate reads them (``RequestSamples``):
    /// TTFT, TPOT, E2E per finished request, ITL per gap between a request's output events.
    public var ttft: [Double] = []
    public var tpot: [Double] = []
    public var e2e: [Double] = []
    public var itl: [Double] = []

    public struct RequestSpan: Sendable, Equatable {
        public var arrival: Double
        public var firstToken: Double?
        public var end: Double?
        public var aborted: Bool
    }

    public var isEmpty: Bool { bucketStarts.isEmpty }
}

/// Collects the events a ``Timeline`` needs. Feed every event of a trace, then call ``finish(buckets:)``.
public struct TimelineCollector: Sendable {
    private struct Step: Sendable { var start: Int64; var duration: Int64; var phase: Phase; var prefill: Int32; var decode: Int32; var rows: Int32 }
    private struct KVSample: Sendable { var time: Int64; var pool: String; var usage: Double; var waiting: Int32 }
    private var steps: [Step] = []
    private var kv: [KVSample] = []
    private var first = Int64.max
    private var last = Int64.min
    private struct Span: Sendable { var arrival: Int64; var firstToken: Int64?; var end: Int64?; var aborted: Bool }
    private var requestOrder: [RequestID] = []
    private var spans: [RequestID: Span] = [:]
    private var samples = RequestSamples()

    public init() {}

    /// Records what the timeline needs from `event`. O(1) amortized.
    public mutating func consume(_ event: TraceEvent) {
        switch event {
        case .step(let s):
            steps.append(Step(start: s.start, duration: max(0, s.duration), phase: s.phase,
                              prefill: Int32(clamping: s.prefillTokens), decode: Int32(clamping: s.decodeTokens),
                              rows: Int32(clamping: s.batch.count)))
            first = min(first, s.start)
            last = max(last, s.start + max(0, s.duration))
        case .kvCache(let k):
            let usage = k.blocksTotal > 0 ? Double(k.blocksUsed) / Double(k.blocksTotal) : 0
            kv.append(KVSample(time: k.time, pool: k.pool, usage: usage, waiting: k.waiting))
            first = min(first, k.time)
            last = max(last, k.time)
        case .request(let r):
            first = min(first, r.time)
            last = max(last, r.time)
            request(r)
        default:
            break
        }
    }

    private mutating func request(_ r: RequestEvent) {
        samples.consume(.request(r))
        if r.kind == .arrival {
            if spans[r.request] == nil { requestOrder.append(r.request) }
            spans[r.request] = Span(arrival: r.time, firstToken: nil, end: nil, aborted: false)
            return
        }
        guard var o = spans[r.request] else { return }
        switch r.kind {
        case .firstToken: if o.firstToken == nil { o.firstToken = r.time }
        case .finished: o.end = r.time
        case .aborted: o.end = r.time; o.aborted = true
        default: return
        }
        spans[r.request] = o
    }

    /// The bucketed timeline over first…last event: `buckets` intervals, fewer when the trace has
    /// few steps (about three steps per interval at least, 20 intervals at least), so a short run
    /// does not plot single steps as spikes. O(steps + samples + buckets).
    public func finish(buckets requested: Int = 300) -> Timeline {
        guard first < last, requested > 0 else {
            return Timeline(bucketStarts: [], bucketSeconds: 0, phaseSeconds: [:], decodeTokensPerSecond: [],
                            prefillTokensPerSecond: [], meanBatchRows: [], kvUsage: [:], waiting: [], hasQueue: false)
        }
        let span = Double(last - first)
        let n = max(1, min(requested, max(20, steps.count / 3)))
        let width = span / Double(n)  // nanoseconds per bucket
        func bucket(_ t: Int64) -> Int { min(n - 1, max(0, Int(Double(t - first) / width))) }

        var phase: [Phase: [Double]] = [:]
        var decode = [Double](repeating: 0, count: n), prefill = [Double](repeating: 0, count: n)
        var rowTime = [Double](repeating: 0, count: n), stepTime = [Double](repeating: 0, count: n)
        for s in steps {
            let end = s.start + s.duration
            if s.duration == 0 {
                decode[bucket(end)] += Double(s.decode)
                prefill[bucket(end)] += Double(s.prefill)
            }
            var b = bucket(s.start)
            while b < n {
                let lo = Double(first) + Double(b) * width, hi = lo + width
                let overlap = min(Double(end), hi) - max(Double(s.start), lo)
                if overlap > 0 {
                    phase[s.phase, default: [Double](repeating: 0, count: n)][b] += overlap / 1e9
                    let share = overlap / Double(s.duration)
                    decode[b] += Double(s.decode) * share
                    prefill[b] += Double(s.prefill) * share
                    if s.phase.isForward {
                        rowTime[b] += overlap * Double(s.rows)
                        stepTime[b] += overlap
                    }
                }
                if Double(end) <= hi { break }
                b += 1
            }
        }
        let seconds = width / 1e9
        var usage: [String: [Double?]] = [:]
        var waiting = [Double?](repeating: nil, count: n)
        var waitingTime = [Int64](repeating: .min, count: n)
        for k in kv {
            let b = bucket(k.time)
            var series = usage[k.pool] ?? [Double?](repeating: nil, count: n)
            series[b] = max(series[b] ?? 0, k.usage)
            usage[k.pool] = series
            if k.time >= waitingTime[b] { waitingTime[b] = k.time; waiting[b] = Double(k.waiting) }
        }
        func hold(_ series: [Double?]) -> [Double?] {
            var last: Double?
            return series.map { v in if let v { last = v }; return last }
        }
        usage = usage.mapValues(hold)
        waiting = hold(waiting)
        var t = Timeline(bucketStarts: (0..<n).map { Double($0) * seconds }, bucketSeconds: seconds,
                         phaseSeconds: phase, decodeTokensPerSecond: decode.map { $0 / seconds },
                         prefillTokensPerSecond: prefill.map { $0 / seconds },
                         meanBatchRows: (0..<n).map { stepTime[$0] > 0 ? rowTime[$0] / stepTime[$0] : nil },
                         kvUsage: usage, waiting: waiting, hasQueue: kv.contains { $0.waiting > 0 })
        addRequests(&t)
        return t
    }

    private func addRequests(_ t: inout Timeline) {
        func s(_ x: Int64) -> Double { Double(x - first) / 1e9 }
        t.requests = requestOrder.compactMap { id in
            spans[id].map { Timeline.RequestSpan(arrival: s($0.arrival), firstToken: $0.firstToken.map(s), end: $0.end.map(s), aborted: $0.aborted) }
        }
        func sorted(_ family: String) -> [Double] { (samples.values[family] ?? []).sorted() }
        t.ttft = sorted("ttft")
        t.tpot = sorted("tpot")
        t.e2e = sorted("e2e")
        t.itl = sorted("itl")
    }
}
