import Analysis
import TraceFormat

/// vLLM `bench serve` result JSON and SGLang `bench_serving` JSONL: the two share one shape — run
/// metadata, aggregate statistics (`mean_ttft_ms`, `p99_itl_ms`… in ms) and, when saved with
/// `--save-detailed` / `--output-details`, parallel per-request arrays in **seconds**
/// (`input_lens`, `output_lens`, `ttfts`, `itls` = gaps between streamed chunks, `errors`, and in
/// newer vLLM `start_times` on the benchmark's monotonic clock).
///
/// Mapping: one request per array index (see ``ImportedRequest``); arrivals from `start_times`,
/// otherwise synthesized and said so in the header (`import.arrivals`). Every numeric top-level
/// key is kept as `reported.<key>` in the workload parameters, so the file's own aggregates
/// travel with the trace. A file with several runs (`--append-result`, JSONL, a sweep
/// `summary.json` array) imports the last one unless ``ImportOptions/run`` picks another.
/// O(file size) time; memory: the chosen run's arrays (8 bytes per chunk gap).
public struct ServingBenchImporter: TraceImporter {
    public let format: ImportFormat

    public init(format: ImportFormat) {
        precondition(format == .vllm || format == .sglang, "ServingBenchImporter reads vllm or sglang")
        self.format = format
    }

    static let commonKeys = ["ttfts", "itls", "input_lens", "output_lens", "mean_ttft_ms", "median_ttft_ms",
                             "output_throughput", "total_input_tokens", "completed", "duration"]
    static let vllmKeys = ["num_prompts", "burstiness", "model_id", "tokenizer_id", "date", "request_goodput",
                           "start_times", "max_concurrent_requests"]
    static let sglangKeys = ["dataset_name", "sharegpt_output_len", "random_input_len", "random_range_ratio",
                             "total_output_tokens_retokenized", "mean_e2e_latency_ms", "accept_length"]

    public func detect(firstBytes: [UInt8]) -> Double {
        let common = ImportDetection.score(firstBytes, keys: Self.commonKeys)
        guard common > 0 else { return 0 }
        let own = ImportDetection.score(firstBytes, keys: format == .vllm ? Self.vllmKeys : Self.sglangKeys)
        return 0.3 * common + 0.7 * own
    }

    /// One run object of the file.
    struct Run {
        var line: Int
        var scalars: [String: JSON] = [:]
        var inputLens: [Double]?
        var outputLens: [Double]?
        var ttfts: [Double]?
        var startTimes: [Double]?
        var itlValues: [Double] = []
        /// `itls[i]` is `itlValues[itlOffsets[i]..<itlOffsets[i+1]]`; nil when the file has no `itls`.
        var itlOffsets: [Int]?
        var errors: [String]?
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        var chosen: Run?
        var count = 0
        var summaries: [AggregateSummary] = []
        let topIsArray = reader.peek() == UInt8(ascii: "[")
        if topIsArray { try reader.beginArray(nil) }
        while topIsArray ? try reader.nextElement(nil) : !reader.atEnd() {
            let field = topIsArray ? "[\(count)]" : nil
            let run = try readRun(&reader, field: field)
            count += 1
            if options.run == nil || options.run == count { chosen = run }
            summaries.append(Self.summary(run.scalars))
        }
        if topIsArray, !reader.atEnd() { throw reader.error(nil, "unexpected content after the top-level array") }
        guard let run = chosen else {
            if count == 0 { throw ImportError(file: file, message: "no result object in the file (expected a JSON object with the benchmark's results)") }
            throw ImportError(file: file, field: "--run", message: "the file holds \(count) runs; expected --run between 1 and \(count)")
        }
        guard run.ttfts != nil || Self.commonKeys.contains(where: { run.scalars[$0] != nil })
                || run.scalars.keys.contains(where: { $0.hasSuffix("_ttft_ms") || $0.hasSuffix("_e2el_ms") }) else {
            throw ImportError(file: file, line: run.line, message: "no \(format == .vllm ? "vLLM" : "SGLang") result records found (expected keys such as 'ttfts', 'mean_ttft_ms', 'completed', 'duration')")
        }
        var header = try headerBuilder(run, runs: count, index: options.run ?? count)
        let requests = try requests(run, file: file, header: &header)
        header.requests = requests.count
        Self.summary(run.scalars).write(into: &header.parameters)
        ImportedRun.write(Self.runs(summaries), into: &header.parameters)
        emitRequests(requests, header: try header.build(options, file: file), emit: emit)
        if let spec = speculation(run, at: requests.compactMap { r in r.endOffset.map { r.arrival + $0 } }.max() ?? 0) {
            emit(.speculation(spec))
        }
    }

    /// The run's aggregates in canonical units: `<stat>_<metric>_ms` (stat mean, median, p<q>,
    /// max; metric ttft, tpot, itl, e2el / SGLang e2e_latency) → seconds; completed, failed,
    /// duration, throughputs, request rate ("inf" kept), max concurrency, speculative totals and
    /// SGLang's accept_length; prefill/decode worker counts of a disaggregated run from keys
    /// naming prefill/decode workers (instances, servers, nodes) or an "xPyD" tag in a string.
    static func summary(_ scalars: [String: JSON]) -> AggregateSummary {
        var s = AggregateSummary()
        func d(_ key: String) -> Double? { scalars[key]?.double.flatMap { $0.isNaN ? nil : $0 } }
        for (key, value) in scalars {
            guard key.hasSuffix("_ms"), let x = value.double, x.isFinite else { continue }
            let parts = key.dropLast(3).split(separator: "_", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let seconds = x * 1e-3
            func set(_ st: inout AggregateSummary.Stat) { st.set(parts[0], seconds) }
            switch parts[1] {
            case "ttft": set(&s.ttft)
            case "tpot": set(&s.tpot)
            case "itl": set(&s.itl)
            case "e2el", "e2e_latency": set(&s.e2e)
            default: break
            }
        }
        s.completed = d("completed").flatMap(countValue)
        s.failed = d("failed").flatMap(countValue)
        s.durationSeconds = d("duration")
        s.requestThroughput = d("request_throughput")
        s.outputThroughput = d("output_throughput")
        s.totalTokenThroughput = d("total_token_throughput") ?? d("total_throughput")
        s.requestRate = d("request_rate")
        s.maxConcurrency = d("max_concurrency")
        s.specDrafts = d("spec_decode_num_drafts")
        s.specDraftTokens = d("spec_decode_draft_tokens")
        s.specAcceptedTokens = d("spec_decode_accepted_tokens")
        s.specMeanAcceptedLength = d("accept_length") ?? d("spec_decode_acceptance_length")
        s.fillMeans(totalInput: d("total_input_tokens"), totalOutput: d("total_output_tokens"))
        // Disaggregated prefill/decode worker counts.
        for key in scalars.keys.sorted() {
            let k = key.lowercased()
            guard let x = d(key), x >= 1, x == x.rounded(),
                  ["worker", "instance", "server", "node", "replica"].contains(where: { k.contains($0) }) else { continue }
            if k.contains("prefill"), s.prefillWorkers == nil { s.prefillWorkers = countValue(x) }
            if k.contains("decode"), s.decodeWorkers == nil { s.decodeWorkers = countValue(x) }
        }
        if s.prefillWorkers == nil || s.decodeWorkers == nil {
            for key in scalars.keys.sorted() {
                guard let text = scalars[key]?.string, let (p, dd) = pdTag(text) else { continue }
                s.prefillWorkers = s.prefillWorkers ?? p
                s.decodeWorkers = s.decodeWorkers ?? dd
                break
            }
        }
        return s
    }

    /// The runs of a multi-run file; a load sweep when the request rate (else the concurrency
    /// cap) differs between runs.
    static func runs(_ summaries: [AggregateSummary]) -> [ImportedRun] {
        let rates = Set(summaries.compactMap(\.requestRate)), caps = Set(summaries.compactMap(\.maxConcurrency))
        let kind: String? = rates.count > 1 ? "request_rate" : caps.count > 1 ? "concurrency" : nil
        return summaries.enumerated().map { i, s in
            let load = kind == "request_rate" ? s.requestRate : kind == "concurrency" ? s.maxConcurrency : nil
            let label = load.map { "\(kind == "request_rate" ? "rate" : "concurrency") \($0.isInfinite ? "inf" : parameterText($0))" } ?? "run \(i + 1)"
            return ImportedRun(label: label, loadKind: kind, load: load, summary: s)
        }
    }

    /// (2, 1) for a string holding "2P1D" / "2p1d" / "pd_2p1d"; nil otherwise.
    static func pdTag(_ text: String) -> (Int, Int)? {
        let chars = Array(text.lowercased())
        var i = 0
        while i < chars.count {
            guard chars[i].isNumber, i == 0 || !(chars[i - 1].isNumber || chars[i - 1].isLetter) else { i += 1; continue }
            var j = i
            while j < chars.count, chars[j].isNumber { j += 1 }
            guard j < chars.count, chars[j] == "p" else { i = j; continue }
            var k = j + 1
            while k < chars.count, chars[k].isNumber { k += 1 }
            if k > j + 1, k < chars.count, chars[k] == "d", k + 1 == chars.count || !chars[k + 1].isLetter,
               let p = Int(String(chars[i..<j])), let d = Int(String(chars[(j + 1)..<k])), p > 0, d > 0 {
                return (p, d)
            }
            i = j
        }
        return nil
    }

    /// vLLM's speculative-decoding totals (`spec_decode_num_drafts`, `_draft_tokens`,
    /// `_accepted_tokens`, scraped by the benchmark from the server) as one counter sample at the
    /// end of the run: γ = draft tokens / drafts, so the analyzer's mean accepted length
    /// 1 + accepted/drafts and acceptance rate accepted/drafted equal vLLM's. nil when absent.
    func speculation(_ run: Run, at end: Double) -> SpeculationCounters? {
        guard let drafts = run.scalars["spec_decode_num_drafts"]?.double, drafts > 0,
              let drafted = run.scalars["spec_decode_draft_tokens"]?.double, drafted > 0,
              let accepted = run.scalars["spec_decode_accepted_tokens"]?.double, accepted >= 0 else { return nil }
        let gamma = max(1, clampedCount((drafted / drafts).rounded()))
        return SpeculationCounters(time: nanoseconds(end), step: 0, draftLength: clamp32(gamma),
                                   drafted: clamp32(clampedCount(drafted)), accepted: clamp32(clampedCount(accepted)))
    }

    /// Reads one run object, typed for the per-request arrays.
    func readRun(_ r: inout JSONReader, field: String?) throws(ImportError) -> Run {
        _ = r.peek()
        var run = Run(line: r.line(at: r.position))
        try r.beginObject(field)
        while let key = try r.nextKey(field) {
            let path = JSONReader.path(field, key)
            if r.consumeNull() { run.scalars[key] = .null; continue }
            switch key {
            case "input_lens": run.inputLens = try doubles(&r, path, "a token count")
            case "output_lens": run.outputLens = try doubles(&r, path, "a token count")
            case "ttfts": run.ttfts = try doubles(&r, path, "a time to first token in seconds")
            case "start_times": run.startTimes = try doubles(&r, path, "a start time in seconds")
            case "itls":
                try r.beginArray(path)
                var offsets = [0]
                while try r.nextElement(path) {
                    let p = "\(path)[\(offsets.count - 1)]"
                    if !r.consumeNull() {
                        _ = try r.readDoubles(p, into: &run.itlValues, expected: "a chunk gap in seconds")
                    }
                    offsets.append(run.itlValues.count)
                }
                run.itlOffsets = offsets
            case "errors":
                try r.beginArray(path)
                var errors: [String] = []
                while try r.nextElement(path) {
                    if r.consumeNull() { errors.append(""); continue }
                    errors.append(try r.readString("\(path)[\(errors.count)]"))
                }
                run.errors = errors
            case "generated_texts", "input_texts":
                try r.skipValue(path)
            default:
                run.scalars[key] = try r.readValue(path)
            }
        }
        return run
    }

    private func doubles(_ r: inout JSONReader, _ path: String, _ expected: String) throws(ImportError) -> [Double] {
        var out: [Double] = []
        _ = try r.readDoubles(path, into: &out, expected: expected)
        return out
    }

    func headerBuilder(_ run: Run, runs: Int, index: Int) throws(ImportError) -> ImportHeader {
        var h = ImportHeader(tool: format == .vllm ? "vllm bench serve" : "sglang bench_serving")
        h.modelID = run.scalars["model_id"]?.string ?? run.scalars["model"]?.string ?? run.scalars["tokenizer_id"]?.string
        h.hardwareName = run.scalars["hardware"]?.string ?? run.scalars["gpu"]?.string
        h.workloadName = run.scalars["dataset_name"]?.string ?? "external"
        for (key, value) in run.scalars {
            // Older vLLM builds spelled it "request_goodput:".
            let k = key.hasSuffix(":") ? String(key.dropLast()) : key
            switch value {
            case .number(let x): h.parameters["reported.\(k)"] = parameterText(x)
            case .integer(let i): h.parameters["reported.\(k)"] = String(i)
            case .string(let s): h.parameters[k] = s
            case .bool(let b): h.parameters[k] = b ? "true" : "false"
            default: break
            }
        }
        if runs > 1 { h.notes["run"] = "\(index) of \(runs) runs in the file" }
        h.notes["itl_definition"] = "gap between streamed chunks (a chunk may hold several tokens)"
        h.notes["token_counts"] = format == .vllm ? "client-side (benchmark tokenizer)" : "client-side (retokenized)"
        if let date = run.scalars["date"]?.string { h.notes["date"] = date }
        return h
    }

    /// The per-request records, checked for consistent lengths.
    func requests(_ run: Run, file: String, header h: inout ImportHeader) throws(ImportError) -> [ImportedRequest] {
        guard let ttfts = run.ttfts else {
            h.notes["requests"] = "none: the file has aggregates only (saved without --save-detailed / --output-details)"
            return []
        }
        let n = ttfts.count
        func check(_ count: Int?, _ name: String) throws(ImportError) {
            if let c = count, c != n {
                throw ImportError(file: file, line: run.line, field: name,
                                  message: "expected \(n) entries (one per request, as in 'ttfts'), found \(c)")
            }
        }
        try check(run.inputLens?.count, "input_lens")
        try check(run.outputLens?.count, "output_lens")
        try check(run.itlOffsets.map { $0.count - 1 }, "itls")
        try check(run.errors?.count, "errors")
        try check(run.startTimes?.count, "start_times")

        var arrivals: [Double]
        if let starts = run.startTimes, let first = starts.min() {
            arrivals = starts.map { $0 - first }
            h.notes["arrivals"] = "from start_times (benchmark monotonic clock, relative to the first request)"
        } else {
            let duration = run.scalars["duration"]?.double ?? 0
            let rate = run.scalars["request_rate"]?.double ?? .infinity
            let spacing: Double
            if rate.isFinite, rate > 0 {
                spacing = 1 / rate
                h.notes["arrivals"] = "synthesized: the file has no start_times; uniform at request_rate \(parameterText(rate))/s"
            } else if duration > 0, n > 0 {
                spacing = 0
                h.notes["arrivals"] = "synthesized: the file has no start_times and request_rate is inf; all at 0"
            } else {
                spacing = 0
                h.notes["arrivals"] = "synthesized: the file has no start_times; all at 0"
            }
            arrivals = (0..<n).map { Double($0) * spacing }
        }

        var out: [ImportedRequest] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let ttft = ttfts[i]
            var r = ImportedRequest(arrival: arrivals[i])
            r.promptTokens = run.inputLens.map { clampedCount($0[i]) }
            r.outputTokens = run.outputLens.map { clampedCount($0[i]) }
            if let offsets = run.itlOffsets { r.chunkGaps = Array(run.itlValues[offsets[i]..<offsets[i + 1]]) }
            guard ttft.isFinite, ttft >= 0 else {
                throw ImportError(file: file, line: run.line, field: "ttfts[\(i)]",
                                  message: "expected a non-negative time in seconds, found \(ttft)")
            }
            if let e = run.errors?[i], !e.isEmpty {
                r.error = e
            } else if ttft == 0, (r.outputTokens ?? 0) == 0 {
                r.error = "failed (ttft 0 and no output tokens)"
            } else {
                r.ttft = ttft
            }
            out.append(r)
        }
        return out
    }
}
