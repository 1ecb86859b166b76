import Analysis
import TraceFormat

/// Anyscale LLMPerf `*_summary.json`: one flat object (nested keys joined with `_`):
/// `results_<K>_mean|min|max|stddev` and `results_<K>_quantiles_p25…p99` for K in `ttft_s`,
/// `end_to_end_latency_s`, `inter_token_latency_s`, `number_input_tokens`,
/// `number_output_tokens`, `request_output_throughput_token_per_s` (seconds, tokens); run
/// fields `model`, `num_concurrent_requests`, `results_num_requests_started`,
/// `results_number_errors`, `results_num_completed_requests`,
/// `results_mean_output_throughput_token_per_s`. Numbers may be strings ("512") or bare `NaN`.
///
/// Mapping: TTFT and E2E statistics as written; TPOT is not in the file (LLMPerf's
/// `inter_token_latency_s` is E2E / output tokens, TTFT included) and is kept only as
/// `reported.*`; completed = `num_completed_requests` (else started − errors), failed =
/// `number_errors`; `num_concurrent_requests` → max concurrency; the output throughput. There is
/// no duration; the request rate is completed per minute / 60. Lost: timestamps, per-request
/// data (in `*_individual_responses.json`). O(file size).
public struct LLMPerfSummaryImporter: TraceImporter {
    public var format: ImportFormat { .llmperfSummary }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "\"results_ttft_s_mean\"") || ImportDetection.contains(firstBytes, "\"results_end_to_end_latency_s_mean\"")
            || (ImportDetection.contains(firstBytes, "\"num_concurrent_requests\"") && ImportDetection.contains(firstBytes, "\"results_"))
            ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        guard reader.peek() == UInt8(ascii: "{") else {
            throw reader.mismatch(nil, expected: "a JSON object (LLMPerf's *_summary.json)")
        }
        guard case .object(let o) = try reader.readValue(nil) else { throw reader.mismatch(nil, expected: "a JSON object") }
        func d(_ key: String) -> Double? { o[key]?.double.flatMap { $0.isFinite ? $0 : nil } }
        func stat(_ k: String) -> AggregateSummary.Stat {
            .init(mean: d("results_\(k)_mean"), p50: d("results_\(k)_quantiles_p50"), p90: d("results_\(k)_quantiles_p90"),
                  p95: d("results_\(k)_quantiles_p95"), p99: d("results_\(k)_quantiles_p99"), max: d("results_\(k)_max"))
        }
        var h = ImportHeader(tool: "llmperf")
        h.toolVersion = o["version"]?.string
        h.modelID = o["model"]?.string
        var s = AggregateSummary()
        s.ttft = stat("ttft_s")
        s.e2e = stat("end_to_end_latency_s")
        s.inputTokensMean = d("results_number_input_tokens_mean") ?? d("mean_input_tokens")
        s.outputTokensMean = d("results_number_output_tokens_mean") ?? d("mean_output_tokens")
        s.failed = d("results_number_errors").flatMap(countValue)
        s.completed = d("results_num_completed_requests").flatMap(countValue)
            ?? d("results_num_requests_started").flatMap(countValue).map { $0 - (s.failed ?? 0) }
        s.outputThroughput = d("results_mean_output_throughput_token_per_s")
        s.requestThroughput = d("results_num_completed_requests_per_min").map { $0 / 60 }
        s.maxConcurrency = d("num_concurrent_requests")
        for key in o.keys.sorted() where key.hasPrefix("results_") || key.hasSuffix("_tokens") || key == "num_concurrent_requests" {
            if let x = d(key) { h.parameters["reported.\(key)"] = parameterText(x) }
        }
        if let freq = o["results_error_code_frequency"]?.string, freq != "{}" { h.parameters["errors"] = freq }
        h.notes["itl_definition"] = "inter_token_latency_s = E2E / output tokens (TTFT included): kept as reported only, not TPOT"
        h.notes["token_counts"] = "client-side (re-tokenized with a Llama tokenizer)"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }
}
