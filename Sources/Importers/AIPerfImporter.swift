import TraceFormat

/// NVIDIA AIPerf `profile_export.jsonl`: one request per line, `metadata` with epoch-ns
/// timestamps (`request_start_ns`, `request_end_ns`; 0.1.x: `timestamp_ns`), `metrics` as
/// `{tag: {value, unit}}` (units authoritative: ms, ns, s…), `error` null or `{code, type, message}`.
///
/// Mapping: arrival at `request_start_ns` (relative to the earliest), first token at arrival +
/// `time_to_first_token` (0.1.x `ttft`), one token chunk per `inter_chunk_latency` entry, end at
/// `request_latency` (else `request_end_ns`); tokens from `output_sequence_length` (else
/// `output_token_count`), prompt from `input_sequence_length`, cached prompt tokens from
/// `usage_prompt_cache_read_tokens`. Warm-up records (`benchmark_phase` "warmup") are skipped.
/// O(file size); memory O(requests).
public struct AIPerfImporter: TraceImporter {
    public var format: ImportFormat { .aiperf }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        let keys = ["metadata", "metrics", "request_start_ns", "time_to_first_token", "inter_chunk_latency",
                    "x_request_id", "benchmark_phase", "output_sequence_length", "timestamp_ns", "credit_phase"]
        let s = ImportDetection.score(firstBytes, keys: keys)
        return ImportDetection.contains(firstBytes, "\"metrics\"") && ImportDetection.contains(firstBytes, "\"unit\"") ? s : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        var rows: [(start: Int64, request: ImportedRequest)] = []
        var skipped = 0
        var record = 0
        while !reader.atEnd() {
            record += 1
            let line = reader.line(at: reader.position)
            let value = try reader.readValue(nil)
            func fail(_ field: String, _ message: String) -> ImportError {
                ImportError(file: file, line: line, field: field, message: message)
            }
            guard case .object = value else { throw fail("(record \(record))", "expected one JSON object per line, found \(value.kind)") }
            let meta = value["metadata"]
            if meta?["benchmark_phase"]?.string == "warmup" || meta?["credit_phase"]?.string == "warmup" { skipped += 1; continue }
            guard let startNs = meta?["request_start_ns"]?.int64 ?? meta?["timestamp_ns"]?.int64 else {
                throw fail("metadata.request_start_ns", "expected the request start in epoch nanoseconds (0.1.x: metadata.timestamp_ns), found \(meta?["request_start_ns"]?.kind ?? "nothing")")
            }
            let metrics = value["metrics"]
            func seconds(_ tag: String) throws(ImportError) -> Double? {
                guard let m = metrics?[tag], !m.isNull else { return nil }
                let field = "metrics.\(tag)"
                guard let v = m["value"]?.double else { throw fail("\(field).value", "expected a number, found \(m["value"]?.kind ?? "nothing")") }
                return try toSeconds(v, unit: m["unit"]?.string, field: "\(field).unit", fail: fail)
            }
            func count(_ tag: String) throws(ImportError) -> Int? {
                guard let m = metrics?[tag], !m.isNull else { return nil }
                guard let v = m["value"]?.double, v.isFinite, v >= 0, v <= maxFileCount else {
                    throw fail("metrics.\(tag).value", "expected a non-negative token count (at most 2^53), found \(m["value"].map { $0.double.map { "\($0)" } ?? $0.kind } ?? "nothing")")
                }
                return Int(v)
            }
            var r = ImportedRequest(arrival: 0)
            r.externalID = meta?["x_request_id"]?.string ?? meta?["x_correlation_id"]?.string
            r.promptTokens = try count("input_sequence_length")
            r.outputTokens = try count("output_sequence_length")
            if r.outputTokens == nil { r.outputTokens = try count("output_token_count") }
            r.cachedTokens = try count("usage_prompt_cache_read_tokens")
            r.latency = try seconds("request_latency")
            if r.latency == nil, let endNs = meta?["request_end_ns"]?.int64 { r.latency = Double(endNs - startNs) * 1e-9 }
            if let err = value["error"], !err.isNull {
                r.error = err["message"]?.string ?? err["type"]?.string ?? "error"
            } else {
                r.ttft = try seconds("time_to_first_token")
                if r.ttft == nil { r.ttft = try seconds("ttft") }
                if let icl = metrics?["inter_chunk_latency"], let list = icl["value"]?.array {
                    let unit = icl["unit"]?.string
                    for (i, item) in list.enumerated() {
                        guard let v = item.double else { throw fail("metrics.inter_chunk_latency.value[\(i)]", "expected a number, found \(item.kind)") }
                        r.chunkGaps.append(try toSeconds(v, unit: unit, field: "metrics.inter_chunk_latency.unit", fail: fail))
                    }
                }
            }
            rows.append((startNs, r))
        }
        let origin = rows.map(\.start).min() ?? 0
        var requests = rows.map { row -> ImportedRequest in
            var r = row.request
            r.arrival = Double(clampedDifference(row.start, origin)) * 1e-9
            return r
        }
        requests.sort { $0.arrival < $1.arrival }
        var h = ImportHeader(tool: "aiperf")
        h.modelID = nil
        h.clock = "epoch"
        h.requests = requests.count
        h.notes["arrivals"] = "from metadata.request_start_ns (epoch ns, relative to the earliest request)"
        h.notes["itl_definition"] = "inter_chunk_latency: gap between streamed chunks"
        h.notes["token_counts"] = "output_sequence_length (client-side tokenizer)"
        h.parameters["origin_epoch_ns"] = String(origin)
        if skipped > 0 { h.notes["skipped"] = "\(skipped) warm-up records" }
        emitRequests(requests, header: try h.build(options, file: file), emit: emit)
    }

    /// `value` in `unit` as seconds; an unknown unit is an error naming it.
    func toSeconds(_ value: Double, unit: String?, field: String,
                   fail: (String, String) -> ImportError) throws(ImportError) -> Double {
        switch unit?.lowercased() {
        case "ms", nil: return value * 1e-3
        case "ns": return value * 1e-9
        case "us", "µs": return value * 1e-6
        case "s", "sec", "seconds": return value
        case let u?: throw fail(field, "expected a time unit (ms, ns, us, s), found \"\(u)\"")
        }
    }
}
