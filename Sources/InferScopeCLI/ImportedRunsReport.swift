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
    /// The runs in table order (sorted by load for a sweep), each judged once; both renderings
    /// read it.
    struct Table {
        struct Row {
            var run: ImportedRun
            var passes: Bool?
            /// Open-loop sweeps only.
            var saturated: Bool?
        }
        var kind: String?
        var sweep: Bool
        var closedLoop: Bool
        var rows: [Row]
        /// The load–latency curve's conclusion (sweeps only).
        var conclusion: String?
    }

    /// nil for a file with fewer than two runs.
    static func table(_ header: RunHeader, slo: ServiceLevelObjectives) -> Table? {
        let runs = ImportedRun.read(header.workload.parameters)
        guard runs.count > 1 else { return nil }
        let kind = runs.first?.loadKind
        let sweep = kind != nil && runs.allSatisfy { $0.loadKind == kind && $0.load != nil }
        let closedLoop = kind == "concurrency"
        let rows = (sweep ? runs.sorted { $0.load! < $1.load! } : runs).map { run in
            Table.Row(run: run, passes: slo.isEmpty ? nil : Self.passes(run.summary, slo),
                      saturated: sweep && !closedLoop ? LoadCurve.saturated(load: run.load!, completedRPS: run.summary.requestThroughput) : nil)
        }
        let points = rows.map { LoadPoint(load: $0.run.load ?? 0, passes: $0.passes, saturated: $0.saturated ?? false,
                                          completedRPS: $0.run.summary.requestThroughput) }
        return Table(kind: kind, sweep: sweep, closedLoop: closedLoop, rows: rows,
                     conclusion: sweep ? LoadCurve.conclusion(points, closedLoop: closedLoop, searched: nil) : nil)
    }

    /// The run the analysis above is of ("3" of "3 (label)").
    static func analyzedRun(_ header: RunHeader) -> String? {
        header.options["import.run"].map { String($0.prefix { $0 != " " }) }
    }

    static func render(_ header: RunHeader, slo: ServiceLevelObjectives) -> String {
        guard let t = table(header, slo: slo) else { return "" }
        func d(_ x: Double?) -> String { x.map(NumberFormat.duration) ?? "-" }
        func n(_ x: Double?) -> String { x.map { NumberFormat.significant($0) } ?? "-" }
        var titles = ["run"]
        if t.sweep { titles.append(t.closedLoop ? "concurrency" : "rate req/s") }
        titles += ["done req/s", "out tok/s", "tok/s", "TTFT mean", "TTFT p99", "TPOT mean", "TPOT p99", "E2E mean"]
        if !slo.isEmpty { titles.append("SLO") }
        if t.sweep && !t.closedLoop { titles.append("saturated") }
        var rows: [[String]] = [titles]
        for r in t.rows {
            let s = r.run.summary
            var row = [r.run.label]
            if t.sweep, let l = r.run.load { row.append(l.isInfinite ? "inf" : NumberFormat.significant(l, digits: 4)) }
            row += [n(s.requestThroughput), n(s.outputThroughput), n(s.totalTokenThroughput),
                    d(s.ttft.mean ?? s.ttft.p50), d(s.ttft.p99), d(s.tpot.mean ?? s.tpot.p50), d(s.tpot.p99), d(s.e2e.mean ?? s.e2e.p50)]
            if !slo.isEmpty { row.append(r.passes.map { $0 ? "pass" : "FAIL" } ?? "-") }
            if let saturated = r.saturated { row.append(saturated ? "yes" : "no") }
            rows.append(row)
        }
        var out = "\nRUNS IN THE FILE (\(t.rows.count); the analysis above is of run \(analyzedRun(header) ?? "\(t.rows.count)"); as the file reports them)\n"
        out += TextTable.aligned(rows)
        if let conclusion = t.conclusion {
            out += (out.hasSuffix("\n") ? "" : "\n") + "load-latency curve: " + (t.closedLoop ? "concurrency" : "request rate") + " ascending above\n"
            out += conclusion + "\n"
        }
        return out + "\n"
    }

    /// The same table for `analyze --json`: `{"analyzed_run", "load_kind", "sweep", "runs": [...],
    /// "conclusion"}` with times in seconds and throughputs per second, runs in the table's order;
    /// nil for a file with fewer than two runs.
    static func json(_ header: RunHeader, slo: ServiceLevelObjectives) -> JSONValue? {
        guard let t = table(header, slo: slo) else { return nil }
        let rows: [JSONValue] = t.rows.map { r in
            let s = r.run.summary
            return .object([
                "label": .string(r.run.label),
                "load": r.run.load.map { $0.isInfinite ? .string("inf") : .number($0) } ?? .null,
                "request_throughput": .num(s.requestThroughput), "output_throughput": .num(s.outputThroughput),
                "total_token_throughput": .num(s.totalTokenThroughput),
                "ttft_mean_s": .num(s.ttft.mean ?? s.ttft.p50), "ttft_p99_s": .num(s.ttft.p99),
                "tpot_mean_s": .num(s.tpot.mean ?? s.tpot.p50), "tpot_p99_s": .num(s.tpot.p99),
                "e2e_mean_s": .num(s.e2e.mean ?? s.e2e.p50),
                "slo_pass": r.passes.map { .bool($0) } ?? .null,
                "saturated": r.saturated.map { .bool($0) } ?? .null,
            ])
        }
        return .object(["analyzed_run": .str(analyzedRun(header)), "load_kind": .str(t.kind), "sweep": .bool(t.sweep),
                        "runs": .array(rows), "conclusion": .str(t.conclusion)])
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
