import Analysis
import TraceFormat

/// llama.cpp `llama-bench` markdown output (`-o md`, the default), alone or inside a log: a pipe
/// table whose header holds `model`, `size`, `params`, `backend`, optional parameter columns,
/// `test` and `t/s`, then an alignment row, then one row per test; a `build: <commit> (<n>)`
/// footer. `test` is `pp<N>`, `tg<N>` or `pp<N>+tg<M>`, optionally ` @ d<depth>`; `t/s` is
/// `mean ± sample std` of the per-repetition rates. Cells are parsed on `|`, not by column
/// position (widths changed over the years).
///
/// Mapping: like the JSON importer, on one lane laid end to end, but the table has only the
/// mean rate, not each repetition: a `pp<N>` row → one `prefill` step of N tokens at context
/// `depth` lasting N / rate; a `tg<N>` row → one step-run record (``StepRun``) of N `decode`
/// steps of 1 / rate each at contexts depth, depth+1, …; `pp+tg` rows cannot be split and are
/// skipped (counted in `import.skipped`). Every row is listed as a run (``ImportedRun``: output
/// throughput = the tg rate; total token throughput = the pp or tg rate). Model from the
/// `model` cell (catalog match), bytes per weight from `size` (GiB/MiB, binary) over `params`
/// (B/M, decimal), weight type from its third word. Lost: repetition count and per-repetition
/// times (the std is kept as `reported`), the hardware (not in the table: give --hardware).
/// O(file size).
public struct LlamaBenchMarkdownImporter: TraceImporter {
    public var format: ImportFormat { .llamaBenchMarkdown }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "| model") && ImportDetection.contains(firstBytes, "t/s")
            && ImportDetection.contains(firstBytes, "test") ? 0.9 : 0
    }

    /// One table row as column name → cell text.
    typealias Row = [String: String]

    static func cells(_ line: String) -> [String]? {
        let t = line.trimmingSpaces()
        guard t.hasPrefix("|") else {
            // A log prefix before the table ("main: | model | …") is tolerated.
            guard let bar = t.firstIndex(of: "|") else { return nil }
            return cells(String(t[bar...]))
        }
        var parts = t.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        parts.removeFirst()
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var columns: [String] = []
        var rows: [(line: Int, row: Row)] = []
        var build: String?
        for (i, raw) in AggregateImport.lines(bytes).enumerated() {
            let line = String(raw)
            if let r = line.ranges(of: "build: ").first {
                build = String(line[r.upperBound...]).trimmingSpaces()
                continue
            }
            guard let cells = Self.cells(line), !cells.isEmpty else { columns = []; continue }
            if cells.contains("test"), cells.contains("t/s") { columns = cells; continue }
            guard !columns.isEmpty else { continue }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } }) { continue }
            var row: Row = [:]
            for (j, name) in columns.enumerated() where j < cells.count { row[name] = cells[j] }
            rows.append((i + 1, row))
        }
        guard let first = rows.first?.row else {
            throw ImportError(file: file, message: "no llama-bench markdown table found (expected a '| model | … | test | t/s |' table)")
        }
        var h = ImportHeader(tool: "llama-bench")
        h.toolVersion = build
        h.modelID = first["model"]
        if let size = first["size"].flatMap(Self.bytes), let params = first["params"].flatMap(Self.count), params > 0 {
            h.bytesPerWeight = size / params
            let words = first["model"]?.split(separator: " ") ?? []
            h.weightType = words.count >= 3 ? words[2].lowercased() : "unknown"
            h.parameters["model_size"] = parameterText(size)
            h.parameters["model_n_params"] = parameterText(params)
        }
        for key in ["backend", "ngl", "threads", "n_batch", "n_ubatch", "type_k", "type_v", "fa"] {
            if let v = first[key] { h.parameters[key] = v }
        }
        h.clock = "synthesized"
        h.workloadName = "llama-bench"
        h.runtimeOptions["scheduler"] = "none (llama-bench: one sequence per test)"
        h.notes["steps"] = "from the table's mean rates: pp rows one prefill step, tg rows one step-run record of equal decode steps; laid end to end"

        var events: [TraceEvent] = []
        var runs: [ImportedRun] = []
        var clock: TraceTime = 0
        var step: Int64 = 0
        var skipped = 0
        for (index, (line, row)) in rows.enumerated() {
            guard let test = row["test"], let rateText = row["t/s"] else { continue }
            let (rate, std) = Self.rate(rateText)
            guard let rate, rate > 0 else {
                throw ImportError(file: file, line: line, field: "t/s", message: "expected 'mean ± std' tokens per second, found '\(rateText)'")
            }
            guard let shape = Self.test(test) else {
                throw ImportError(file: file, line: line, field: "test", message: "expected pp<N>, tg<N> or pp<N>+tg<M> (optionally ' @ d<depth>'), found '\(test)'")
            }
            var s = AggregateSummary()
            s.totalTokenThroughput = rate
            if shape.gen > 0 && shape.prompt == 0 { s.outputThroughput = rate; s.tpot = .init(mean: 1 / rate) }
            runs.append(ImportedRun(label: test, summary: s))
            h.parameters["reported.\(AIPerfCSVImporter.slug(test)).t_s"] = parameterText(rate)
            if let std { h.parameters["reported.\(AIPerfCSVImporter.slug(test)).t_s_std"] = parameterText(std) }
            let request = RequestID(index)
            if shape.prompt > 0 && shape.gen > 0 { skipped += 1; continue }
            if shape.prompt > 0 {
                let d = nanoseconds(Double(shape.prompt) / rate)
                events.append(.step(StepEvent(step: step, phase: .prefill, start: clock, duration: d,
                                              batch: [BatchEntry(request: request, prefillTokens: clamp32(shape.prompt),
                                                                 decodeTokens: 0, contextLength: clamp32(shape.depth))])))
                step += 1
                clock = clock.addingReportingOverflow(d).overflow ? .max : clock + d
            } else {
                let d = nanoseconds(Double(shape.gen) / rate)
                events.append(.step(StepEvent(step: step, phase: .decode, start: clock, duration: d,
                                              batch: [BatchEntry(request: request, prefillTokens: 0, decodeTokens: 1,
                                                                 contextLength: clamp32(shape.depth))],
                                              run: shape.gen > 1 ? StepRun(count: Int64(shape.gen), contextIncrement: 1) : nil)))
                step = step.addingReportingOverflow(Int64(shape.gen)).overflow ? .max : step + Int64(shape.gen)
                clock = clock.addingReportingOverflow(d).overflow ? .max : clock + d
            }
        }
        if skipped > 0 { h.notes["skipped"] = "\(skipped) rows (pp+tg tests cannot be split into phases)" }
        ImportedRun.write(runs, into: &h.parameters)
        emit(.header(try h.build(options, file: file)))
        for e in events { emit(e) }
    }

    /// "123.45 ± 1.23" → (123.45, 1.23); also "1,234.5 ± 0.0" and a bare "123.45".
    static func rate(_ text: String) -> (Double?, Double?) {
        let parts = text.split(separator: "±").map { $0.trimmingSpaces() }
        return (parts.first.flatMap { JSONReader.parseNumberText($0) }, parts.count > 1 ? JSONReader.parseNumberText(parts[1]) : nil)
    }

    /// "pp512" → (512, 0, 0); "tg128 @ d4096" → (0, 128, 4096); "pp512+tg128" → (512, 128, 0).
    static func test(_ text: String) -> (prompt: Int, gen: Int, depth: Int)? {
        let halves = text.split(separator: "@").map { $0.trimmingSpaces() }
        var prompt = 0, gen = 0, depth = 0
        for part in halves[0].split(separator: "+") {
            let p = part.trimmingSpaces()
            if p.hasPrefix("pp"), let n = Int(p.dropFirst(2)) { prompt = n }
            else if p.hasPrefix("tg"), let n = Int(p.dropFirst(2)) { gen = n }
            else { return nil }
        }
        if halves.count > 1 {
            guard halves[1].hasPrefix("d"), let d = Int(halves[1].dropFirst()) else { return nil }
            depth = d
        }
        return prompt + gen > 0 ? (prompt, gen, depth) : nil
    }

    /// "3.56 GiB" → bytes (binary units).
    static func bytes(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let x = JSONReader.parseNumberText(String(parts[0])) else { return nil }
        switch parts[1] {
        case "GiB": return x * 1_073_741_824
        case "MiB": return x * 1_048_576
        case "KiB": return x * 1024
        case "B": return x
        default: return nil
        }
    }

    /// "6.74 B" → 6.74e9 (decimal units).
    static func count(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let x = JSONReader.parseNumberText(String(parts[0])) else { return nil }
        switch parts[1] {
        case "B": return x * 1e9
        case "M": return x * 1e6
        case "K": return x * 1e3
        default: return nil
        }
    }
}
