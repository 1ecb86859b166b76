/// Why an analysis could not be produced. Each case names what failed and how to fix it.
public enum AnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A command-line value or option is malformed.
    case invalidArgument(name: String, value: String, expected: String)
    /// A hardware name is not in the catalog; `suggestions` are the closest catalog names.
    case unknownHardware(name: String, suggestions: [String])
    /// A model name is not in the catalog.
    case unknownModel(name: String, suggestions: [String])
    /// A hardware spec file is unreadable or lacks a field.
    case invalidHardwareSpec(file: String, field: String, expected: String)
    /// A model file (`--model config.json|model.gguf`) is unreadable or lacks a field.
    case invalidModelFile(file: String, field: String, expected: String)
    /// The trace has no header or the header is not the first event.
    case missingHeader
    /// `host` was requested but the trace header has no measured peaks.
    case hostPeaksMissing(field: String)

    public var description: String {
        switch self {
        case let .invalidArgument(name, value, expected):
            return "invalid value '\(value)' for \(name): expected \(expected)"
        case let .unknownHardware(name, suggestions):
            let hint = suggestions.isEmpty ? "" : " Closest catalog entries: \(suggestions.joined(separator: ", "))."
            return "unknown hardware '\(name)': not in the built-in catalog.\(hint) "
                + "Give a catalog name, 'host', or a JSON spec file (see docs/analysis-json.md)."
        case let .unknownModel(name, suggestions):
            let hint = suggestions.isEmpty ? "" : " Closest catalog entries: \(suggestions.joined(separator: ", "))."
            return "unknown model '\(name)': not in the built-in catalog.\(hint)"
        case let .invalidHardwareSpec(file, field, expected):
            return "hardware spec \(file): field '\(field)': expected \(expected)"
        case let .invalidModelFile(file, field, expected):
            return "model file \(file): field '\(field)': expected \(expected) (--model takes a catalog name, a Hugging Face config.json or a GGUF file)"
        case .missingHeader:
            return "trace has no run header: the first event must be the header (see docs/trace-format.md)"
        case let .hostPeaksMissing(field):
            return "--hardware host: the trace header has no measured \(field); "
                + "record the trace with the runtime's probes or give a catalog name / spec file"
        }
    }
}
