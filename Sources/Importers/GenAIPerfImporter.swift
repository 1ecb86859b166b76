import Analysis
import TraceFormat

/// NVIDIA GenAI-Perf summaries: `profile_export_genai_perf.json` (a flat object keyed by metric,
/// each `{unit, avg, p1…p99, min, max, std}`; system metrics with `avg` only; `telemetry_stats`,
/// `input_config` flat or nested) and `profile_export_genai_perf.csv` (CRLF; a statistics section
/// `Metric,avg,min,max,p99,…`, a `Metric,Value` section, optional telemetry sections; numbers
/// written `1,234.57` and quoted; `N/A` for missing).
///
/// Mapping (aggregates only: the per-request data is in perf_analyzer's `profile_export.json`):
/// `time_to_first_token` → TTFT, `inter_token_latency` (per request (E2E − TTFT)/(OSL − 1)) →
/// TPOT, `request_latency` → E2E, sequence lengths → mean tokens (old names `num_input_token` /
/// `num_output_token` too), `request_throughput`, `output_token_throughput`, `request_count` →
/// completed; `input_config`'s concurrency / request rate / model. Telemetry: the first GPU's
/// name is not in these files; per-metric GPU averages go to `reported.telemetry.<metric>`.
/// Every statistic is kept as `reported.<metric>.<stat>`. Lost: failures (GenAI-Perf does not
/// export them), distributions beyond the printed percentiles. O(file size).
public struct GenAIPerfImporter: TraceImporter {
    public var format: ImportFormat { .genaiPerf }
    public init() {}

    static let csvHeader = "Metric,avg,min,max,p99,p95,p90,p75,p50,p25"

    public func detect(firstBytes: [UInt8]) -> Double {
        if String(decoding: firstBytes.prefix(64), as: UTF8.self).hasPrefix(Self.csvHeader) { return 0.95 }
        guard ImportDetection.contains(firstBytes, "\"time_to_first_token\"") || ImportDetection.contains(firstBytes, "\"request_latency\""),
              ImportDetection.contains(firstBytes, "\"avg\""), ImportDetection.contains(firstBytes, "\"unit\"") else { return 0 }
        // AIPerf's flat schema is GenAI-Perf-compatible; its own keys make AIPerfSummaryImporter win.
        return 0.6
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        if reader.peek() == UInt8(ascii: "{") {
            try importJSON(&reader, file: file, options: options, emit: emit)
        } else {
            try importCSV(bytes, file: file, options: options, emit: emit)
        }
    }

    func importJSON(_ reader: inout JSONReader, file: String, options: ImportOptions,
                    emit: (TraceEvent) -> Void) throws(ImportError) {
        let value = try reader.readValue(nil)
        guard case .object(let top) = value else { throw reader.mismatch(nil, expected: "a JSON object") }
        var h = ImportHeader(tool: "genai-perf")
        var s = AggregateSummary()
        Self.readMetrics(top, into: &s, header: &h)
        AggregateImport.inputConfig(top["input_config"], into: &s, header: &h)
        if case .object(let telemetry)? = top["telemetry_stats"] {
            for (metric, perGPU) in telemetry {
                guard case .object(let gpus) = perGPU else { continue }
                let avgs = gpus.compactMap { key, v in key == "unit" ? nil : (v["avg"]?.double) }
                if !avgs.isEmpty { h.parameters["reported.telemetry.\(metric)"] = parameterText(avgs.reduce(0, +) / Double(avgs.count)) }
            }
        }
        h.notes["token_counts"] = "client-side (re-tokenized by GenAI-Perf)"
        h.notes["itl_definition"] = "inter_token_latency = (request latency - TTFT)/(OSL - 1) per request (= TPOT)"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }

    /// Every `{unit, avg, …}` object of `top` into `s` and `reported.<tag>.<stat>`.
    static func readMetrics(_ top: [String: JSON], into s: inout AggregateSummary, header h: inout ImportHeader) {
        for tag in top.keys.sorted() {
            guard case .object(let o) = top[tag]!, o["avg"] != nil || o["p50"] != nil else { continue }
            var values: [String: Double] = [:]
            for (k, v) in o where k != "unit" {
                if let x = v.double, x.isFinite {
                    values[k] = x
                    h.parameters["reported.\(tag).\(k)"] = parameterText(x)
                }
            }
            AggregateImport.applyMetric(tag: tag, unit: o["unit"]?.string, values: values, to: &s)
        }
    }

    func importCSV(_ bytes: [UInt8], file: String, options: ImportOptions,
                   emit: (TraceEvent) -> Void) throws(ImportError) {
        var h = ImportHeader(tool: "genai-perf")
        let s = try Self.readCSV(bytes, file: file, header: &h, expected: "GenAI-Perf's profile_export_genai_perf.csv: a 'Metric,avg,min,max,p99,…' table")
        h.notes["token_counts"] = "client-side (re-tokenized by GenAI-Perf)"
        h.notes["itl_definition"] = "Inter Token Latency = (request latency - TTFT)/(OSL - 1) per request (= TPOT)"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }

    /// The statistics and `Metric,Value` sections of a GenAI-Perf or AIPerf summary CSV (CRLF or
    /// LF, quoted cells, thousands separators, `N/A`/empty cells skipped). Telemetry sections
    /// (`Metric,GPU,…`, `Endpoint,…`) give only the GPU name. Throws when no metric row was read.
    static func readCSV(_ bytes: [UInt8], file: String, header h: inout ImportHeader, expected: String) throws(ImportError) -> AggregateSummary {
        var s = AggregateSummary()
        var columns: [String] = []
        var rows = 0
        for (index, line) in AggregateImport.lines(bytes).enumerated() {
            if line.trimmingSpaces().isEmpty { columns = []; continue }
            let cells = try AIPerfCSVImporter.cells(line, file: file, line: index + 1)
            if columns.isEmpty { columns = cells; continue }
            if columns.first == "Endpoint" || columns.dropFirst().first == "GPU" {
                if h.hardwareName == nil, let i = columns.firstIndex(of: "GPU_Name"), i < cells.count { h.hardwareName = cells[i] }
                continue
            }
            guard columns.first == "Metric", let label = cells.first else { continue }
            let (tag, unit) = AggregateImport.tagAndUnit(label)
            var values: [String: Double] = [:]
            for (i, name) in columns.enumerated().dropFirst() where i < cells.count {
                let cell = cells[i].trimmingSpaces()
                if cell.isEmpty || cell == "N/A" { continue }
                guard let x = JSONReader.parseNumberText(cell) else {
                    throw ImportError(file: file, line: index + 1, field: "\(label).\(name)", message: "expected a number, found '\(cell)'")
                }
                values[name.lowercased()] = x
                h.parameters["reported.\(tag).\(name.lowercased())"] = parameterText(x)
            }
            AggregateImport.applyMetric(tag: tag, unit: unit, values: values, to: &s)
            rows += 1
        }
        guard rows > 0 else { throw ImportError(file: file, message: "no metric rows (expected \(expected))") }
        return s
    }
}
