/// Why a foreign file could not be imported: which file, where in it (line, JSON path or
/// column), what was expected and what was found. `description` is the one-line message the CLI
/// prints: `results.json:12: field 'ttfts[3]': expected a number of seconds, found a string`.
public struct ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as the user named it.
    public var file: String
    /// 1-based line of the offending value, when known.
    public var line: Int?
    /// JSON path ("itls[4][2]", "metrics.time_to_first_token.value") or CSV column, when known.
    public var field: String?
    /// What went wrong and what was expected, ending with how to fix it when there is a fix.
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "field '\(field)': " }
        return text + message
    }
}
