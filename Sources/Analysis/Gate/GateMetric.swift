import TraceFormat

/// A named scalar of an analysis that a CI gate can hold to a limit or compare between runs.
///
/// Names are part of the public interface (docs/gate.md) and never change meaning: dashboards and
/// CI configurations depend on them. Latencies are seconds, rates per second, utilisations and
/// shares in 0…1.
public struct GateMetric: Sendable {
    public enum Unit: String, Sendable, Equatable {
        case seconds
        case tokensPerSecond = "tokens/s"
        case requestsPerSecond = "requests/s"
        case share
        case count
    }

    /// Stable dotted name, e.g. "ttft.p99".
    public var name: String
    public var unit: Unit
    /// True for throughput-like metrics (a drop is a regression), false for latency-like ones.
    public var higherIsBetter: Bool
    /// One line for `inferscope gate --list-metrics` and the docs.
    public var help: String
    let read: @Sendable (AnalysisResult) -> Double?

    /// The metric's value in `result`, or nil when the trace lacks what it needs.
    public func value(in result: AnalysisResult) -> Double? {
        guard let v = read(result), v.isFinite else { return nil }
        return v
    }

    /// The sample size behind the value (requests or gaps), when it is a percentile of a sample.
    public func sampleSize(in result: AnalysisResult) -> Int? {
        let family = name.split(separator: ".").first.map(String.init) ?? name
        switch family {
        case "ttft": return result.metrics.ttft?.count
        case "tpot": return result.metrics.tpot?.count
        case "itl": return result.metrics.itl?.count
        case "e2e": return result.metrics.e2e?.count
        case "queue": return result.metrics.queue?.count
        default: return nil
        }
    }

    /// The percentile this metric reads (50 for "ttft.p50"), nil for means and non-distributions.
    public var percentile: Double? {
        guard let last = name.split(separator: ".").last, last.hasPrefix("p") else { return nil }
        return Double(last.dropFirst())
    }
}

extension GateMetric {
    /// Every gate metric, in the order reports list them.
    public static let all: [GateMetric] = {
        var list: [GateMetric] = []
        let latencies: [(String, String, @Sendable (TraceMetrics) -> Distribution?)] = [
            ("ttft", "time to first token (arrival → first token, queueing included)", { $0.ttft }),
            ("tpot", "time per output token after the first, per request", { $0.tpot }),
            ("itl", "gap between consecutive output tokens, pooled over requests", { $0.itl }),
            ("e2e", "request latency, arrival → last token", { $0.e2e }),
            ("queue", "queueing delay, arrival → first scheduled", { $0.queue }),
        ]
        let stats: [(String, @Sendable (Distribution) -> Double)] = [
            ("mean", { $0.mean }), ("p50", { $0.p50 }), ("p90", { $0.p90 }), ("p95", { $0.p95 }), ("p99", { $0.p99 }),
        ]
        for (family, help, distribution) in latencies {
            for (stat, pick) in stats {
                list.append(GateMetric(name: "\(family).\(stat)", unit: .seconds, higherIsBetter: false,
                                       help: "\(stat) \(help)", read: { r in distribution(r.metrics).map(pick) }))
            }
        }
        list += [
            GateMetric(name: "throughput.output", unit: .tokensPerSecond, higherIsBetter: true,
                       help: "output tokens per second over the run", read: { $0.metrics.throughput.outputTokensPerSecond }),
            GateMetric(name: "throughput.input", unit: .tokensPerSecond, higherIsBetter: true,
                       help: "prompt tokens per second over the run", read: { $0.metrics.throughput.inputTokensPerSecond }),
            GateMetric(name: "throughput.total", unit: .tokensPerSecond, higherIsBetter: true,
                       help: "prompt + output tokens per second", read: { $0.metrics.throughput.totalTokensPerSecond }),
            GateMetric(name: "throughput.requests", unit: .requestsPerSecond, higherIsBetter: true,
                       help: "completed requests per second", read: { $0.metrics.throughput.requestsPerSecond }),
            GateMetric(name: "goodput.requests", unit: .requestsPerSecond, higherIsBetter: true,
                       help: "requests per second meeting every --slo target", read: { $0.metrics.goodput?.requestsPerSecond }),
            GateMetric(name: "goodput.attainment", unit: .share, higherIsBetter: true,
                       help: "share of completed requests meeting every --slo target", read: { $0.metrics.goodput?.attainment }),
            GateMetric(name: "idle.share", unit: .share, higherIsBetter: false,
                       help: "idle share of engine time", read: { $0.metrics.phases.totalSeconds > 0 ? $0.metrics.phases.idleShare : nil }),
            GateMetric(name: "preemptions.per-request", unit: .count, higherIsBetter: false,
                       help: "preemptions per completed request", read: { r in
                           r.metrics.requests.completed > 0
                               ? Double(r.metrics.preemptions.total) / Double(r.metrics.requests.completed) : nil
                       }),
        ]
        for phase in [Phase.prefill, .decode] {
            list.append(GateMetric(name: "mbu.\(phase.rawValue)", unit: .share, higherIsBetter: true,
                                   help: "\(phase.rawValue) memory-bandwidth utilisation (roofline; needs hardware peaks)",
                                   read: { r in r.roofline?.phases.first { $0.phase == phase }?.mbu }))
            list.append(GateMetric(name: "mfu.\(phase.rawValue)", unit: .share, higherIsBetter: true,
                                   help: "\(phase.rawValue) FLOP utilisation (roofline; needs hardware peaks)",
                                   read: { r in r.roofline?.phases.first { $0.phase == phase }?.mfu }))
        }
        return list
    }()

    /// The metric called `name`, or nil.
    public static func named(_ name: String) -> GateMetric? { all.first { $0.name == name } }

    /// The metrics a baseline comparison checks when the user names none: the headline
    /// throughput and the median and tail of the three latencies users set SLOs on.
    public static let defaultRegressionChecks = ["throughput.output", "ttft.p50", "ttft.p99", "tpot.p50", "tpot.p99", "itl.p99"]
}
