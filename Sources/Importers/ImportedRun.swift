import Analysis

/// One run of a file that holds several (a rate or concurrency sweep, vLLM's nightly list,
/// several `Serving Benchmark Result` blocks in a log, llama-bench rows): its label, the load it
/// was offered and its aggregates. The importer analyses one run in depth (the last, or `--run`)
/// and lists all of them in the header so that `analyze` can print a table of every run and,
/// for load sweeps, the load–latency curve.
///
/// Header encoding (workload parameters): `runs.count` = n; per run i (1-based)
/// `runs.<i>.label`, `runs.<i>.load_kind` ("request_rate" | "concurrency", when the runs are a
/// load sweep), `runs.<i>.load` (a number or "inf"), and the run's ``AggregateSummary`` keys
/// with `runs.<i>.` in place of `aggregate.`. O(runs × fields).
public struct ImportedRun: Sendable, Equatable {
    public var label: String
    /// "request_rate" or "concurrency"; nil when the runs are not a load sweep.
    public var loadKind: String?
    /// The offered load (requests/s, or concurrent requests); `.infinity` for "inf".
    public var load: Double?
    public var summary: AggregateSummary

    public init(label: String, loadKind: String? = nil, load: Double? = nil, summary: AggregateSummary) {
        self.label = label
        self.loadKind = loadKind
        self.load = load
        self.summary = summary
    }

    /// Writes `runs` into `parameters` (nothing for fewer than two runs).
    public static func write(_ runs: [ImportedRun], into parameters: inout [String: String]) {
        guard runs.count > 1 else { return }
        parameters["runs.count"] = String(runs.count)
        for (i, run) in runs.enumerated() {
            let p = "runs.\(i + 1)."
            parameters[p + "label"] = run.label
            if let k = run.loadKind { parameters[p + "load_kind"] = k }
            if let l = run.load { parameters[p + "load"] = l.isInfinite ? "inf" : parameterText(l) }
            var own: [String: String] = [:]
            run.summary.write(into: &own)
            for (k, v) in own { parameters[p + k.dropFirst(AggregateSummary.prefix.count)] = v }
        }
    }

    /// The runs a header lists, in order; empty when it lists none.
    public static func read(_ parameters: [String: String]) -> [ImportedRun] {
        guard let n = parameters["runs.count"].flatMap(Int.init), n > 1 else { return [] }
        return (1...n).map { i in
            let p = "runs.\(i)."
            var own: [String: String] = [:]
            for (k, v) in parameters where k.hasPrefix(p) { own[AggregateSummary.prefix + k.dropFirst(p.count)] = v }
            let load = parameters[p + "load"].flatMap { $0 == "inf" ? Double.infinity : Double($0) }
            return ImportedRun(label: parameters[p + "label"] ?? "run \(i)", loadKind: parameters[p + "load_kind"],
                               load: load, summary: AggregateSummary(parameters: own))
        }
    }
}
