import Analysis
import TraceFormat

/// NVIDIA AIPerf `profile_export_aiperf.json` (the run's summary), in both schemas:
/// - early (v0.1.x): metrics under `records`, keyed by tag, each `{tag, unit, header, avg, min,
///   max, p1…p99, std, count}`;
/// - current (after 0.1.1, "GenAI-Perf compatible"): one `{unit, avg, …}` object per tag at the
///   top level, plus `schema_version`, `aiperf_version`, `run_info`, `telemetry_data`
///   (`endpoints.<url>.gpus.<key>.{gpu_name, metrics.<metric>.{unit, avg, …}}`), `error_summary`.
///
/// Mapping (aggregates only; per-request data is in profile_export.jsonl): `time_to_first_token`
/// → TTFT, `inter_token_latency` → TPOT, `inter_chunk_latency` → ITL, `request_latency` → E2E,
/// sequence lengths → mean tokens, throughputs, `request_count` → completed,
/// `error_request_count` (else the sum of `error_summary[].count`) → failed,
/// `benchmark_duration` → duration; concurrency, request rate and model from `input_config`.
/// Telemetry: the first GPU's `gpu_name` names the hardware; each metric's mean over GPUs goes
/// to `reported.telemetry.<metric>`. `was_cancelled: true` is noted. Every statistic is kept as
/// `reported.<tag>.<stat>`. `null` (scrubbed NaN/Inf) counts as absent. O(file size).
public struct AIPerfSummaryImporter: TraceImporter {
    public var format: ImportFormat { .aiperfJSON }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        let early = ImportDetection.contains(firstBytes, "\"records\"") && ImportDetection.contains(firstBytes, "\"header\"")
            && ImportDetection.contains(firstBytes, "\"tag\"")
        let flat = ImportDetection.contains(firstBytes, "\"avg\"") && ImportDetection.contains(firstBytes, "\"unit\"")
            && (ImportDetection.contains(firstBytes, "\"aiperf_version\"") || ImportDetection.contains(firstBytes, "\"was_cancelled\"")
                || ImportDetection.contains(firstBytes, "\"benchmark_duration\"") || ImportDetection.contains(firstBytes, "\"schema_version\""))
        return early || flat ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        guard reader.peek() == UInt8(ascii: "{") else {
            throw reader.mismatch(nil, expected: "a JSON object (AIPerf's profile_export_aiperf.json)")
        }
        let value = try reader.readValue(nil)
        guard case .object(let top) = value else { throw reader.mismatch(nil, expected: "a JSON object") }
        var h = ImportHeader(tool: "aiperf")
        h.toolVersion = top["aiperf_version"]?.string
        var s = AggregateSummary()
        if case .object(let records)? = top["records"] {
            GenAIPerfImporter.readMetrics(records, into: &s, header: &h)
            h.notes["schema"] = "early (records)"
        } else {
            GenAIPerfImporter.readMetrics(top, into: &s, header: &h)
            h.notes["schema"] = "flat" + (top["schema_version"]?.string.map { " (schema_version \($0))" } ?? "")
        }
        if s.failed == nil, let errors = top["error_summary"]?.array, !errors.isEmpty {
            s.failed = errors.reduce(0) { $0 &+ (($1["count"]?.double).flatMap(countValue) ?? 0) }
            let kinds = errors.compactMap { $0["error_details"]?["message"]?.string ?? $0["error_details"]?["type"]?.string }
            if !kinds.isEmpty { h.parameters["errors"] = kinds.prefix(3).joined(separator: "; ") }
        }
        AggregateImport.inputConfig(top["input_config"], into: &s, header: &h)
        if top["was_cancelled"] == .bool(true) { h.notes["cancelled"] = "the benchmark was cancelled before it finished" }
        readTelemetry(top["telemetry_data"], header: &h)
        h.notes["token_counts"] = "client-side (AIPerf tokenizer) unless --use-server-token-count"
        h.notes["itl_definition"] = "inter_token_latency = (request latency - TTFT)/(OSL - 1) per request (= TPOT); inter_chunk_latency = chunk gaps"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }

    /// GPU name and per-metric averages (mean over GPUs) of `telemetry_data`.
    func readTelemetry(_ telemetry: JSON?, header h: inout ImportHeader) {
        guard case .object(let endpoints)? = telemetry?["endpoints"] else { return }
        var sums: [String: (Double, Int)] = [:]
        var gpuCount = 0
        for url in endpoints.keys.sorted() {
            guard case .object(let gpus)? = endpoints[url]?["gpus"] else { continue }
            for key in gpus.keys.sorted() {
                let gpu = gpus[key]!
                gpuCount += 1
                if h.hardwareName == nil { h.hardwareName = gpu["gpu_name"]?.string }
                guard case .object(let metrics)? = gpu["metrics"] else { continue }
                for (metric, stats) in metrics {
                    guard let avg = stats["avg"]?.double, avg.isFinite else { continue }
                    let (sum, n) = sums[metric] ?? (0, 0)
                    sums[metric] = (sum + avg, n + 1)
                }
            }
        }
        if gpuCount > 0 {
            h.parameters["reported.telemetry.gpus"] = String(gpuCount)
            h.devices = gpuCount
        }
        for (metric, (sum, n)) in sums { h.parameters["reported.telemetry.\(metric)"] = parameterText(sum / Double(n)) }
    }
}
