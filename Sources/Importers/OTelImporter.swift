import TraceFormat

/// OpenTelemetry OTLP/JSON spans as the collector's file exporter writes them: one export request
/// per line, `{resourceSpans: [{resource, scopeSpans: [{scope, spans: [...]}]}]}`, times as
/// epoch-ns decimal strings, attributes as `[{key, value: {stringValue|intValue|doubleValue…}}]`
/// (`intValue` is a string).
///
/// Requests are the spans carrying `gen_ai.*` attributes. Server spans (vLLM `llm_request`,
/// any span with `gen_ai.latency.*`) are preferred: arrival at the span start, scheduled at
/// `gen_ai.latency.time_in_queue`, first token at `gen_ai.latency.time_to_first_token`, end at
/// `gen_ai.latency.e2e` (all seconds). When the file has only client spans, TTFT and chunk gaps
/// come from the span's `gen_ai.content.completion.chunk` events when present, the end from the
/// span end. Tokens: `gen_ai.usage.prompt_tokens|input_tokens`, `completion_tokens|output_tokens`.
/// Status code 2 marks a failed request. O(file size).
public struct OTelImporter: TraceImporter {
    public var format: ImportFormat { .otel }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        guard ImportDetection.contains(firstBytes, "\"resourceSpans\"") || ImportDetection.contains(firstBytes, "\"scopeSpans\"") else { return 0 }
        return 0.5 + 0.5 * (ImportDetection.contains(firstBytes, "gen_ai.") ? 1 : 0)
    }

    struct SpanRecord {
        var server: Bool
        /// Epoch nanoseconds.
        var start: Int64
        var request: ImportedRequest
        var model: String?
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        var spans: [SpanRecord] = []
        var scopeVersion: String?
        var exportIndex = 0
        while !reader.atEnd() {
            let line = reader.line(at: reader.position)
            let doc = try reader.readValue(nil)
            func fail(_ field: String, _ message: String) -> ImportError {
                ImportError(file: file, line: line, field: field, message: message)
            }
            guard let resources = doc["resourceSpans"]?.array else {
                throw fail("resourceSpans", "expected an array of resource spans (an OTLP/JSON export request), found \(doc["resourceSpans"]?.kind ?? "nothing")")
            }
            for (ri, resource) in resources.enumerated() {
                for (si, scope) in (resource["scopeSpans"]?.array ?? []).enumerated() {
                    if scopeVersion == nil, let name = scope["scope"]?["name"]?.string {
                        scopeVersion = name + (scope["scope"]?["version"]?.string.map { " \($0)" } ?? "")
                    }
                    for (pi, span) in (scope["spans"]?.array ?? []).enumerated() {
                        let path = "resourceSpans[\(ri)].scopeSpans[\(si)].spans[\(pi)]"
                        if let record = try spanRecord(span, path: path, fail: fail) { spans.append(record) }
                    }
                }
            }
            exportIndex += 1
        }
        let useServer = spans.contains { $0.server }
        let chosen = spans.filter { $0.server == useServer }.sorted { $0.start < $1.start }
        let origin = chosen.first?.start ?? 0
        let requests = chosen.map { s -> ImportedRequest in
            var r = s.request
            r.arrival = Double(clampedDifference(s.start, origin)) * 1e-9
            return r
        }
        var h = ImportHeader(tool: "otel")
        h.toolVersion = scopeVersion.map { "(\($0))" }
        h.modelID = chosen.lazy.compactMap(\.model).first
        h.clock = "epoch"
        h.requests = requests.count
        h.parameters["origin_epoch_ns"] = String(origin)
        h.notes["arrivals"] = "span start times (epoch ns, relative to the earliest request span)"
        h.notes["spans"] = useServer ? "server spans (gen_ai.latency.* attributes)" : "client spans (chunk events for TTFT and gaps when present)"
        emitRequests(requests, header: try h.build(options, file: file), emit: emit)
    }

    /// The request a span describes, or nil when it has no gen_ai attributes.
    func spanRecord(_ span: JSON, path: String, fail: (String, String) -> ImportError) throws(ImportError) -> SpanRecord? {
        var attributes: [String: JSON] = [:]
        for (i, a) in (span["attributes"]?.array ?? []).enumerated() {
            guard let key = a["key"]?.string else { throw fail("\(path).attributes[\(i)].key", "expected a string key") }
            attributes[key] = Self.attributeValue(a["value"])
        }
        guard attributes.keys.contains(where: { $0.hasPrefix("gen_ai.") }) else { return nil }
        guard let start = span["startTimeUnixNano"]?.int64, let end = span["endTimeUnixNano"]?.int64 else {
            throw fail("\(path).startTimeUnixNano", "expected epoch nanoseconds (a decimal string) in startTimeUnixNano and endTimeUnixNano")
        }
        func number(_ key: String) throws(ImportError) -> Double? {
            guard let v = attributes[key] else { return nil }
            guard let x = v.double, x.isFinite, x >= 0, x <= maxFileCount else {
                throw fail("\(path).attributes[\(key)]", "expected a non-negative number (at most 2^53), found \(v.double.map { "\($0)" } ?? v.kind)")
            }
            return x
        }
        let server = attributes.keys.contains { $0.hasPrefix("gen_ai.latency.") }
        var r = ImportedRequest(arrival: 0)
        r.externalID = attributes["gen_ai.request.id"]?.string ?? attributes["gen_ai.response.id"]?.string
        let prompt = try number("gen_ai.usage.prompt_tokens"), input = try number("gen_ai.usage.input_tokens")
        let completion = try number("gen_ai.usage.completion_tokens"), output = try number("gen_ai.usage.output_tokens")
        r.promptTokens = (prompt ?? input).map { Int($0) }
        r.outputTokens = (completion ?? output).map { Int($0) }
        let spanSeconds = max(0, Double(clampedDifference(end, start)) * 1e-9)
        if span["status"]?["code"]?.double == 2 {
            r.error = span["status"]?["message"]?.string ?? "span status error"
            r.latency = spanSeconds
        } else if server {
            r.queueTime = try number("gen_ai.latency.time_in_queue")
            r.ttft = try number("gen_ai.latency.time_to_first_token")
            r.latency = try number("gen_ai.latency.e2e")
            if r.latency == nil { r.latency = spanSeconds }
        } else {
            let chunks = (span["events"]?.array ?? []).filter { ($0["name"]?.string ?? "").hasPrefix("gen_ai.content.completion.chunk") }
                .compactMap { $0["timeUnixNano"]?.int64 }.sorted()
            if let firstChunk = chunks.first {
                r.ttft = max(0, Double(firstChunk - start) * 1e-9)
                r.chunkGaps = zip(chunks.dropFirst(), chunks).map { Double($0 - $1) * 1e-9 }
            }
            r.latency = spanSeconds
        }
        let model = attributes["gen_ai.response.model"]?.string ?? attributes["gen_ai.request.model"]?.string
        return SpanRecord(server: server, start: start, request: r, model: model)
    }

    /// An OTLP `AnyValue` as JSON: `intValue` strings become numbers.
    static func attributeValue(_ v: JSON?) -> JSON {
        guard let v else { return .null }
        if let s = v["stringValue"] { return s }
        if let i = v["intValue"], let x = i.int64 { return .integer(x) }
        if let d = v["doubleValue"], let x = d.double { return .number(x) }
        if let b = v["boolValue"] { return b }
        if let a = v["arrayValue"]?["values"]?.array { return .array(a.map { attributeValue($0) }) }
        return .null
    }
}
