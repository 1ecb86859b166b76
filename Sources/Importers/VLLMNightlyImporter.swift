import Analysis
import TraceFormat

/// vLLM's CI performance / nightly results (`benchmark_results.json`,
/// `<ENGINE>_nightly_results.json`): a JSON list of flat records with display-named columns —
/// `Test name` (the load only here: `…_qps_16`, `…_qps_inf`), `GPU`, `Engine`, `# of req.` /
/// `Successful req.`, `Tput (req/s)`, `Output Tput (tok/s)`, `Total Token Tput (tok/s)`,
/// `Mean/Median/P99 TTFT (ms)`, `Mean TPOT (ms)` followed by the ambiguous `Median` and `P99`
/// (which belong to TPOT), `Mean/Median/P99 ITL (ms)`, `Std …`, and for latency tests
/// `Mean/Median/P99 latency (ms)`. Missing values are bare `NaN`.
///
/// Mapping: each record is one run (``ImportedRun``: label = test name, load = the QPS parsed from
/// it, request rate); the last record (or `--run N`) is analysed: its statistics go to the
/// ``AggregateSummary`` in seconds, `GPU` ("8xH100") names the hardware and the device count.
/// Every numeric column is kept as `reported.<column slug>`. Lost: per-request data, the
/// server/client commands (in the `.commands` sidecars), the duration. O(file size).
public struct VLLMNightlyImporter: TraceImporter {
    public var format: ImportFormat { .vllmNightly }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "\"Test name\"")
            && (ImportDetection.contains(firstBytes, "TTFT (ms)\"") || ImportDetection.contains(firstBytes, "\"Tput (req/s)\"")
                || ImportDetection.contains(firstBytes, "latency (ms)\"")) ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        var records: [[String: JSON]] = []
        let value = try reader.readValue(nil)
        switch value {
        case .array(let list):
            for item in list { if case .object(let o) = item, o["Test name"] != nil { records.append(o) } }
        case .object(let o) where o["Test name"] != nil:
            records.append(o)
        default: break
        }
        guard !records.isEmpty else {
            throw ImportError(file: file, message: "no vLLM nightly result records found (expected a JSON list of objects with 'Test name', 'Mean TTFT (ms)', …)")
        }
        let index = options.run ?? records.count
        guard (1...records.count).contains(index) else {
            throw ImportError(file: file, field: "--run", message: "the file holds \(records.count) runs; expected --run between 1 and \(records.count)")
        }
        let runs = records.map { r -> ImportedRun in
            let name = r["Test name"]?.string ?? "?"
            let qps = Self.qps(name)
            return ImportedRun(label: name, loadKind: qps == nil ? nil : "request_rate", load: qps, summary: Self.summary(r))
        }
        let record = records[index - 1]
        var h = ImportHeader(tool: "vllm nightly benchmarks")
        if let engine = record["Engine"]?.string { h.tool = "\(engine) nightly benchmarks" }
        if let gpu = record["GPU"]?.string {
            // "8xH100" → 8 devices of H100.
            if let x = gpu.firstIndex(of: "x"), let n = Int(gpu[..<x]) {
                h.devices = n
                h.hardwareName = String(gpu[gpu.index(after: x)...])
            } else {
                h.hardwareName = gpu
            }
        }
        h.workloadName = record["Test name"]?.string ?? "external"
        for (k, v) in record {
            if let x = v.double, x.isFinite { h.parameters["reported.\(AIPerfCSVImporter.slug(k))"] = parameterText(x) }
        }
        if records.count > 1 { h.notes["run"] = "\(index) of \(records.count) runs in the file" }
        ImportedRun.write(runs, into: &h.parameters)
        try AggregateImport.emit(h, runs[index - 1].summary, format: format, file: file, options: options, emit: emit)
    }

    /// The QPS a test name ends with: `…_qps_16` → 16, `…_qps_inf` → ∞; nil otherwise.
    static func qps(_ name: String) -> Double? {
        guard let range = name.ranges(of: "qps_").last else { return nil }
        let tail = name[range.upperBound...].prefix { $0 != "_" && $0 != " " }
        return tail == "inf" ? .infinity : Double(tail)
    }

    /// One record's statistics. Column order matters only for TPOT's unlabelled `Median`/`P99`.
    static func summary(_ r: [String: JSON]) -> AggregateSummary {
        func ms(_ key: String) -> Double? { r[key]?.double.flatMap { $0.isFinite ? $0 * 1e-3 : nil } }
        func d(_ key: String) -> Double? { r[key]?.double.flatMap { $0.isFinite ? $0 : nil } }
        var s = AggregateSummary()
        s.ttft = .init(mean: ms("Mean TTFT (ms)"), p50: ms("Median TTFT (ms)"), p99: ms("P99 TTFT (ms)"))
        s.tpot = .init(mean: ms("Mean TPOT (ms)"), p50: ms("Median TPOT (ms)") ?? ms("Median"), p99: ms("P99 TPOT (ms)") ?? ms("P99"))
        s.itl = .init(mean: ms("Mean ITL (ms)"), p50: ms("Median ITL (ms)"), p99: ms("P99 ITL (ms)"))
        s.e2e = .init(mean: ms("Mean latency (ms)") ?? ms("Mean E2EL (ms)"), p50: ms("Median latency (ms)") ?? ms("Median E2EL (ms)"),
                      p99: ms("P99 latency (ms)") ?? ms("P99 E2EL (ms)"))
        s.completed = (d("# of req.") ?? d("Successful req.")).flatMap(countValue)
        s.requestThroughput = d("Tput (req/s)")
        s.outputThroughput = d("Output Tput (tok/s)")
        s.totalTokenThroughput = d("Total Token Tput (tok/s)") ?? d("Tput (tok/s)")
        s.fillMeans(totalInput: d("Total input tokens"), totalOutput: d("Total output tokens"))
        if let q = qps(r["Test name"]?.string ?? "") { s.requestRate = q }
        return s
    }
}
