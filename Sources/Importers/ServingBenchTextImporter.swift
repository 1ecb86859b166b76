import Analysis
import TraceFormat

/// The `Serving Benchmark Result` block that vLLM's `bench serve` and SGLang's `bench_serving`
/// print to the console, often all a user kept, pasted from a log with other lines around it.
/// A block starts at the line holding `Serving Benchmark Result` and ends at the next line made
/// only of `=` (or at the next block or the end of the file); rows are `Label:  value` (vLLM pads
/// the label to 40 columns; log prefixes before the label are tolerated because labels are
/// matched by their ending).
///
/// Mapping (each block one run; a log with several blocks is a sweep, the last one imported
/// unless ``ImportOptions/run`` picks another): `Mean/Median/P<q>/Max TTFT|TPOT|ITL|E2EL (ms)`
/// → the ``AggregateSummary`` statistics in seconds; successful/failed requests, duration,
/// request/output/total throughput, configured rate (`inf` kept), max concurrency ("not set" →
/// none), SGLang's `Accept length` and vLLM's speculative `Acceptance length`, `Drafted tokens`,
/// `Accepted tokens`; totals divided by the successful count give the mean lengths. Every
/// numeric row is also kept as `reported.<label slug>`. Lost: no per-request data, so no
/// distributions beyond the printed percentiles. O(file size).
public struct ServingBenchTextImporter: TraceImporter {
    public var format: ImportFormat { .servingText }
    public init() {}

    static let title = "Serving Benchmark Result"

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, Self.title) ? 0.95 : 0
    }

    /// One printed block: its rows in order (label, value text) and the line it starts on.
    struct Block {
        var line: Int
        var rows: [(label: String, value: String)] = []
    }

    /// The blocks of a text, in order.
    static func blocks(_ bytes: [UInt8]) -> [Block] {
        var blocks: [Block] = []
        var current: Block?
        for (i, raw) in AggregateImport.lines(bytes).enumerated() {
            if raw.contains(title) {
                if let c = current { blocks.append(c) }
                current = Block(line: i + 1)
                continue
            }
            guard current != nil else { continue }
            let t = raw.trimmingSpaces()
            if t.count >= 10, t.allSatisfy({ $0 == "=" }) {
                blocks.append(current!)
                current = nil
                continue
            }
            guard let colon = t.lastIndex(of: ":") else { continue }
            let label = t[..<colon].trimmingSpaces()
            let value = t[t.index(after: colon)...].trimmingSpaces()
            if label.isEmpty || value.isEmpty { continue }
            current!.rows.append((label, value))
        }
        if let c = current, !c.rows.isEmpty { blocks.append(c) }
        return blocks
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        let blocks = Self.blocks(bytes)
        guard !blocks.isEmpty else {
            throw ImportError(file: file, message: "no '\(Self.title)' block found (expected the console output of vllm bench serve or sglang bench_serving)")
        }
        let index = options.run ?? blocks.count
        guard (1...blocks.count).contains(index) else {
            throw ImportError(file: file, field: "--run", message: "the file holds \(blocks.count) result blocks; expected --run between 1 and \(blocks.count)")
        }
        var summaries: [AggregateSummary] = []
        var chosen: (ImportHeader, AggregateSummary)?
        for (i, block) in blocks.enumerated() {
            let (h, summary) = try Self.read(block, file: file)
            summaries.append(summary)
            if i + 1 == index { chosen = (h, summary) }
        }
        // A load sweep when the rate (else the concurrency cap) differs between blocks.
        var runs = ServingBenchImporter.runs(summaries)
        for i in runs.indices { runs[i].label = "line \(blocks[i].line): " + runs[i].label }
        var (h, summary) = chosen!
        if h.modelID == nil { h.modelID = Self.modelInLog(bytes, before: blocks[index - 1].line) }
        if blocks.count > 1 { h.notes["run"] = "\(index) of \(blocks.count) result blocks in the file" }
        ImportedRun.write(runs, into: &h.parameters)
        summary.requestRate = summary.requestRate ?? h.parameters["reported.request_rate_configured_rps"].flatMap(Double.init)
        try AggregateImport.emit(h, summary, format: format, file: file, options: options, emit: emit)
    }

    /// One block as a header and its aggregates.
    static func read(_ block: Block, file: String) throws(ImportError) -> (ImportHeader, AggregateSummary) {
        var h = ImportHeader(tool: "serving benchmark console")
        var s = AggregateSummary()
        var totalIn: Double?, totalOut: Double?
        for (label, value) in block.rows {
            let key = label.lowercased()
            if key.hasSuffix("backend") { h.parameters["backend"] = value; h.tool = "\(value) serving benchmark console"; continue }
            if key.hasSuffix("model") || key.hasSuffix("model id") { h.modelID = value; continue }
            let number = AggregateImport.number(Substring(value))
            if key.contains("concurrency"), key.hasPrefix("max") || key.hasPrefix("maximum") {
                s.maxConcurrency = number  // "not set" → nil
                continue
            }
            guard let x = number else { continue }
            h.parameters["reported.\(AIPerfCSVImporter.slug(label))"] = parameterText(x)
            if let (metric, statistic) = latencyRow(key) {
                let seconds = x * 1e-3
                func set(_ st: inout AggregateSummary.Stat) { st.set(statistic, seconds) }
                switch metric {
                case "ttft": set(&s.ttft)
                case "tpot": set(&s.tpot)
                case "itl": set(&s.itl)
                case "e2e": set(&s.e2e)
                default: break
                }
                continue
            }
            switch key {
            case "successful requests": s.completed = countValue(x)
            case "failed requests": s.failed = countValue(x)
            case "benchmark duration (s)": s.durationSeconds = x
            case "total input tokens": totalIn = x
            case "total generated tokens": totalOut = x
            case "request throughput (req/s)": s.requestThroughput = x
            case "output token throughput (tok/s)": s.outputThroughput = x
            case "total token throughput (tok/s)", "total throughput (tok/s)": s.totalTokenThroughput = x
            case "request rate configured (rps)", "traffic request rate": s.requestRate = x
            case "accept length", "acceptance length": s.specMeanAcceptedLength = x
            case "drafted tokens": s.specDraftTokens = x
            case "accepted tokens": s.specAcceptedTokens = x
            default: break
            }
        }
        // SGLang prints "Traffic request rate: inf" (parsed above); vLLM omits the row when inf.
        s.fillMeans(totalInput: totalIn, totalOutput: totalOut)
        guard !s.isEmpty else {
            throw ImportError(file: file, line: block.line, message: "the '\(title)' block has no rows InferScope knows (expected e.g. 'Successful requests:', 'Mean TTFT (ms):')")
        }
        return (h, s)
    }

    /// The model a benchmark log names before line `line`: the last `model='…'` (the argparse
    /// `Namespace(...)` both tools print) or `--model X` on a command line; nil when none.
    static func modelInLog(_ bytes: [UInt8], before line: Int) -> String? {
        var found: String?
        for raw in AggregateImport.lines(bytes).prefix(max(0, line - 1)) {
            let text = String(raw)
            if let r = text.ranges(of: "model='").last {
                let rest = text[r.upperBound...]
                if let end = rest.firstIndex(of: "'") { found = String(rest[..<end]) }
            } else if let r = text.ranges(of: "--model ").last {
                let rest = text[r.upperBound...].drop { $0 == " " }
                let name = rest.prefix { $0 != " " && $0 != "\\" }
                if !name.isEmpty { found = String(name) }
            }
        }
        return found.flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
    }

    /// ("ttft", "p99") for "P99 TTFT (ms)", ("e2e", "mean") for "Mean E2E Latency (ms)"; nil otherwise.
    static func latencyRow(_ key: String) -> (String, String)? {
        guard key.hasSuffix("(ms)") else { return nil }
        let words = key.dropLast(4).split(separator: " ").map(String.init)
        guard let first = words.first, words.count >= 2 else { return nil }
        let statistic: String
        switch first {
        case "mean", "median", "max": statistic = first
        default:
            guard first.hasPrefix("p"), Double(first.dropFirst()) != nil else { return nil }
            statistic = first
        }
        let metric: String
        switch words[1] {
        case "ttft": metric = "ttft"
        case "tpot": metric = "tpot"
        case "itl": metric = "itl"
        case "e2el", "e2e": metric = "e2e"
        default: return nil
        }
        return (metric, statistic)
    }
}
