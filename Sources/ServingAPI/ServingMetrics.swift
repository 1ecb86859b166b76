import Foundation
import Scheduling
import ServingEngine
import TraceFormat

/// A Prometheus histogram: cumulative bucket counts at upper bounds `le`, sum and count.
struct Histogram {
    let bounds: [Double]
    var counts: [Int]
    var sum = 0.0
    var count = 0

    init(_ bounds: [Double]) {
        self.bounds = bounds
        counts = [Int](repeating: 0, count: bounds.count)
    }

    /// O(buckets).
    mutating func observe(_ v: Double) {
        for (i, b) in bounds.enumerated() where v <= b { counts[i] += 1 }
        sum += v
        count += 1
    }
}

/// vLLM-compatible Prometheus metrics (vllm/v1/metrics/loggers.py names and meanings), fed by
/// the engine's per-request events and gauges, so dashboards and tools written for vLLM read
/// `/metrics` unchanged. All latencies in seconds on the engine's trace clock:
///
/// - TTFT = first token − arrival; inter-token latency = gap between successive token batches
///   of a request; TPOT per request = (last − first token) / (tokens − 1);
/// - queue = first scheduled − arrival; prefill = first token − first scheduled; decode = end −
///   first token; inference = end − first scheduled; e2e = end − arrival.
///
/// Thread-safe (one lock); observation O(buckets), rendering O(metrics × buckets).
public final class ServingMetrics: @unchecked Sendable {
    static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                                           7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
    static let tokenLatencyBuckets: [Double] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
                                                7.5, 10.0, 20.0, 40.0, 80.0]
    static let requestBuckets: [Double] = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
                                           120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]
    static let countBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]

    struct Live {
        var arrival: TraceTime
        var prompt: Int
        var scheduled: TraceTime?
        var firstToken: TraceTime?
        var lastToken: TraceTime?
        var generated = 0
    }

    let modelName: String
    let blockSize: Int
    let prefixCaching: Bool
    private let lock = NSLock()
    private var live: [UInt64: Live] = [:]
    private var histograms: [String: Histogram] = [:]
    private var promptTokens = 0
    private var generationTokens = 0
    private var success: [String: Int] = ["length": 0, "stop": 0, "abort": 0]

    public init(modelName: String, blockSize: Int, prefixCaching: Bool) {
        self.modelName = modelName
        self.blockSize = blockSize
        self.prefixCaching = prefixCaching
        for (name, b) in Self.families { histograms[name] = Histogram(b) }
    }

    static let families: [(String, [Double])] = [
        ("vllm:time_to_first_token_seconds", latencyBuckets),
        ("vllm:inter_token_latency_seconds", tokenLatencyBuckets),
        ("vllm:time_per_output_token_seconds", tokenLatencyBuckets),
        ("vllm:request_time_per_output_token_seconds", tokenLatencyBuckets),
        ("vllm:e2e_request_latency_seconds", requestBuckets),
        ("vllm:request_queue_time_seconds", requestBuckets),
        ("vllm:request_inference_time_seconds", requestBuckets),
        ("vllm:request_prefill_time_seconds", requestBuckets),
        ("vllm:request_decode_time_seconds", requestBuckets),
        ("vllm:request_prompt_tokens", countBuckets),
        ("vllm:request_generation_tokens", countBuckets),
    ]

    static let help: [String: String] = [
        "vllm:time_to_first_token_seconds": "Histogram of time to first token in seconds.",
        "vllm:inter_token_latency_seconds": "Histogram of inter-token latency in seconds.",
        "vllm:time_per_output_token_seconds": "Histogram of time per output token in seconds (deprecated name of inter_token_latency_seconds).",
        "vllm:request_time_per_output_token_seconds": "Histogram of time_per_output_token_seconds per request.",
        "vllm:e2e_request_latency_seconds": "Histogram of e2e request latency in seconds.",
        "vllm:request_queue_time_seconds": "Histogram of time spent in WAITING phase for request.",
        "vllm:request_inference_time_seconds": "Histogram of time spent in RUNNING phase for request.",
        "vllm:request_prefill_time_seconds": "Histogram of time spent in PREFILL phase for request.",
        "vllm:request_decode_time_seconds": "Histogram of time spent in DECODE phase for request.",
        "vllm:request_prompt_tokens": "Number of prefill tokens processed.",
        "vllm:request_generation_tokens": "Number of generation tokens processed.",
    ]

    func observe(_ name: String, _ v: Double) { histograms[name]!.observe(v) }

    /// Records one request's events (called from the engine thread). O(events × buckets).
    public func record(_ id: UInt64, events: [OnlineEvent]) {
        lock.lock()
        defer { lock.unlock() }
        guard var r = live[id] else { return }
        for e in events {
            switch e {
            case .scheduled(let t):
                if r.scheduled == nil {
                    r.scheduled = t
                    observe("vllm:request_queue_time_seconds", seconds(t - r.arrival))
                }
            case .tokens(let tokens, _, let t):
                if r.firstToken == nil {
                    r.firstToken = t
                    observe("vllm:time_to_first_token_seconds", seconds(t - r.arrival))
                    if let s = r.scheduled { observe("vllm:request_prefill_time_seconds", seconds(t - s)) }
                    promptTokens += r.prompt
                } else if let last = r.lastToken {
                    let gap = seconds(t - last)
                    observe("vllm:inter_token_latency_seconds", gap)
                    observe("vllm:time_per_output_token_seconds", gap / Double(max(1, tokens.count)))
                }
                r.lastToken = t
                r.generated += tokens.count
                generationTokens += tokens.count
            case .finished(let reason, let t):
                finish(r, reason: reason == .length ? "length" : "stop", at: t)
                live[id] = nil
                return
            case .aborted(_, let t):
                finish(r, reason: "abort", at: t)
                live[id] = nil
                return
            }
        }
        live[id] = r
    }

    /// A request entered the engine at `arrival` with `prompt` tokens.
    public func arrived(_ id: UInt64, prompt: Int, at arrival: TraceTime) {
        lock.lock()
        live[id] = Live(arrival: arrival, prompt: prompt)
        lock.unlock()
    }

    private func finish(_ r: Live, reason: String, at t: TraceTime) {
        success[reason, default: 0] += 1
        guard reason != "abort" else { return }
        observe("vllm:e2e_request_latency_seconds", seconds(t - r.arrival))
        if let s = r.scheduled { observe("vllm:request_inference_time_seconds", seconds(t - s)) }
        if let f = r.firstToken {
            observe("vllm:request_decode_time_seconds", seconds(t - f))
            if r.generated > 1, let last = r.lastToken {
                observe("vllm:request_time_per_output_token_seconds", seconds(last - f) / Double(r.generated - 1))
            }
        }
        observe("vllm:request_prompt_tokens", Double(r.prompt))
        observe("vllm:request_generation_tokens", Double(r.generated))
    }

    func seconds(_ ns: Int64) -> Double { Double(ns) / 1e9 }

    /// The Prometheus text exposition (format 0.0.4) of every metric, with `gauges` for the
    /// engine's current state. Counters carry the `_total` suffix as prometheus_client writes it.
    public func render(_ g: EngineGauges) -> String {
        lock.lock()
        defer { lock.unlock() }
        let labels = "model_name=\"\(escapeLabel(modelName))\",engine=\"0\""
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ extra: String = "", value v: Double) {
            out += "\(name){\(labels)\(extra)} \(formatValue(v))\n"
        }
        family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
        sample("vllm:num_requests_running", value: Double(g.running))
        family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
        sample("vllm:num_requests_waiting", value: Double(g.waiting))
        family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
        sample("vllm:kv_cache_usage_perc", value: g.kvUsage)
        family("vllm:gpu_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage (deprecated name of kv_cache_usage_perc).")
        sample("vllm:gpu_cache_usage_perc", value: g.kvUsage)
        family("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig.")
        out += "vllm:cache_config_info{block_size=\"\(blockSize)\",enable_prefix_caching=\"\(prefixCaching ? "True" : "False")\",engine=\"0\",num_gpu_blocks=\"\(g.kvBlocksTotal)\"} 1.0\n"
        let counters: [(String, String, Double)] = [
            ("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", Double(g.prefixQueriedTokens)),
            ("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", Double(g.prefixHitTokens)),
            ("vllm:num_preemptions", "Cumulative number of preemption from the engine.", Double(g.preemptions)),
            ("vllm:prompt_tokens", "Number of prefill tokens processed.", Double(promptTokens)),
            ("vllm:generation_tokens", "Number of generation tokens processed.", Double(generationTokens)),
            ("vllm:spec_decode_num_drafts", "Number of spec decoding drafts.", Double(g.specDrafts)),
            ("vllm:spec_decode_num_draft_tokens", "Number of draft tokens.", Double(g.specDraftedTokens)),
            ("vllm:spec_decode_num_accepted_tokens", "Number of accepted tokens.", Double(g.specAcceptedTokens)),
        ]
        for (name, help, v) in counters {
            family(name, "counter", help)
            sample(name + "_total", value: v)
        }
        family("vllm:spec_decode_num_accepted_tokens_per_pos", "counter", "Accepted tokens per draft position.")
        for (k, v) in g.specAcceptedPerPosition.enumerated() {
            sample("vllm:spec_decode_num_accepted_tokens_per_pos_total", ",position=\"\(k)\"", value: Double(v))
        }
        family("vllm:request_success", "counter", "Count of successfully processed requests.")
        for reason in success.keys.sorted() {
            sample("vllm:request_success_total", ",finished_reason=\"\(reason)\"", value: Double(success[reason]!))
        }
        for (name, _) in Self.families {
            let h = histograms[name]!
            family(name, "histogram", Self.help[name] ?? name)
            for (i, b) in h.bounds.enumerated() {
                sample(name + "_bucket", ",le=\"\(formatValue(b))\"", value: Double(h.counts[i]))
            }
            sample(name + "_bucket", ",le=\"+Inf\"", value: Double(h.count))
            sample(name + "_sum", value: h.sum)
            sample(name + "_count", value: Double(h.count))
        }
        return out
    }

    func escapeLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Prometheus sample values as prometheus_client writes them: "3.0", "0.25", "1e-05".
    func formatValue(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return "\(Int64(v)).0" }
        return "\(v)"
    }
}
