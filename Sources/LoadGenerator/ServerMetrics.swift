import PrometheusText

/// The engines whose Prometheus metric names are recognised.
public enum ServerKind: String, Sendable, CaseIterable {
    case vllm, sglang, llamacpp = "llama.cpp", tgi
}

/// The quantities of a server's `/metrics` that become trace counters.
public enum ServerQuantity: String, Sendable, CaseIterable {
    /// Fraction of the KV cache in use, 0…1 (gauge).
    case kvUsage = "kv_usage"
    /// Requests running in the engine's batch (gauge).
    case running
    /// Requests queued in the server (gauge).
    case waiting
    /// Preemptions (vLLM) / retractions (SGLang) since start (counter).
    case preemptions
    /// Speculative draft tokens proposed and accepted since start (counters).
    case specDraftTokens = "spec_draft_tokens"
    case specAcceptedTokens = "spec_accepted_tokens"
    /// Speculation rounds (drafts) since start (counter); draft tokens / drafts = γ.
    case specDrafts = "spec_drafts"
    /// Mean speculative acceptance rate reported directly (SGLang gauge), 0…1.
    case specAcceptRate = "spec_accept_rate"
    /// Prompt and generated tokens since start (counters).
    case promptTokens = "prompt_tokens"
    case generationTokens = "generation_tokens"

    /// Counters are cumulative; the trace records their change over the run.
    public var isCounter: Bool {
        switch self {
        case .kvUsage, .running, .waiting, .specAcceptRate: return false
        default: return true
        }
    }
}

/// One exposition name and what it means. Several names may map to one quantity (renames across
/// versions): the first present wins.
public struct MetricMapping: Sendable, Equatable {
    public var server: ServerKind
    public var quantity: ServerQuantity
    public var name: String
    /// Across label sets (engines, models): sum, or mean for fractions.
    public var mean: Bool
}

/// One scrape reduced to the recognised quantities.
public struct ServerSnapshot: Sendable, Equatable {
    /// Clock reading when the scrape's response arrived, nanoseconds.
    public var time: Int64
    /// The engine recognised from the metric names (nil: none of ours).
    public var server: ServerKind?
    public var values: [ServerQuantity: Double]

    public init(time: Int64, server: ServerKind?, values: [ServerQuantity: Double]) {
        self.time = time
        self.server = server
        self.values = values
    }
}

/// The metric-name table (docs/endpoint.md prints the same table) and the reduction of a scrape.
public enum ServerMetrics {
    public static let mappings: [MetricMapping] = {
        func m(_ s: ServerKind, _ q: ServerQuantity, _ names: [String], mean: Bool = false) -> [MetricMapping] {
            names.map { MetricMapping(server: s, quantity: q, name: $0, mean: mean) }
        }
        return m(.vllm, .kvUsage, ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"], mean: true)
            + m(.vllm, .running, ["vllm:num_requests_running"])
            + m(.vllm, .waiting, ["vllm:num_requests_waiting"])
            + m(.vllm, .preemptions, ["vllm:num_preemptions_total", "vllm:num_preemptions"])
            + m(.vllm, .specDraftTokens, ["vllm:spec_decode_num_draft_tokens_total"])
            + m(.vllm, .specAcceptedTokens, ["vllm:spec_decode_num_accepted_tokens_total"])
            + m(.vllm, .specDrafts, ["vllm:spec_decode_num_drafts_total"])
            + m(.vllm, .promptTokens, ["vllm:prompt_tokens_total"])
            + m(.vllm, .generationTokens, ["vllm:generation_tokens_total"])
            + m(.sglang, .kvUsage, ["sglang:token_usage"], mean: true)
            + m(.sglang, .running, ["sglang:num_running_reqs"])
            + m(.sglang, .waiting, ["sglang:num_queue_reqs"])
            + m(.sglang, .preemptions, ["sglang:num_retracted_requests_total", "sglang:num_retracted_reqs"])
            + m(.sglang, .specAcceptRate, ["sglang:spec_accept_rate"], mean: true)
            + m(.sglang, .promptTokens, ["sglang:prompt_tokens_total"])
            + m(.sglang, .generationTokens, ["sglang:generation_tokens_total"])
            + m(.llamacpp, .kvUsage, ["llamacpp:kv_cache_usage_ratio"], mean: true)
            + m(.llamacpp, .running, ["llamacpp:requests_processing"])
            + m(.llamacpp, .waiting, ["llamacpp:requests_deferred"])
            + m(.llamacpp, .specDraftTokens, ["llamacpp:spec_decode_num_draft_tokens_total"])
            + m(.llamacpp, .specAcceptedTokens, ["llamacpp:spec_decode_num_accepted_tokens_total"])
            + m(.llamacpp, .specDrafts, ["llamacpp:spec_decode_num_drafts_total"])
            + m(.llamacpp, .promptTokens, ["llamacpp:prompt_tokens_total"])
            + m(.llamacpp, .generationTokens, ["llamacpp:tokens_predicted_total"])
            + m(.tgi, .running, ["tgi_batch_current_size"])
            + m(.tgi, .waiting, ["tgi_queue_size"])
            + m(.tgi, .promptTokens, ["tgi_request_input_length_sum"])
            + m(.tgi, .generationTokens, ["tgi_request_generated_tokens_sum"])
    }()

    /// The engine a scrape comes from: the prefix of the first recognised name. O(samples).
    public static func server(of samples: [PrometheusSample]) -> ServerKind? {
        for s in samples {
            if s.name.hasPrefix("vllm:") { return .vllm }
            if s.name.hasPrefix("sglang:") { return .sglang }
            if s.name.hasPrefix("llamacpp:") { return .llamacpp }
            if s.name.hasPrefix("tgi_") { return .tgi }
        }
        return nil
    }

    /// The recognised quantities of one scrape: per quantity the first mapped name present,
    /// summed (or averaged, for fractions) over its label sets. O(samples + mappings).
    public static func snapshot(_ samples: [PrometheusSample], at time: Int64) -> ServerSnapshot {
        let server = server(of: samples)
        var byName: [String: [Double]] = [:]
        for s in samples where s.value.isFinite { byName[s.name, default: []].append(s.value) }
        var values: [ServerQuantity: Double] = [:]
        for m in mappings where m.server == server && values[m.quantity] == nil {
            guard let v = byName[m.name], !v.isEmpty else { continue }
            let total = v.reduce(0, +)
            values[m.quantity] = m.mean ? total / Double(v.count) : total
        }
        return ServerSnapshot(time: time, server: server, values: values)
    }
}

extension ServerMetrics {
    /// The engine of a raw `/metrics` answer (lenient parse). O(body size).
    public static func server(ofScrape body: [UInt8]) -> ServerKind? {
        server(of: (try? PrometheusText.parse(String(decoding: body, as: UTF8.self), lenient: true)) ?? [])
    }
}
