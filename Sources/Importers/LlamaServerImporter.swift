import Analysis
import TraceFormat

/// llama.cpp server responses with `timings`: `/completion` final objects, `/v1/completions` and
/// `/v1/chat/completions` responses, or the last streamed chunk (which carries `timings`), as one
/// object, a JSON array of them, or JSON Lines (an SSE `data: ` prefix is accepted; objects without
/// `timings` — partial chunks — are skipped). `timings`: `cache_n` (prompt tokens reused),
/// `prompt_n` (prompt tokens evaluated), `prompt_ms`, `predicted_n` (tokens generated, the first
/// included), `predicted_ms` (from the first token on), `draft_n` / `draft_n_accepted` (only
/// with speculative decoding). `null` (a 0/0 in the server) counts as absent.
///
/// Mapping, one request per response: prompt = `prompt_n` + `cache_n` (else `usage.prompt_tokens`),
/// cached = `cache_n`, first token at `prompt_ms` (the slot's prompt processing: queueing and HTTP
/// are not included, so this is a server-side TTFT), finished at `prompt_ms` + `predicted_ms`
/// with `predicted_n` tokens (else `usage.completion_tokens`). The file has no arrival times:
/// requests are laid end to end (said in `import.arrivals`), so throughput and concurrency are
/// not measured. Drafted/accepted totals become one speculation sample and the aggregates.
/// Responses with an `error` object are failed requests. O(file size).
public struct LlamaServerImporter: TraceImporter {
    public var format: ImportFormat { .llamaServer }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "\"timings\"") && ImportDetection.contains(firstBytes, "\"predicted_ms\"")
            && ImportDetection.contains(firstBytes, "\"prompt_ms\"") ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var values: [(line: Int, value: JSON)] = []
        var reader = JSONReader(bytes: Self.strippingSSE(bytes), file: file)
        if reader.peek() == UInt8(ascii: "[") {
            try reader.beginArray(nil)
            while try reader.nextElement(nil) {
                let line = reader.line(at: reader.position)
                values.append((line, try reader.readValue("[\(values.count)]")))
            }
        } else {
            while !reader.atEnd() {
                let line = reader.line(at: reader.position)
                values.append((line, try reader.readValue(nil)))
            }
        }
        // Streams with `timings_per_token` put timings on every chunk: keep only final objects —
        // drop `/completion` partials (`stop: false`) and, per chat-completion id, all but the last.
        var lastIndexOfID: [String: Int] = [:]
        for (i, (_, v)) in values.enumerated() {
            if v["object"]?.string == "chat.completion.chunk", let id = v["id"]?.string { lastIndexOfID[id] = i }
        }
        values = values.enumerated().filter { i, entry in
            if entry.value["stop"] == .bool(false) { return false }
            if entry.value["object"]?.string == "chat.completion.chunk", let id = entry.value["id"]?.string { return lastIndexOfID[id] == i }
            return true
        }.map(\.element)
        var requests: [ImportedRequest] = []
        var clock = 0.0
        var drafted = 0.0, accepted = 0.0
        var model: String?
        for (index, (line, v)) in values.enumerated() {
            guard case .object = v else { continue }
            if let err = v["error"], !err.isNull, v["timings"] == nil {
                var r = ImportedRequest(arrival: clock)
                r.error = err["message"]?.string ?? err.string ?? "error"
                requests.append(r)
                continue
            }
            guard let t = v["timings"], case .object = t else { continue }
            func num(_ key: String) throws(ImportError) -> Double? {
                guard let x = t[key], !x.isNull else { return nil }
                guard let d = x.double, d.isFinite, d >= 0 else {
                    throw ImportError(file: file, line: line, field: "[\(index)].timings.\(key)", message: "expected a non-negative number, found \(x.kind)")
                }
                return d
            }
            guard let promptMs = try num("prompt_ms"), let predictedMs = try num("predicted_ms") else {
                throw ImportError(file: file, line: line, field: "[\(index)].timings", message: "expected prompt_ms and predicted_ms (milliseconds)")
            }
            let cache = try num("cache_n")
            var r = ImportedRequest(arrival: clock)
            r.externalID = v["id"]?.string
            if let p = try num("prompt_n") { r.promptTokens = countValue(p + (cache ?? 0)) }
            else { r.promptTokens = v["usage"]?["prompt_tokens"]?.double.flatMap(countValue) }
            r.cachedTokens = cache.flatMap(countValue)
            r.outputTokens = try num("predicted_n").flatMap(countValue) ?? v["usage"]?["completion_tokens"]?.double.flatMap(countValue)
                ?? v["tokens_predicted"]?.double.flatMap(countValue)
            r.ttft = promptMs * 1e-3
            r.latency = (promptMs + predictedMs) * 1e-3
            if let dn = try num("draft_n") {
                drafted += dn
                accepted += try num("draft_n_accepted") ?? 0
            }
            model = model ?? v["model"]?.string
            clock += r.latency!
            requests.append(r)
        }
        guard !requests.isEmpty else {
            throw ImportError(file: file, message: "no llama.cpp server response with 'timings' found (expected /completion or /v1/chat/completions responses: one object, an array or JSON Lines)")
        }
        var h = ImportHeader(tool: "llama.cpp server")
        h.modelID = model
        h.requests = requests.count
        h.clock = "synthesized"
        h.notes["arrivals"] = "synthesized: the responses carry no timestamps; requests laid end to end, so throughput, concurrency and queueing are not measured"
        h.notes["ttft_definition"] = "timings.prompt_ms: server-side prompt processing (excludes queueing and HTTP)"
        h.notes["token_counts"] = "server-side (timings.predicted_n, prompt_n + cache_n)"
        var s = AggregateSummary()
        if drafted > 0 {
            s.specDraftTokens = drafted
            s.specAcceptedTokens = accepted
        }
        s.completed = requests.filter { $0.error == nil }.count
        s.failed = requests.count - s.completed!
        s.write(into: &h.parameters)
        emitRequests(requests, header: try h.build(options, file: file), emit: emit)
        if drafted > 0 {
            emit(.speculation(SpeculationCounters(time: nanoseconds(clock), step: 0, draftLength: 1,
                                                  drafted: clamp32(countValue(drafted) ?? Int(Int32.max)), accepted: clamp32(countValue(accepted) ?? Int(Int32.max)))))
        }
    }

    /// Server-sent-event lines (`data: {…}`, `data: [DONE]`) as plain JSON Lines.
    static func strippingSSE(_ bytes: [UInt8]) -> [UInt8] {
        guard ImportDetection.contains(Array(bytes.prefix(4096)), "data: ") else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var l = line[...]
            if l.starts(with: Array("data: ".utf8)) { l = l.dropFirst(6) }
            if l.starts(with: Array("[DONE]".utf8)) { continue }
            out.append(contentsOf: l)
            out.append(0x0A)
        }
        return out
    }
}
