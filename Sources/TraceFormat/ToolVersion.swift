/// InferScope's own version: `inferscope --version`, and the run header's `producer` for traces
/// our runtime records.
public enum ToolVersion {
    /// Semantic version of the tool (not of the trace format, see ``TraceVersion``).
    public static let current = "0.1.0"
    /// The run header `producer` for traces recorded by InferScope: "inferscope 0.1.0".
    public static var producer: String { "inferscope \(current)" }
}
