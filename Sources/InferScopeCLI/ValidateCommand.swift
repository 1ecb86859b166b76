import Reporting
import TraceFormat

/// `inferscope validate TRACE [--strict]`: reads the whole trace (streaming) and lists every
/// problem with its line. Exit 0 valid (warnings printed), 1 invalid, 2 usage.
struct ValidateCommand: Command {
    let spec = CommandSpec(
        name: "validate",
        abstract: "Check that a file is a valid InferScope trace and list every problem with its line.",
        discussion: """
            A trace cut short by a crash (no closing ']', or a last line cut off) is valid with a \
            warning; --strict makes that an error. Exit status: 0 valid, 1 invalid, 2 usage error.
            """,
        arguments: [ArgumentSpec("TRACE", help: "The trace file (JSON, one event per line).")],
        options: [.flag("--strict", help: "Treat a truncated trace (missing ']', cut last line) as invalid."),
                  .flag("--json", help: "Print the result as JSON (schema inferscope.validate/1, docs/json-output.md).")])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        let path = try arguments.argument("TRACE")
        let reader: TraceReader
        do {
            reader = try TraceReader(path: context.resolve(path), options: .init(strict: arguments.flag("--strict")))
        } catch {
            if arguments.flag("--json") {
                context.stdout.write(Self.json(path: path, valid: false, diagnostics: error.diagnostics, errors: error.diagnostics.count,
                                               warnings: 0, header: nil, summary: nil))
                return .failure
            }
            for diagnostic in error.diagnostics { context.stdout.write(Self.format(diagnostic, path) + "\n") }
            return .failure
        }
        var summary = Summary()
        while let event = reader.next() { summary.add(event) }
        if arguments.flag("--json") {
            context.stdout.write(Self.json(path: path, valid: !reader.hasErrors, diagnostics: reader.diagnostics,
                                           errors: reader.errorCount, warnings: reader.warningCount, header: reader.header,
                                           summary: summary))
            return reader.hasErrors ? .failure : .success
        }

        for diagnostic in reader.diagnostics { context.stdout.write(Self.format(diagnostic, path) + "\n") }
        let omitted = reader.errorCount + reader.warningCount - reader.diagnostics.count
        if omitted > 0 { context.stdout.write("\(path): … and \(omitted) more problems\n") }

        if reader.hasErrors {
            context.stdout.write("\(path): invalid trace: \(Self.plural(reader.errorCount, "error"))"
                                 + (reader.warningCount > 0 ? ", \(Self.plural(reader.warningCount, "warning"))" : "") + "\n")
            return .failure
        }
        let header = reader.header!
        var text = "\(path): valid InferScope trace (format \(header.version), producer \"\(header.producer)\")"
        if reader.warningCount > 0 { text += " with \(Self.plural(reader.warningCount, "warning"))" }
        text += "\n" + summary.description(skipped: reader.skippedUnknownEvents)
        context.stdout.write(text)
        return .success
    }

    /// The `--json` document (schema "inferscope.validate/1", docs/json-output.md).
    static func json(path: String, valid: Bool, diagnostics: [TraceDiagnostic], errors: Int, warnings: Int,
                     header: RunHeader?, summary: Summary?) -> String {
        var o: [String: JSONValue] = [
            "schema": .string("inferscope.validate/1"), "file": .string(path), "valid": .bool(valid),
            "errors": .int(errors), "warnings": .int(warnings),
            "diagnostics": .array(diagnostics.map { d in
                .object(["severity": .string(d.severity.rawValue), "line": d.line.map { .int($0) } ?? .null,
                         "field": d.field.map { .string($0) } ?? .null, "message": .string(d.message)])
            }),
            "format_version": header.map { .string("\($0.version)") } ?? .null,
            "producer": header.map { .string($0.producer) } ?? .null,
            "counts": .null,
        ]
        if let s = summary {
            o["counts"] = .object(["steps": .int(s.steps), "request_points": .int(s.requestPoints), "requests": .int(s.requests.count),
                                   "kv_samples": .int(s.kvSamples), "speculation_samples": .int(s.speculationSamples),
                                   "transfers": .int(s.transfers)])
        }
        return JSONValue.object(o).serialized()
    }

    /// `path:12: error: field 'ts': …`
    static func format(_ d: TraceDiagnostic, _ path: String) -> String {
        var text = path + (d.line.map { ":\($0)" } ?? "") + ": \(d.severity.rawValue): "
        if let field = d.field { text += "field '\(field)': " }
        return text + d.message
    }

    static func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Counts of what the trace holds, and its time span.
    struct Summary {
        var steps = 0, requestPoints = 0, kvSamples = 0, speculationSamples = 0, transfers = 0
        var requests: Set<RequestID> = []
        var first: TraceTime?, last: TraceTime?

        mutating func add(_ event: TraceEvent) {
            switch event {
            case .header: return
            case .step(let s): steps += 1; span(s.start, s.start + s.duration)
            case .request(let r): requestPoints += 1; requests.insert(r.request); span(r.time, r.time)
            case .kvCache(let c): kvSamples += 1; span(c.time, c.time)
            case .speculation(let c): speculationSamples += 1; span(c.time, c.time)
            case .transfer(let t): transfers += 1; span(t.start, t.start + t.duration)
            }
        }

        private mutating func span(_ start: TraceTime, _ end: TraceTime) {
            first = Swift.min(first ?? start, start)
            last = Swift.max(last ?? end, end)
        }

        func description(skipped: Int) -> String {
            var text = "  events: \(plural(steps, "step span")), \(plural(requestPoints, "request point")) "
                + "(\(plural(requests.count, "request"))), \(plural(kvSamples, "KV-cache sample")), "
                + "\(plural(speculationSamples, "speculation sample")), \(plural(transfers, "transfer"))\n"
            if let first, let last {
                text += "  time: \(milliseconds(first)) ms to \(milliseconds(last)) ms\n"
            }
            if skipped > 0 { text += "  skipped: \(plural(skipped, "event")) of kinds this version does not know\n" }
            return text
        }

        /// Nanoseconds as milliseconds with three decimals (exact, no floating point).
        private func milliseconds(_ ns: Int64) -> String {
            let magnitude = ns.magnitude
            let whole = magnitude / 1_000_000, fraction = magnitude % 1_000_000 / 1000
            let digits = String(fraction)
            return (ns < 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 3 - digits.count) + digits
        }
    }
}
