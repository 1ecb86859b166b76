import Analysis

/// A ``GateReport`` as JUnit XML, the test-report format CI systems display (GitHub Actions
/// test reporters, GitLab, Jenkins): one `<testsuites>` holding one `<testsuite>`, one
/// `<testcase>` per check (plus one for the run's completeness and, when it can fail the gate,
/// one for the verdict). A failed check carries a `<failure message=…>`. Required elements and
/// attributes of the common JUnit schema are always present: testsuites/testsuite `name`,
/// `tests`, `failures`, `errors`; testcase `name`, `classname`. Deterministic.
public enum GateJUnit {
    public static func render(_ r: GateReport, current: String, baseline: String?) -> String {
        var cases: [(name: String, failure: String?)] = []
        for c in r.checks {
            let cells = GateRender.cells(c)
            let name = "\(c.rule.metric) \(cells[4])"
            var failure: String?
            if c.status == .fail {
                var parts = ["\(c.rule.metric) = \(cells[2])"]
                if c.baseline != nil { parts.append("baseline \(cells[1]), change \(cells[3])") }
                parts.append("limit \(cells[4])")
                if !c.reason.isEmpty { parts.append(c.reason) }
                failure = parts.joined(separator: "; ")
            }
            cases.append((name, failure))
        }
        let incomplete = r.incomplete.joined(separator: "; ")
        cases.append(("run is complete", r.incompleteFails ? "incomplete run: \(incomplete)" : nil))
        if r.verdictChangeFails, let before = r.verdictBaseline {
            cases.append(("verdict unchanged", before == r.verdictCurrent ? nil : "verdict changed: \(before) → \(r.verdictCurrent)"))
        }
        let failures = cases.filter { $0.failure != nil }.count
        let suite = "inferscope gate: " + current + (baseline.map { " vs " + $0 } ?? "")
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"inferscope gate\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\">\n"
        out += "  <testsuite name=\"\(xml(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\">\n"
        for c in cases {
            out += "    <testcase name=\"\(xml(c.name))\" classname=\"inferscope.gate\""
            if let failure = c.failure {
                out += ">\n      <failure message=\"\(xml(failure))\" type=\"gate\">\(xml(failure))</failure>\n    </testcase>\n"
            } else {
                out += "/>\n"
            }
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// XML 1.0 text: markup escaped, control characters other than tab/newline replaced by U+FFFD
    /// (XML 1.0 cannot hold them at all).
    static func xml(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
