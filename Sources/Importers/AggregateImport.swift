import Analysis
import TraceFormat

/// Shared pieces of the importers that read a run's aggregate statistics (summary JSON, CSV,
/// console text): unit conversion to seconds, reading one `{avg, p50, …}` statistics object into
/// an ``AggregateSummary/Stat``, and emitting a header-only trace that carries the aggregates.
enum AggregateImport {
    /// Seconds per `unit` for a time unit ("ms", "s", "sec", "us", "µs", "ns"); nil otherwise.
    static func secondsPerUnit(_ unit: String) -> Double? {
        switch unit.lowercased().trimmingSpaces() {
        case "ms", "millisecond", "milliseconds": return 1e-3
        case "s", "sec", "secs", "second", "seconds": return 1
        case "us", "µs", "microsecond", "microseconds": return 1e-6
        case "ns", "nanosecond", "nanoseconds": return 1e-9
        case "min", "minutes": return 60
        default: return nil
        }
    }

    /// The statistics of one metric object (`{"unit": "ms", "avg": …, "p50": …, "max": …}`),
    /// scaled by `factor` (seconds per unit). Accepts the spellings the tools use: avg/mean/average,
    /// p50/median, max/maximum.
    static func stat(_ object: JSON?, factor: Double) -> AggregateSummary.Stat {
        guard let object else { return .init() }
        func v(_ keys: String...) -> Double? {
            for k in keys { if let x = object[k]?.double, x.isFinite { return x * factor } }
            return nil
        }
        return .init(mean: v("avg", "mean", "average"), p50: v("p50", "median", "P50"), p90: v("p90", "P90"),
                     p95: v("p95", "P95"), p99: v("p99", "P99"), max: v("max", "maximum"))
    }

    /// Writes `summary` into the header's workload parameters and emits the header alone.
    /// Throws when `summary` is empty: the file held no statistic this importer knows, so the
    /// format was probably forced on the wrong file.
    static func emit(_ h: ImportHeader, _ summary: AggregateSummary, format: ImportFormat, file: String,
                     options: ImportOptions, emit: (TraceEvent) -> Void) throws(ImportError) {
        guard !summary.isEmpty else {
            throw ImportError(file: file, message: "no \(format.summary) statistics found (none of the latency, throughput or count fields it writes); check the file or the --from")
        }
        var h = h
        summary.write(into: &h.parameters)
        h.notes["requests"] = h.notes["requests"] ?? "none: the file holds aggregates only"
        emit(.header(try h.build(options, file: file)))
    }

    /// The lines of a text file, split on LF with a trailing CR removed (CRLF files), as strings.
    static func lines(_ bytes: [UInt8]) -> [Substring] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            Substring(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self)
        }
    }

    /// A number in console text: "1,019.69", "12.5", "inf", "90.00%" (→ 90), "2.5000E+00"; nil otherwise.
    static func number(_ text: Substring) -> Double? {
        var t = text.trimmingSpaces()
        if t.hasSuffix("%") { t.removeLast() }
        return JSONReader.parseNumberText(String(t))
    }
}

extension AggregateSummary {
    /// Mean input/output tokens from totals and the completed count, when not already set.
    mutating func fillMeans(totalInput: Double?, totalOutput: Double?) {
        guard let n = completed, n > 0 else { return }
        if inputTokensMean == nil, let t = totalInput { inputTokensMean = t / Double(n) }
        if outputTokensMean == nil, let t = totalOutput { outputTokensMean = t / Double(n) }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension AggregateImport {
    /// Folds one metric of a GenAI-Perf/AIPerf summary (JSON object or CSV row) into `s`.
    /// `tag` is the tool's metric name (`time_to_first_token`; a CSV label is slugged to it,
    /// its unit given separately), `values` the statistics as written (avg, p50, … in `unit`).
    /// Their `inter_token_latency` is (E2E − TTFT)/(OSL − 1) per request, i.e. TPOT; their
    /// `inter_chunk_latency` is the gap between chunks (ITL). Unknown tags are ignored.
    static func applyMetric(tag: String, unit: String?, values: [String: Double], to s: inout AggregateSummary) {
        func v(_ keys: String...) -> Double? {
            for k in keys { if let x = values[k], x.isFinite { return x } }
            return nil
        }
        let timeFactor = unit.flatMap(secondsPerUnit) ?? 1e-3  // the tools' latencies default to ms
        func stat() -> AggregateSummary.Stat {
            .init(mean: v("avg", "mean").map { $0 * timeFactor }, p50: v("p50", "median").map { $0 * timeFactor },
                  p90: v("p90").map { $0 * timeFactor }, p95: v("p95").map { $0 * timeFactor },
                  p99: v("p99").map { $0 * timeFactor }, max: v("max").map { $0 * timeFactor })
        }
        switch tag {
        case "time_to_first_token", "ttft": s.ttft = stat()
        case "inter_token_latency", "itl": s.tpot = stat()
        case "inter_chunk_latency": s.itl = stat()
        case "request_latency": s.e2e = stat()
        case "input_sequence_length", "num_input_token", "isl": s.inputTokensMean = v("avg", "mean")
        case "output_sequence_length", "num_output_token", "osl": s.outputTokensMean = v("avg", "mean")
        case "request_throughput": s.requestThroughput = v("avg", "value")
        case "output_token_throughput": s.outputThroughput = v("avg", "value")
        case "total_token_throughput": s.totalTokenThroughput = v("avg", "value")
        case "request_count": s.completed = v("avg", "value").flatMap(countValue)
        case "error_request_count": s.failed = v("avg", "value").flatMap(countValue)
        case "benchmark_duration":
            s.durationSeconds = v("avg", "value").map { $0 * (unit.flatMap(secondsPerUnit) ?? 1) }
        default: break
        }
    }

    /// The metric tag and unit of a CSV label: "Time To First Token (ms)" → ("time_to_first_token", "ms").
    static func tagAndUnit(_ label: String) -> (String, String?) {
        guard label.hasSuffix(")"), let open = label.lastIndex(of: "(") else {
            return (AIPerfCSVImporter.slug(label), nil)
        }
        let unit = String(label[label.index(after: open)..<label.index(before: label.endIndex)])
        return (AIPerfCSVImporter.slug(String(label[..<open])), unit)
    }

    /// Reads `concurrency`, `request_rate` and the model name from a tool's `input_config`
    /// (flat or nested, any depth): the first of each found, depth-first in key order.
    static func inputConfig(_ config: JSON?, into s: inout AggregateSummary, header h: inout ImportHeader) {
        guard let config else { return }
        var concurrency: Double?, rate: Double?, model: String?
        func walk(_ v: JSON, depth: Int) {
            guard depth < 8, case .object(let o) = v else { return }
            for key in o.keys.sorted() {
                let x = o[key]!
                switch key {
                case "concurrency": if concurrency == nil, let d = x.double, d > 0 { concurrency = d }
                case "request_rate": if rate == nil, let d = x.double, d > 0 { rate = d }
                case "model", "model_names", "model_name":
                    if model == nil { model = x.string ?? x.array?.first?.string }
                default: walk(x, depth: depth + 1)
                }
            }
        }
        walk(config, depth: 0)
        if s.maxConcurrency == nil { s.maxConcurrency = concurrency }
        if s.requestRate == nil { s.requestRate = rate }
        if h.modelID == nil { h.modelID = model }
    }
}

/// A count read from a number: nil when not finite or beyond ±9e15 (a hostile `1e300` must not
/// trap the conversion to Int).
func countValue(_ x: Double) -> Int? { x.isFinite && abs(x) < 9e15 ? Int(x) : nil }

extension AggregateSummary.Stat {
    /// Sets the statistic a tool names `name` — mean/average, median/p50, p90, p95, p99,
    /// max/maximum — to `seconds`; any other name is ignored (false).
    @discardableResult
    mutating func set(_ name: String, _ seconds: Double) -> Bool {
        switch name {
        case "mean", "average": mean = seconds
        case "median", "p50": p50 = seconds
        case "p90": p90 = seconds
        case "p95": p95 = seconds
        case "p99": p99 = seconds
        case "max", "maximum": max = seconds
        default: return false
        }
        return true
    }
}
