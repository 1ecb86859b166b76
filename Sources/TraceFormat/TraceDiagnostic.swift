/// A problem found while reading a trace: where (line, field), what was expected.
public struct TraceDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// The trace is usable (e.g. it was cut off by a crash); strict mode turns these into errors.
        case warning
        /// The event (or the whole trace, for a fatal one) could not be read.
        case error
    }

    public var severity: Severity
    /// 1-based line number in the file; nil for problems of the file as a whole.
    public var line: Int?
    /// JSON path of the offending value, e.g. "args.batch[2][1]".
    public var field: String?
    public var message: String

    public init(severity: Severity, line: Int?, field: String? = nil, message: String) {
        self.severity = severity
        self.line = line
        self.field = field
        self.message = message
    }

    /// `line 12: error: field 'args.step': expected an integer, found a string`
    public var description: String {
        var text = line.map { "line \($0): " } ?? ""
        text += severity.rawValue + ": "
        if let field { text += "field '\(field)': " }
        return text + message
    }
}

/// A trace that could not be read: its source and every problem found (or the first ones, when
/// there are very many — see ``TraceReader/Options/maxStoredDiagnostics``).
public struct TraceReadError: Error, Sendable, CustomStringConvertible {
    /// The file path (or "<memory>").
    public var source: String
    public var diagnostics: [TraceDiagnostic]
    /// Problems found beyond those stored in `diagnostics`.
    public var omitted: Int

    public init(source: String, diagnostics: [TraceDiagnostic], omitted: Int = 0) {
        self.source = source
        self.diagnostics = diagnostics
        self.omitted = omitted
    }

    public var description: String {
        var lines = diagnostics.map { "\(source): \($0)" }
        if omitted > 0 { lines.append("\(source): … and \(omitted) more problems") }
        return lines.joined(separator: "\n")
    }
}
