import Analysis
import TraceFormat

/// NVIDIA AIPerf `profile_export_aiperf.csv`: the run's aggregates only (Python csv module, CRLF
/// line endings), in sections separated by blank lines — per-metric statistics under
/// `Metric,avg,min,max,sum,p1,…,p99,std` (0.1.x without `sum`/`p10`; the Metric cell is a display
/// name with its unit, "Time to First Token (ms)"), scalar `Metric,Value` rows, and a GPU
/// telemetry table `Endpoint,GPU_Index,GPU_Name,…` (possibly header-only).
///
/// Mapping: no requests (the CSV has none: use profile_export.jsonl for per-request data); the
/// statistics become `reported.<metric slug>.<stat>` (avg, min, max, p50, p90, p95, p99, std) and
/// scalars `reported.<slug>`; the first `GPU_Name` names the hardware when it matches the catalog.
/// O(file size).
public struct AIPerfCSVImporter: TraceImporter {
    public var format: ImportFormat { .aiperfCSV }
    public init() {}

    static let keptStatistics: Set<String> = ["avg", "min", "max", "p50", "p90", "p95", "p99", "std"]

    public func detect(firstBytes: [UInt8]) -> Double {
        String(decoding: firstBytes.prefix(64), as: UTF8.self).hasPrefix("Metric,avg,min,max") ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var h = ImportHeader(tool: "aiperf")
        h.workloadName = "external"
        h.notes["requests"] = "none: profile_export_aiperf.csv holds aggregates only (profile_export.jsonl has the requests)"
        var columns: [String] = []
        var section = ""
        var rows = 0
        var summary = AggregateSummary()
        // Split on LF bytes: in a Swift String "\r\n" is one Character and would not split on "\n".
        for (index, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = Substring(decoding: raw.last == 0x0D ? raw.dropLast() : raw, as: UTF8.self)
            if line.trimmingSpaces().isEmpty { columns = []; continue }
            let cells = try Self.cells(line, file: file, line: lineNumber)
            if columns.isEmpty {
                columns = cells
                section = cells.first == "Metric" ? (cells.count == 2 && cells[1] == "Value" ? "scalars" : "statistics")
                    : (cells.first == "Endpoint" ? "telemetry" : "unknown")
                continue
            }
            switch section {
            case "statistics":
                let slug = Self.slug(cells[0])
                var values: [String: Double] = [:]
                for (i, name) in columns.enumerated().dropFirst() where Self.keptStatistics.contains(name) && i < cells.count {
                    let cell = cells[i].trimmingSpaces()
                    if cell.isEmpty || cell == "N/A" { continue }
                    guard let v = JSONReader.parseNumberText(cell) else {
                        throw ImportError(file: file, line: lineNumber, field: "\(cells[0]).\(name)", message: "expected a number, found '\(cell)'")
                    }
                    h.parameters["reported.\(slug).\(name)"] = parameterText(v)
                    values[name] = v
                }
                let (tag, unit) = AggregateImport.tagAndUnit(cells[0])
                AggregateImport.applyMetric(tag: tag, unit: unit, values: values, to: &summary)
                rows += 1
            case "scalars":
                guard cells.count >= 2 else { continue }
                let cell = cells[1].trimmingSpaces()
                h.parameters["reported.\(Self.slug(cells[0]))"] = JSONReader.parseNumberText(cell).map(parameterText) ?? cell
                if let v = JSONReader.parseNumberText(cell) {
                    let (tag, unit) = AggregateImport.tagAndUnit(cells[0])
                    AggregateImport.applyMetric(tag: tag, unit: unit, values: ["avg": v], to: &summary)
                }
                rows += 1
            case "telemetry":
                if h.hardwareName == nil, let i = columns.firstIndex(of: "GPU_Name"), i < cells.count { h.hardwareName = cells[i] }
            default:
                continue
            }
        }
        guard rows > 0 else {
            throw ImportError(file: file, message: "no metric rows (expected AIPerf's profile_export_aiperf.csv: a 'Metric,avg,min,max,…' table)")
        }
        summary.write(into: &h.parameters)
        emit(.header(try h.build(options, file: file)))
    }

    /// "Time to First Token (ms)" → "time_to_first_token_ms".
    static func slug(_ name: String) -> String {
        var out = ""
        for c in name.lowercased() {
            if c.isLetter || c.isNumber { out.append(c) } else if !out.isEmpty && out.last != "_" { out.append("_") }
        }
        while out.last == "_" { out.removeLast() }
        return out
    }

    /// The cells of one CSV line (RFC 4180 quoting: "a, b" and "" escapes).
    static func cells(_ line: Substring, file: String, line number: Int) throws(ImportError) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == "\"" {
                    let next = line.index(after: i)
                    if next < line.endIndex, line[next] == "\"" { cell.append("\""); i = line.index(after: next); continue }
                    quoted = false
                } else {
                    cell.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(c)
            }
            i = line.index(after: i)
        }
        guard !quoted else { throw ImportError(file: file, line: number, message: "unterminated quoted CSV cell") }
        cells.append(cell)
        return cells
    }
}
