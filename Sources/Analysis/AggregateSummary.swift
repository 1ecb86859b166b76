/// A run's own aggregate statistics, as a foreign file reports them, in canonical units.
///
/// This is the contract between the importers and the analyzer for files that hold aggregates
/// (a SGLang result line, AIPerf/GenAI-Perf summaries, vLLM summaries, trtllm-bench reports, the
/// `Serving Benchmark Result` text block): an importer fills the fields it can read and writes
/// them into the trace header's workload parameters under `aggregate.<key>` (``write(into:)``);
/// the analyzer reads them back (``init(parameters:)``) to give an "estimated from aggregates"
/// verdict when there are no per-request records. The format-specific originals stay under
/// `reported.<key>` for display.
///
/// Units: times in seconds, throughputs per second, token counts in tokens. Every field is
/// optional: nil means "the file does not say". `requestRate` is `.infinity` for `inf`
/// (all requests sent at t = 0). Reading and writing are O(number of keys).
public struct AggregateSummary: Sendable, Equatable {
    /// Percentile statistics of one latency metric, seconds.
    public struct Stat: Sendable, Equatable {
        public var mean: Double?
        public var p50: Double?
        public var p90: Double?
        public var p95: Double?
        public var p99: Double?
        public var max: Double?
        public init(mean: Double? = nil, p50: Double? = nil, p90: Double? = nil, p95: Double? = nil,
                    p99: Double? = nil, max: Double? = nil) {
            self.mean = mean
            self.p50 = p50
            self.p90 = p90
            self.p95 = p95
            self.p99 = p99
            self.max = max
        }
        public var isEmpty: Bool { mean == nil && p50 == nil && p90 == nil && p95 == nil && p99 == nil && max == nil }
        /// The best central value: the mean, else the median.
        public var central: Double? { mean ?? p50 }
    }

    /// Time to first token (queueing + prefill), seconds.
    public var ttft = Stat()
    /// Time per output token after the first, (E2E − TTFT)/(output − 1), seconds.
    public var tpot = Stat()
    /// Inter-token (or inter-chunk) latency, seconds.
    public var itl = Stat()
    /// End-to-end request latency, seconds.
    public var e2e = Stat()
    /// Time from arrival to scheduling, seconds, when the engine reports it.
    public var queue = Stat()
    /// Mean prompt length, tokens.
    public var inputTokensMean: Double?
    /// Mean output length, tokens.
    public var outputTokensMean: Double?
    /// Requests that completed successfully.
    public var completed: Int?
    /// Requests that failed or were cancelled.
    public var failed: Int?
    /// Benchmark wall time, seconds.
    public var durationSeconds: Double?
    /// Completed requests per second.
    public var requestThroughput: Double?
    /// Output tokens per second.
    public var outputThroughput: Double?
    /// Input + output tokens per second.
    public var totalTokenThroughput: Double?
    /// Offered request rate, requests/s; `.infinity` when all requests were sent at t = 0.
    public var requestRate: Double?
    /// The client's concurrency cap (closed loop), if any.
    public var maxConcurrency: Double?
    /// Speculative decoding: draft tokens proposed and accepted, number of drafts.
    public var specDraftTokens: Double?
    public var specAcceptedTokens: Double?
    public var specDrafts: Double?
    /// Mean accepted length per draft (tokens emitted per verify step, incl. the bonus token).
    public var specMeanAcceptedLength: Double?
    /// Disaggregated serving: prefill and decode worker (instance) counts.
    public var prefillWorkers: Int?
    public var decodeWorkers: Int?
    /// A GPU kernel profile (PyTorch profiler / Kineto): the profiled window and the time its
    /// kernels cover, by class, seconds, summed over profiler steps. Class times are unions of
    /// kernel intervals and may overlap each other (concurrent streams); idle = window − busy.
    public var gpuWindowSeconds: Double?
    public var gpuBusySeconds: Double?
    public var gpuGEMMSeconds: Double?
    public var gpuAttentionSeconds: Double?
    public var gpuCommunicationSeconds: Double?
    public var gpuMemorySeconds: Double?
    public var gpuOtherSeconds: Double?
    /// Profiler steps in the window (0 when the trace marks none).
    public var gpuSteps: Int?

    public init() {}

    /// The parameter-key prefix.
    public static let prefix = "aggregate."

    /// True when no field is set.
    public var isEmpty: Bool { self == AggregateSummary() }

    /// True when a serving statistic is set (latency, throughput, counts, load, workers): the
    /// fields an "estimated from aggregates" verdict reads. A kernel profile's GPU times alone
    /// are not serving statistics.
    public var hasServingStatistics: Bool {
        var s = self
        s.gpuWindowSeconds = nil; s.gpuBusySeconds = nil; s.gpuGEMMSeconds = nil; s.gpuAttentionSeconds = nil
        s.gpuCommunicationSeconds = nil; s.gpuMemorySeconds = nil; s.gpuOtherSeconds = nil; s.gpuSteps = nil
        return !s.isEmpty
    }

    /// Reads the `aggregate.*` workload parameters; unknown keys and unparsable values are ignored
    /// ("inf" parses as infinity).
    public init(parameters: [String: String]) {
        self.init()
        func d(_ key: String) -> Double? {
            guard let text = parameters[Self.prefix + key] else { return nil }
            switch text {
            case "inf", "+inf", "Infinity": return .infinity
            default: return Double(text)
            }
        }
        func i(_ key: String) -> Int? { d(key).flatMap { $0.isFinite && abs($0) < 1e15 ? Int($0) : nil } }
        func stat(_ name: String) -> Stat {
            Stat(mean: d("\(name)_mean_s"), p50: d("\(name)_p50_s"), p90: d("\(name)_p90_s"),
                 p95: d("\(name)_p95_s"), p99: d("\(name)_p99_s"), max: d("\(name)_max_s"))
        }
        ttft = stat("ttft")
        tpot = stat("tpot")
        itl = stat("itl")
        e2e = stat("e2e")
        queue = stat("queue")
        inputTokensMean = d("input_tokens_mean")
        outputTokensMean = d("output_tokens_mean")
        completed = i("completed")
        failed = i("failed")
        durationSeconds = d("duration_s")
        requestThroughput = d("request_throughput")
        outputThroughput = d("output_throughput")
        totalTokenThroughput = d("total_token_throughput")
        requestRate = d("request_rate")
        maxConcurrency = d("max_concurrency")
        specDraftTokens = d("spec_draft_tokens")
        specAcceptedTokens = d("spec_accepted_tokens")
        specDrafts = d("spec_drafts")
        specMeanAcceptedLength = d("spec_mean_accepted_length")
        prefillWorkers = i("prefill_workers")
        decodeWorkers = i("decode_workers")
        gpuWindowSeconds = d("gpu_window_s")
        gpuBusySeconds = d("gpu_busy_s")
        gpuGEMMSeconds = d("gpu_gemm_s")
        gpuAttentionSeconds = d("gpu_attention_s")
        gpuCommunicationSeconds = d("gpu_communication_s")
        gpuMemorySeconds = d("gpu_memory_s")
        gpuOtherSeconds = d("gpu_other_s")
        gpuSteps = i("gpu_steps")
    }

    /// Writes the set fields as `aggregate.<key>` parameters (shortest round-trip text; "inf").
    public func write(into parameters: inout [String: String]) {
        func put(_ key: String, _ x: Double?) {
            guard let x, !x.isNaN else { return }
            parameters[Self.prefix + key] = x.isInfinite ? (x > 0 ? "inf" : "-inf")
                : (x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)")
        }
        func put(_ name: String, _ s: Stat) {
            put("\(name)_mean_s", s.mean)
            put("\(name)_p50_s", s.p50)
            put("\(name)_p90_s", s.p90)
            put("\(name)_p95_s", s.p95)
            put("\(name)_p99_s", s.p99)
            put("\(name)_max_s", s.max)
        }
        put("ttft", ttft)
        put("tpot", tpot)
        put("itl", itl)
        put("e2e", e2e)
        put("queue", queue)
        put("input_tokens_mean", inputTokensMean)
        put("output_tokens_mean", outputTokensMean)
        put("completed", completed.map(Double.init))
        put("failed", failed.map(Double.init))
        put("duration_s", durationSeconds)
        put("request_throughput", requestThroughput)
        put("output_throughput", outputThroughput)
        put("total_token_throughput", totalTokenThroughput)
        put("request_rate", requestRate)
        put("max_concurrency", maxConcurrency)
        put("spec_draft_tokens", specDraftTokens)
        put("spec_accepted_tokens", specAcceptedTokens)
        put("spec_drafts", specDrafts)
        put("spec_mean_accepted_length", specMeanAcceptedLength)
        put("prefill_workers", prefillWorkers.map(Double.init))
        put("decode_workers", decodeWorkers.map(Double.init))
        put("gpu_window_s", gpuWindowSeconds)
        put("gpu_busy_s", gpuBusySeconds)
        put("gpu_gemm_s", gpuGEMMSeconds)
        put("gpu_attention_s", gpuAttentionSeconds)
        put("gpu_communication_s", gpuCommunicationSeconds)
        put("gpu_memory_s", gpuMemorySeconds)
        put("gpu_other_s", gpuOtherSeconds)
        put("gpu_steps", gpuSteps.map(Double.init))
    }
}
