import Analysis
import TraceFormat

/// NVIDIA perf_analyzer `profile_export.json` (the raw file GenAI-Perf reads): `experiments[]`,
/// each `{experiment: {mode: "concurrency"|"request_rate", value}, requests[], window_boundaries}`;
/// a request is `{timestamp (epoch ns, int64), request_inputs, response_timestamps[] (epoch ns,
/// one per response / SSE chunk), response_outputs[]}`. No error field: a request with no
/// response failed. Top level also has `version`, `service_kind`, `endpoint`.
///
/// Mapping: each experiment is one run (``ImportedRun``, load = its concurrency or request rate);
/// the last (or `--run N`) is imported request by request: arrival at `timestamp` (relative to
/// the experiment's earliest), first token at `response_timestamps[0]`, one chunk per further
/// response, finished at the last. Output tokens are not in the file (GenAI-Perf re-tokenizes
/// the texts): each response counts as one token, said in `import.token_counts`, so TPOT is per
/// chunk. Prompt lengths are not read. O(file size); memory O(requests + responses).
public struct PerfAnalyzerImporter: TraceImporter {
    public var format: ImportFormat { .perfAnalyzer }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "\"experiments\"")
            && (ImportDetection.contains(firstBytes, "\"response_timestamps\"") || ImportDetection.contains(firstBytes, "\"window_boundaries\""))
            ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        guard reader.peek() == UInt8(ascii: "{"), case .object(let top) = try reader.readValue(nil),
              let experiments = top["experiments"]?.array, !experiments.isEmpty else {
            throw ImportError(file: file, message: "no perf_analyzer experiments found (expected profile_export.json: an object with 'experiments': [{experiment, requests, …}])")
        }
        let index = options.run ?? experiments.count
        guard (1...experiments.count).contains(index) else {
            throw ImportError(file: file, field: "--run", message: "the file holds \(experiments.count) experiments; expected --run between 1 and \(experiments.count)")
        }
        var runs: [ImportedRun] = []
        var chosen: [ImportedRequest] = []
        var origin: Int64 = 0
        for (e, experiment) in experiments.enumerated() {
            let (requests, first) = try Self.requests(experiment, index: e, file: file)
            let mode = experiment["experiment"]?["mode"]?.string
            let value = experiment["experiment"]?["value"]?.double
            var s = Self.summary(requests)
            if mode == "concurrency" { s.maxConcurrency = value } else if mode == "request_rate", let v = value, v > 0 { s.requestRate = v }
            runs.append(ImportedRun(label: "\(mode ?? "experiment") \(value.map(parameterText) ?? "\(e + 1)")",
                                    loadKind: mode == "concurrency" || mode == "request_rate" ? mode : nil, load: value, summary: s))
            if e + 1 == index { chosen = requests; origin = first }
        }
        var h = ImportHeader(tool: "perf_analyzer")
        h.toolVersion = top["version"]?.string
        h.clock = "epoch"
        h.requests = chosen.count
        h.parameters["origin_epoch_ns"] = String(origin)
        if let k = top["service_kind"]?.string { h.parameters["service_kind"] = k }
        if let ep = top["endpoint"]?.string { h.parameters["endpoint"] = ep }
        h.notes["arrivals"] = "from timestamp (client epoch ns, relative to the experiment's first request)"
        h.notes["token_counts"] = "not in the file: one token per response/SSE chunk assumed (GenAI-Perf re-tokenizes the text)"
        h.notes["itl_definition"] = "gap between responses (SSE chunks)"
        if experiments.count > 1 { h.notes["run"] = "\(index) of \(experiments.count) experiments in the file" }
        var s = runs[index - 1].summary
        s.outputTokensMean = nil  // a count of chunks, not tokens
        s.write(into: &h.parameters)
        ImportedRun.write(runs, into: &h.parameters)
        emitRequests(chosen, header: try h.build(options, file: file), emit: emit)
    }

    /// One experiment's requests, sorted by start, and its origin (epoch ns).
    static func requests(_ experiment: JSON, index e: Int, file: String) throws(ImportError) -> ([ImportedRequest], Int64) {
        guard let list = experiment["requests"]?.array else {
            throw ImportError(file: file, field: "experiments[\(e)].requests", message: "expected an array of requests, found \(experiment["requests"]?.kind ?? "nothing")")
        }
        var rows: [(Int64, [Int64])] = []
        for (i, r) in list.enumerated() {
            guard let start = r["timestamp"]?.int64 else {
                throw ImportError(file: file, field: "experiments[\(e)].requests[\(i)].timestamp", message: "expected the request start in epoch nanoseconds, found \(r["timestamp"]?.kind ?? "nothing")")
            }
            var responses: [Int64] = []
            for (j, t) in (r["response_timestamps"]?.array ?? []).enumerated() {
                guard let ns = t.int64, ns >= start else {
                    throw ImportError(file: file, field: "experiments[\(e)].requests[\(i)].response_timestamps[\(j)]", message: "expected epoch nanoseconds not before the request's timestamp, found \(t.kind)")
                }
                responses.append(ns)
            }
            rows.append((start, responses.sorted()))
        }
        let origin = rows.map(\.0).min() ?? 0
        rows.sort { $0.0 < $1.0 }
        let requests = rows.map { start, responses -> ImportedRequest in
            var r = ImportedRequest(arrival: Self.seconds(start, since: origin))
            guard let first = responses.first else {
                r.error = "no response"
                return r
            }
            r.ttft = Self.seconds(first, since: start)
            r.chunkGaps = zip(responses.dropFirst(), responses).map { Self.seconds($0, since: $1) }
            r.latency = Self.seconds(responses.last!, since: start)
            r.outputTokens = responses.count
            return r
        }
        return (requests, origin)
    }

    /// `t − origin` in seconds: exact integer nanoseconds when the difference fits Int64 (epoch
    /// values exceed 2^53), else through doubles (hostile input must not trap).
    static func seconds(_ t: Int64, since origin: Int64) -> Double {
        let (d, overflow) = t.subtractingReportingOverflow(origin)
        return (overflow ? Double(t) - Double(origin) : Double(d)) * 1e-9
    }

    /// Aggregates of one experiment, for the run table.
    static func summary(_ requests: [ImportedRequest]) -> AggregateSummary {
        var s = AggregateSummary()
        let ok = requests.filter { $0.error == nil }
        s.completed = ok.count
        s.failed = requests.count - ok.count
        func stat(_ values: [Double]) -> AggregateSummary.Stat {
            guard let d = Distribution(values) else { return .init() }
            return .init(mean: d.mean, p50: d.p50, p90: d.p90, p95: d.p95, p99: d.p99, max: d.max)
        }
        s.ttft = stat(ok.compactMap(\.ttft))
        s.e2e = stat(ok.compactMap(\.latency))
        s.tpot = stat(ok.compactMap { r in
            guard let l = r.latency, let t = r.ttft, let n = r.outputTokens, n > 1 else { return nil }
            return (l - t) / Double(n - 1)
        })
        let end = ok.compactMap { r in r.latency.map { r.arrival + $0 } }.max() ?? 0
        if end > 0 {
            s.durationSeconds = end
            s.requestThroughput = Double(ok.count) / end
        }
        return s
    }
}
