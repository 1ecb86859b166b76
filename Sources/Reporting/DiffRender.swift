import Analysis

/// `inferscope diff` output: the findings first, then the drivers (attribution), then every
/// metric. Text (aligned tables), Markdown (GitHub tables, for a PR comment) and JSON
/// (schema `inferscope.diff/1`, docs/json-output.md). Deterministic; O(metrics).
public enum DiffRender {
    static func value(_ x: Double?, _ unit: GateMetric.Unit) -> String {
        RunDiff.fmt(x, unit == .seconds ? "s" : unit == .share ? "share" : unit.rawValue)
    }

    static func metricRows(_ d: RunDiff) -> [[String]] {
        [["metric", "A", "B", "change", ""]] + d.metrics.map { m in
            [m.name, value(m.a, m.unit), value(m.b, m.unit), m.relative.map(RunDiff.percentChange) ?? "-",
             m.direction == .unchanged ? "" : m.direction.rawValue]
        }
    }

    static func driverRows(_ d: RunDiff) -> [[String]] {
        [["driver", "A", "B", "change"]] + d.drivers.map { x in
            let change: String
            if let c = x.contribution { change = RunDiff.signed(c, "s") }
            else if let r = x.relative { change = RunDiff.percentChange(r) }
            else { change = "-" }
            return [x.name, RunDiff.fmt(x.a, x.unit), RunDiff.fmt(x.b, x.unit), change]
        }
    }

    public static func text(_ d: RunDiff, a: String, b: String) -> String {
        var out = "InferScope diff: A = \(a), B = \(b)\n"
        out += "verdict: \(d.verdictA) → \(d.verdictB)\n\nFINDINGS\n"
        for f in d.findings { out += "  - \(f)\n" }
        out += "\nWHERE THE CHANGE COMES FROM (time per output token splits additively by phase)\n"
        out += indent(TextTable.aligned(driverRows(d)))
        out += "\nMETRICS (change = B/A − 1; better/worse in the metric's own direction, ±\(NumberFormat.percent(d.threshold)) counts as unchanged)\n"
        out += indent(TextTable.aligned(metricRows(d)))
        return out
    }

    static func indent(_ table: String) -> String {
        table.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                let trimmed = String(line.reversed().drop { $0 == " " }.reversed())
                return trimmed.isEmpty ? "" : "  " + trimmed
            }.joined(separator: "\n") + (table.hasSuffix("\n") ? "" : "\n")
    }

    public static func markdown(_ d: RunDiff, a: String, b: String) -> String {
        func table(_ rows: [[String]]) -> String {
            var s = "| " + rows[0].map { $0.isEmpty ? " " : $0 }.joined(separator: " | ") + " |\n"
            s += "|" + rows[0].enumerated().map { $0.offset == 0 ? "---" : "---:" }.joined(separator: "|") + "|\n"
            for r in rows.dropFirst() { s += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
            return s
        }
        var out = "## InferScope diff\n\nA = `\(a)`, B = `\(b)`; verdict: \(d.verdictA) → \(d.verdictB)\n\n"
        for f in d.findings { out += "- \(f)\n" }
        out += "\n### Where the change comes from\n\n" + table(driverRows(d))
        out += "\n### Metrics\n\n" + table(metricRows(d))
        return out
    }

    public static func json(_ d: RunDiff, a: String, b: String, incomplete: [String] = []) -> String {
        func n(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let doc: JSONValue = .object([
            "schema": .string("inferscope.diff/1"),
            "a": .string(a), "b": .string(b),
            "verdict": .object(["a": .string(d.verdictA), "b": .string(d.verdictB)]),
            "threshold": .number(d.threshold),
            "complete": .bool(incomplete.isEmpty), "incomplete": .array(incomplete.map { .string($0) }),
            "findings": .array(d.findings.map { .string($0) }),
            "drivers": .array(d.drivers.map { x in
                .object(["name": .string(x.name), "unit": .string(x.unit), "a": n(x.a), "b": n(x.b),
                         "relative": n(x.relative), "contribution_s": n(x.contribution)])
            }),
            "metrics": .array(d.metrics.map { m in
                .object(["name": .string(m.name), "unit": .string(m.unit.rawValue), "higher_is_better": .bool(m.higherIsBetter),
                         "a": n(m.a), "b": n(m.b), "relative": n(m.relative), "direction": .string(m.direction.rawValue)])
            }),
        ])
        return doc.serialized()
    }
}
