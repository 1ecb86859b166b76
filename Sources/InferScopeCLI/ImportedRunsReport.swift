import Analysis
import Importers
import Reporting
import TraceFormat

/// The "RUNS IN THE FILE" section `analyze` appends for an imported file holding several runs
/// (``ImportedRun`` list in the header): one row per run with its load and aggregates and, for a
/// load sweep, the load–latency curve's conclusions shared with `sweep` (``LoadCurve``): the
/// highest load within `--slo` and the saturation knee.
///
/// With aggregates only, a run passes an SLO target when the highest-attainment statistic the
/// file reports for that metric at or above the 90th percentile (p90, else p95, p99, max) is
/// within the target — the same "90% of requests meet it" as `sweep`'s default `--attainment`,
/// judged per metric. A run whose file gives only means or medians for a targeted metric is
/// "-" (cannot say). O(runs).
enum ImportedRunsReport {
    static func render(_ header: RunHeader, slo: ServiceLevelObjectives) -> String {
        let runs = ImportedRun.read(header.workload.parameters)
        guard runs.count > 1 else { return "" }
        let kind = runs.first?.loadKind
        let sweep = kind != nil && runs.allSatisfy { $0.loadKind == kind && $0.load != nil }
        let closedLoop = kind == "concurrency"
        func d(_ x: Double?) -> String { x.map(NumberFormat.duration) ?? "-" }
        func n(_ x: Double?) -> String { x.map { NumberFormat.significant($0) } ?? "-" }
        var titles = ["run"]
        if sweep { titles.append(closedLoop ? "concurrency" : "rate req/s") }
        titles += ["done req/s", "out tok/s", "tok/s", "TTFT mean", "TTFT p99", "TPOT mean", "TPOT p99", "E2E mean"]
        if !slo.isEmpty { titles.append("SLO") }
        if sweep && !closedLoop { titles.append("saturated") }
        var rows: [[String]] = [titles]
        var points: [LoadPoint] = []
        let ordered = sweep ? runs.sorted { $0.load! < $1.load! } : runs
        for run in ordered {
            let s = run.summary
            let passes = slo.isEmpty ? nil : Self.passes(s, slo)
            var row = [run.label]
            if sweep, let l = run.load { row.append(l.isInfinite ? "inf" : NumberFormat.significant(l, digits: 4)) }
            row += [n(s.requestThroughput), n(s.outputThroughput), n(s.totalTokenThroughput),
                    d(s.ttft.mean ?? s.ttft.p50), d(s.ttft.p99), d(s.tpot.mean ?? s.tpot.p50), d(s.tpot.p99), d(s.e2e.mean ?? s.e2e.p50)]
            if !slo.isEmpty { row.append(passes.map { $0 ? "pass" : "FAIL" } ?? "-") }
            var saturated = false
            if sweep && !closedLoop {
                saturated = LoadCurve.saturated(load: run.load!, completedRPS: s.requestThroughput)
                row.append(saturated ? "yes" : "no")
            }
            rows.append(row)
            if sweep { points.append(LoadPoint(load: run.load!, passes: passes, saturated: saturated, completedRPS: s.requestThroughput)) }
        }
        var out = "\nRUNS IN THE FILE (\(runs.count); the analysis above is of run \(header.options["import.run"].map { String($0.prefix { $0 != " " }) } ?? "\(runs.count)"); as the file reports them)\n"
        out += TextTable.aligned(rows)
        if sweep {
            out += (out.hasSuffix("\n") ? "" : "\n") + "load-latency curve: " + (closedLoop ? "concurrency" : "request rate") + " ascending above\n"
            out += LoadCurve.conclusion(points, closedLoop: closedLoop, searched: nil) + "\n"
        }
        return out + "\n"
    }

    /// The same table for `analyze --json`: `{"analyzed_run", "load_kind", "sweep", "runs": [...],
    /// "conclusion"}` with times in seconds and throughputs per second, runs in the table's order;
    /// nil for a file with fewer than two runs.
    static func json(_ header: RunHeader, slo: ServiceLevelObjectives) -> JSONValue? {
        let runs = ImportedRun.read(header.workload.parameters)
        guard runs.count > 1 else { return nil }
        let kind = runs.first?.loadKind
        let sweep = kind != nil && runs.allSatisfy { $0.loadKind == kind && $0.load != nil }
        let closedLoop = kind == "concurrency"
        let ordered = sweep ? runs.sorted { $0.load! < $1.load! } : runs
        var points: [LoadPoint] = []
        var rows: [JSONValue] = []
        for run in ordered {
            let s = run.summary
            let passes = slo.isEmpty ? nil : Self.passes(s, slo)
            var saturated: Bool?
            if sweep && !closedLoop { saturated = LoadCurve.saturated(load: run.load!, completedRPS: s.requestThroughput) }
            if sweep { points.append(LoadPoint(load: run.load!, passes: passes, saturated: saturated ?? false, completedRPS: s.requestThroughput)) }
            rows.append(.object([
                "label": .string(run.label),
                "load": run.load.map { $0.isInfinite ? .string("inf") : .number($0) } ?? .null,
                "request_throughput": .num(s.requestThroughput), "output_throughput": .num(s.outputThroughput),
                "total_token_throughput": .num(s.totalTokenThroughput),
                "ttft_mean_s": .num(s.ttft.mean ?? s.ttft.p50), "ttft_p99_s": .num(s.ttft.p99),
                "tpot_mean_s": .num(s.tpot.mean ?? s.tpot.p50), "tpot_p99_s": .num(s.tpot.p99),
                "e2e_mean_s": .num(s.e2e.mean ?? s.e2e.p50),
                "slo_pass": passes.map { .bool($0) } ?? .null,
                "saturated": saturated.map { .bool($0) } ?? .null,
            ]))
        }
        return .object([
            "analyzed_run": .str(header.options["import.run"].map { String($0.prefix { $0 != " " }) }),
            "load_kind": .str(kind), "sweep": .bool(sweep), "runs": .array(rows),
            "conclusion": sweep ? .string(LoadCurve.conclusion(points, closedLoop: closedLoop, searched: nil)) : .null,
        ])
    }

    /// Whether the run meets every target, judged at the 90th percentile or above; nil when a
    /// targeted metric has no such statistic.
    static func passes(_ s: AggregateSummary, _ slo: ServiceLevelObjectives) -> Bool? {
        func high(_ st: AggregateSummary.Stat) -> Double? { st.p90 ?? st.p95 ?? st.p99 ?? st.max }
        var ok = true
        for (target, stat) in [(slo.ttft, s.ttft), (slo.tpot, s.tpot), (slo.e2e, s.e2e), (slo.itl, s.itl)] {
            guard let target else { continue }
            guard let v = high(stat) else { return nil }
            if v > target { ok = false }
        }
        return ok
    }
}
