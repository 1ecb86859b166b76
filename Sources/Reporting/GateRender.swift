import Analysis

/// The three renderings of a ``GateReport``: an aligned text table for terminals and CI logs,
/// a Markdown table for pull-request comments and CI step summaries, and JSON for tools.
/// Deterministic: same report, same bytes.
public enum GateRender {
    /// Text table. `current`/`baseline` are the file names as the user gave them.
    public static func text(_ r: GateReport, current: String, baseline: String?) -> String {
        var out = incompleteLines(r).map { $0 + "\n" }.joined() + headline(r) + "\n"
        out += "current:  \(current)\n"
        if let baseline { out += "baseline: \(baseline)\n" }
        out += "\n"
        let keep = columns(r)
        let header = ["metric", "baseline", "current", "change", "limit", "status"].pick(keep)
        let rows = r.checks.map { cells($0).pick(keep) }
        out += TextTable.aligned([header] + rows)
        let reasons = uniqueReasons(r)
        if !reasons.isEmpty {
            out += "\n"
            for c in reasons { out += "\(c.rule.metric): \(c.reason)\n" }
        }
        out += "\n" + verdictLine(r) + "\n"
        if !r.notes.isEmpty {
            out += "not like for like:\n"
            for n in r.notes { out += "  \(n)\n" }
        }
        return out
    }

    /// GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` or a PR comment.
    public static func markdown(_ r: GateReport, current: String, baseline: String?) -> String {
        var out = incompleteLines(r).map { "**\($0)**\n\n" }.joined()
        out += "### InferScope gate: \(r.passed ? "✅ pass" : "❌ fail")\n\n"
        out += "Current `\(current)`" + (baseline.map { ", baseline `\($0)`" } ?? "") + ".\n\n"
        let keep = columns(r)
        let rows = r.checks.map { c in
            var row = cells(c)
            row[0] = "`\(row[0])`"
            if row[5] == "FAIL" { row[5] = "**FAIL**" }
            return row.pick(keep)
        }
        let numeric = Set([1, 2, 3].compactMap { keep.firstIndex(of: $0) })  // baseline, current, change
        out += TextTable.markdown(header: ["metric", "baseline", "current", "change", "limit", "status"].pick(keep),
                                  rows: rows, rightAligned: numeric)
        let reasons = uniqueReasons(r)
        if !reasons.isEmpty {
            out += "\n"
            for c in reasons { out += "- `\(c.rule.metric)`: \(c.reason)\n" }
        }
        out += "\n" + verdictLine(r) + "\n"
        if !r.notes.isEmpty {
            out += "\nNot like for like:\n"
            for n in r.notes { out += "- \(n)\n" }
        }
        return out
    }

    /// JSON document (schema in docs/gate.md).
    public static func json(_ r: GateReport, current: String, baseline: String?) -> String {
        func num(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let checks: [JSONValue] = r.checks.map { c in
            var rule: [String: JSONValue] = [:]
            switch c.rule.kind {
            case .bound(let atMost, let limit):
                rule = ["kind": .string("bound"), "relation": .string(atMost ? "<=" : ">="), "limit": .number(limit)]
            case .maxRegression(let f):
                rule = ["kind": .string("max-regression"), "budget": .number(f)]
            case .exact:
                rule = ["kind": .string("exact")]
            }
            return .object([
                "metric": .string(c.rule.metric), "unit": .string(c.unit.rawValue),
                "higher_is_better": .bool(c.higherIsBetter), "rule": .object(rule),
                "baseline": num(c.baseline), "current": num(c.current), "worsening": num(c.worsening),
                "samples": c.samples.map { .int($0) } ?? .null,
                "status": .string(c.status.rawValue), "reason": c.reason.isEmpty ? .null : .string(c.reason),
            ])
        }
        return JSONValue.object([
            "schema": .string("inferscope.gate/1"),
            "passed": .bool(r.passed),
            "current": .string(current),
            "baseline": baseline.map { .string($0) } ?? .null,
            "checks": .array(checks),
            "verdict": .object(["baseline": r.verdictBaseline.map { .string($0) } ?? .null,
                                "current": .string(r.verdictCurrent),
                                "change_fails": .bool(r.verdictChangeFails)]),
            "notes": .array(r.notes.map { .string($0) }),
            "incomplete": .array(r.incomplete.map { .string($0) }),
            "incomplete_fails": .bool(r.incompleteFails),
        ]).serialized()
    }

    /// Checks with a reason, each (metric, reason) once: a metric checked twice (a limit and a
    /// budget) is explained once.
    static func uniqueReasons(_ r: GateReport) -> [GateCheck] {
        var seen = Set<String>()
        return r.checks.filter { !$0.reason.isEmpty && seen.insert($0.rule.metric + "\u{0}" + $0.reason).inserted }
    }

    /// The table's columns: baseline and change only when there is a baseline.
    static func columns(_ r: GateReport) -> [Int] { r.verdictBaseline == nil ? [0, 2, 4, 5] : [0, 1, 2, 3, 4, 5] }

    /// "INCOMPLETE RUN: …" lines, first in every rendering.
    static func incompleteLines(_ r: GateReport) -> [String] {
        r.incomplete.map { "INCOMPLETE RUN: \($0)" + (r.incompleteFails ? "" : " (allowed by --allow-incomplete)") }
    }

    static func headline(_ r: GateReport) -> String {
        let failed = r.checks.filter { $0.status == .fail }.count
        let verdictFailed = r.verdictChangeFails && r.verdictBaseline != nil && r.verdictBaseline != r.verdictCurrent
        var parts = ["\(failed) of \(r.checks.count) \(r.checks.count == 1 ? "check" : "checks") failed"]
        if r.incompleteFails { parts.insert("incomplete run", at: 0) }
        if verdictFailed { parts.append("the verdict changed") }
        return "gate: \(r.passed ? "PASS" : "FAIL") (\(parts.joined(separator: "; ")))"
    }

    static func verdictLine(_ r: GateReport) -> String {
        guard let before = r.verdictBaseline else { return "verdict: \(r.verdictCurrent)" }
        if before == r.verdictCurrent { return "verdict: \(before) → \(r.verdictCurrent) (unchanged)" }
        return "verdict: \(before) → \(r.verdictCurrent) (changed\(r.verdictChangeFails ? ", fails the gate" : ""))"
    }

    static func cells(_ c: GateCheck) -> [String] {
        let change: String
        if let b = c.baseline, let v = c.current, b != 0 {
            let relative = (v - b) / abs(b)
            change = (relative >= 0 ? "+" : "") + NumberFormat.percent(relative)
        } else {
            change = "-"
        }
        let limit: String
        switch c.rule.kind {
        case .bound(let atMost, let x): limit = (atMost ? "≤ " : "≥ ") + format(x, c.unit)
        case .maxRegression(let f): limit = "≤ \(NumberFormat.percent(f)) worse"
        case .exact: limit = "= baseline"
        }
        return [c.rule.metric, c.baseline.map { format($0, c.unit) } ?? "-", c.current.map { format($0, c.unit) } ?? "-",
                change, limit, c.status == .pass ? "pass" : "FAIL"]
    }

    static func format(_ x: Double, _ unit: GateMetric.Unit) -> String {
        switch unit {
        case .seconds: return NumberFormat.duration(x)
        case .tokensPerSecond: return NumberFormat.significant(x) + " tok/s"
        case .requestsPerSecond: return NumberFormat.significant(x) + " req/s"
        case .share: return NumberFormat.percent(x)
        case .count: return NumberFormat.significant(x)
        }
    }
}

extension Array {
    fileprivate func pick(_ indices: [Int]) -> [Element] { indices.map { self[$0] } }
}
