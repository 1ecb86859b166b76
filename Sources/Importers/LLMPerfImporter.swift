import TraceFormat

/// Anyscale LLMPerf `*_individual_responses.json`: a JSON array of per-request objects with
/// `ttft_s`, `end_to_end_latency_s`, `inter_token_latency_s` (= E2E / output tokens, TTFT
/// included), `number_input_tokens`, `number_output_tokens`, `error_code`, `error_msg`. All
/// times in seconds; **no timestamps**.
///
/// Mapping: first token at TTFT, finished at E2E (no chunk events: the file has no chunk times,
/// so the pooled ITL is not available; TPOT is (E2E − TTFT)/(out − 1)). Arrivals are synthesized
/// end to end (one request after the other) and the header says so: throughput and concurrency
/// cannot be concluded from this file. O(file size).
public struct LLMPerfImporter: TraceImporter {
    public var format: ImportFormat { .llmperf }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.score(firstBytes, keys: ["ttft_s", "end_to_end_latency_s", "inter_token_latency_s",
                                                 "number_input_tokens", "number_output_tokens",
                                                 "request_output_throughput_token_per_s", "error_code"])
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        guard reader.peek() == UInt8(ascii: "[") else {
            throw reader.mismatch(nil, expected: "a JSON array of per-request objects (the *_individual_responses.json file; the *_summary.json file has no per-request data)")
        }
        try reader.beginArray(nil)
        var requests: [ImportedRequest] = []
        var clock = 0.0
        while try reader.nextElement(nil) {
            let index = requests.count
            let line = reader.line(at: reader.position)
            let value = try reader.readValue("[\(index)]")
            func fail(_ key: String, _ message: String) -> ImportError {
                ImportError(file: file, line: line, field: "[\(index)].\(key)", message: message)
            }
            guard case .object = value else {
                throw ImportError(file: file, line: line, field: "[\(index)]", message: "expected a per-request object, found \(value.kind)")
            }
            func number(_ key: String, _ what: String) throws(ImportError) -> Double? {
                guard let v = value[key], !v.isNull else { return nil }
                guard let x = v.double, x.isFinite, x >= 0 else { throw fail(key, "expected \(what), found \(v.kind)") }
                return x
            }
            var r = ImportedRequest(arrival: clock)
            func count(_ key: String) throws(ImportError) -> Int? {
                guard let x = try number(key, "a token count") else { return nil }
                guard x <= maxFileCount else { throw fail(key, "expected a token count (at most 2^53), found \(x)") }
                return Int(x)
            }
            r.promptTokens = try count("number_input_tokens")
            r.outputTokens = try count("number_output_tokens")
            let e2e = try number("end_to_end_latency_s", "a latency in seconds")
            if let code = value["error_code"], !code.isNull {
                r.error = value["error_msg"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "error code \(parameterText(code.double ?? 0))"
                r.latency = e2e
            } else {
                guard let ttft = try number("ttft_s", "a time to first token in seconds") else {
                    throw fail("ttft_s", "expected a time to first token in seconds, found nothing")
                }
                guard let e2e else { throw fail("end_to_end_latency_s", "expected an end-to-end latency in seconds, found nothing") }
                r.ttft = ttft
                r.latency = max(e2e, ttft)
            }
            clock += r.latency ?? 0
            requests.append(r)
        }
        if !reader.atEnd() { throw reader.error(nil, "unexpected content after the top-level array") }
        var h = ImportHeader(tool: "llmperf")
        h.requests = requests.count
        h.clock = "synthesized"
        h.notes["arrivals"] = "synthesized: LLMPerf stores no timestamps; requests laid end to end, so throughput, concurrency and idle time are not measured"
        h.notes["itl_definition"] = "inter_token_latency_s = E2E / output tokens (TTFT included); no chunk times"
        h.notes["token_counts"] = "client-side (re-tokenized with a Llama tokenizer)"
        emitRequests(requests, header: try h.build(options, file: file), emit: emit)
    }
}
