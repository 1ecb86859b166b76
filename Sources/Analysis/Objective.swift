/// What the user optimises; recommendations are ranked by their predicted gain on it.
public enum Objective: String, Sendable, CaseIterable, Equatable {
    /// Output tokens per second (at the SLO, when one is set).
    case throughput
    /// p99 time to first token.
    case ttft
    /// p99 time per output token.
    case tpot
    /// p99 inter-token (per-chunk) latency.
    case itl
    /// Cost per token (∝ 1/throughput on the same hardware).
    case cost
}
