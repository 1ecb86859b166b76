import TraceFormat

/// One condition a CI gate holds a run to.
public struct GateRule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The metric must be ≤ `limit` (latency-like) or ≥ `limit`, as `atMost` says.
        case bound(atMost: Bool, limit: Double)
        /// The metric may be worse than the baseline's by at most this fraction (0.1 = 10%).
        case maxRegression(Double)
        /// A deterministic quantity (token counts, KV blocks): must equal the baseline's exactly.
        case exact
    }

    public var metric: String
    public var kind: Kind

    public init(metric: String, kind: Kind) {
        self.metric = metric
        self.kind = kind
    }
}

/// A gate expression the user wrote that cannot be used, with what was expected.
public struct GateRuleError: Error, Equatable, CustomStringConvertible {
    /// The option the expression came from, e.g. "--require".
    public var option: String
    public var expression: String
    public var problem: String

    public var description: String { "option '\(option)': '\(expression)': \(problem)" }
}

extension GateRule {
    /// Parses a `--require` expression: `METRIC<=VALUE` or `METRIC>=VALUE`, e.g. `ttft.p99<=200ms`,
    /// `throughput.output>=450`, `goodput.attainment>=95%`. Seconds metrics need a unit (`s`, `ms`,
    /// `us`/`µs`); shares take `%` or a fraction. O(length).
    public static func parseRequirement(_ text: String) throws(GateRuleError) -> GateRule {
        func fail(_ problem: String) -> GateRuleError { GateRuleError(option: "--require", expression: text, problem: problem) }
        let compact = text.filter { !$0.isWhitespace }
        let atMost: Bool
        let parts: [Substring]
        if compact.contains("<=") {
            atMost = true
            parts = compact.split(separator: "<=", omittingEmptySubsequences: false)
        } else if compact.contains(">=") {
            atMost = false
            parts = compact.split(separator: ">=", omittingEmptySubsequences: false)
        } else {
            throw fail("expected METRIC<=VALUE or METRIC>=VALUE, e.g. ttft.p99<=200ms")
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw fail("expected METRIC<=VALUE or METRIC>=VALUE, e.g. ttft.p99<=200ms")
        }
        let metric = try known(String(parts[0]), option: "--require", expression: text)
        let limit = try value(String(parts[1]), for: metric, expression: text)
        return GateRule(metric: metric.name, kind: .bound(atMost: atMost, limit: limit))
    }

    /// Parses a `--budget` expression `METRIC=PCT` (`ttft.p99=20%`): the allowed regression
    /// against the baseline, in the metric's worse direction.
    public static func parseBudget(_ text: String) throws(GateRuleError) -> GateRule {
        let parts = text.filter { !$0.isWhitespace }.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw GateRuleError(option: "--budget", expression: text, problem: "expected METRIC=PERCENT, e.g. ttft.p99=20%")
        }
        let metric = try known(String(parts[0]), option: "--budget", expression: text)
        let fraction = try percentage(String(parts[1]), option: "--budget", expression: text)
        return GateRule(metric: metric.name, kind: .maxRegression(fraction))
    }

    /// Parses a percentage `10%` (or a bare fraction `0.1`) into a fraction ≥ 0.
    public static func percentage(_ text: String, option: String, expression: String) throws(GateRuleError) -> Double {
        let t = text.filter { !$0.isWhitespace }
        let fraction: Double?
        if t.hasSuffix("%") { fraction = Double(t.dropLast()).map { $0 / 100 } } else { fraction = Double(t) }
        guard let f = fraction, f.isFinite, f >= 0 else {
            throw GateRuleError(option: option, expression: expression, problem: "expected a percentage ≥ 0 such as 10% (or a fraction such as 0.1)")
        }
        return f
    }

    private static func known(_ name: String, option: String, expression: String) throws(GateRuleError) -> GateMetric {
        if let m = GateMetric.named(name) { return m }
        let close = GateMetric.all.map(\.name).filter { EditDistance.between($0, name) <= 2 || $0.hasPrefix(name + ".") }
        let hint = close.isEmpty ? "run 'inferscope gate --list-metrics' for the names" : "did you mean \(close.prefix(5).joined(separator: ", "))?"
        throw GateRuleError(option: option, expression: expression, problem: "unknown metric '\(name)'; \(hint)")
    }

    private static func value(_ text: String, for metric: GateMetric, expression: String) throws(GateRuleError) -> Double {
        func fail(_ problem: String) -> GateRuleError { GateRuleError(option: "--require", expression: expression, problem: problem) }
        switch metric.unit {
        case .seconds:
            let units: [(String, Double)] = [("ms", 1e3), ("us", 1e6), ("µs", 1e6), ("s", 1)]  // divisors: correctly rounded
            for (suffix, divisor) in units where text.hasSuffix(suffix) {
                if let x = Double(text.dropLast(suffix.count)), x.isFinite, x >= 0 { return x / divisor }
                break
            }
            throw fail("\(metric.name) is a duration: give a number with a unit, e.g. 200ms, 1.5s or 800us")
        case .share:
            return try percentage(text, option: "--require", expression: expression)
        case .tokensPerSecond, .requestsPerSecond, .count:
            guard let x = Double(text), x.isFinite, x >= 0 else {
                throw fail("\(metric.name) is in \(metric.unit.rawValue): expected a number ≥ 0")
            }
            return x
        }
    }
}
