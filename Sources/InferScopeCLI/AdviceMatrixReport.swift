import Analysis
import Reporting

/// The advice matrix's report in text, Markdown and JSON: per scenario the candidates with their
/// rank, predicted and measured factors (median and range over repetitions; CPU-time factor for
/// throughput), error, the oracle, tie and hit; then top-1 agreement, mean Kendall τ-b and
/// |prediction error| per rule and objective, each against the issue's goal.
public enum AdviceMatrixReport {
    public enum Format: Sendable { case text, markdown, json }

    /// Context lines (date, host, command, run time), rendered above the tables.
    public static func render(_ scenarios: [AdviceMatrix.Scenario], context: [(String, String)], format: Format) -> String {
        switch format {
        case .json: return json(scenarios, context: context).serialized()
        case .text, .markdown: return table(scenarios, context: context, markdown: format == .markdown)
        }
    }

    static func f2(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "n/a" }
        return NumberFormat.fixed(x, decimals: 2)
    }

    static func pct(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "n/a" }
        return NumberFormat.fixed(x * 100, decimals: 1) + "%"
    }

    static func describe(_ change: [String: String]) -> String {
        change.isEmpty ? "-" : AdviceVerifier.describe(change)
    }

    static func table(_ scenarios: [AdviceMatrix.Scenario], context: [(String, String)], markdown: Bool) -> String {
        var out = markdown ? "" : "inferscope-bench advice\n"
        for (k, v) in context { out += markdown ? "- \(k): \(v)\n" : "  \(k): \(v)\n" }
        func grid(_ rows: [[String]]) -> String {
            if markdown {
                var s = "| " + rows[0].joined(separator: " | ") + " |\n"
                s += "|" + rows[0].map { _ in "---|" }.joined() + "\n"
                for r in rows.dropFirst() { s += "| " + r.joined(separator: " | ") + " |\n" }
                return s
            }
            let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
            return rows.map { r in
                "  " + r.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").replacing(/\s+$/, with: "")
            }.joined(separator: "\n") + "\n"
        }
        // Overview: one line per scenario.
        var overview = [["setup", "model", "objective", "analyzer top", "oracle", "runner-up", "tie", "hit", "τ-b", "τ-b resolved"]]
        for s in scenarios {
            overview.append([s.setup, s.model, s.objective.rawValue, s.analyzerTop, s.oracle ?? "n/a", s.runnerUp ?? "-",
                             s.isTie ? "tie {\(s.tieSet.joined(separator: ","))}" : "-",
                             s.hit.map { $0 ? "hit" : "MISS" } ?? "n/a", f2(s.kendallTau), f2(s.kendallTauResolved)])
        }
        out += (markdown ? "\n### Scenarios\n\n" : "\nSCENARIOS\n") + grid(overview)
        // Details: every candidate.
        out += markdown ? "\n### Candidates (factors > 1 are better; median [min–max] over repetitions)\n\n"
                        : "\nCANDIDATES (factors > 1 are better; median [min-max] over repetitions)\n"
        var detail = [["setup", "model", "objective", "candidate", "change", "fired", "rank", "predicted", "measured", "range", "cpu-time", "|error|"]]
        for s in scenarios {
            for c in s.candidates {
                detail.append([s.setup, s.model, s.objective.rawValue, c.id, describe(c.change), c.triggered ? "yes" : "no",
                               c.rank.map(String.init) ?? "-", f2(c.predicted), f2(c.measured),
                               c.range.map { "\(f2($0.lowerBound))–\(f2($0.upperBound))" } ?? (c.note.map { "failed: \($0.prefix(60))" } ?? "n/a"),
                               c.cpuSamples.isEmpty ? "-" : f2(c.cpuMeasured), c.id == AdviceMatrix.noChange ? "-" : pct(c.relativeError)])
            }
        }
        out += grid(detail)
        let sum = AdviceMatrix.summarize(scenarios)
        out += markdown ? "\n### Summary\n\n" : "\nSUMMARY\n"
        var totals = [["figure", "value", "goal"]]
        totals.append(["top-1 agreement (ties = hits)", sum.topOneAgreement.map { "\(pct($0)) (\(sum.hits)/\(sum.judged), \(sum.ties) ties)" } ?? "n/a", "≥ 80%"])
        totals.append(["mean Kendall τ-b", sum.meanKendallTau.map { "\(f2($0)) over \(sum.tauScenarios) scenarios" } ?? "n/a", "≥ 0.6"])
        totals.append(["mean Kendall τ-b, measured ties = overlapping ranges",
                       sum.meanKendallTauResolved.map { "\(f2($0)) over \(sum.tauResolvedScenarios) scenarios" } ?? "n/a", "≥ 0.6"])
        for e in sum.objectiveErrors {
            let goal = AdviceVerifier.higherIsBetter(e.objective) ? "≤ 15%" : "≤ 25%"
            totals.append(["median |error| \(e.objective.rawValue) (p90)", "\(pct(e.median)) (\(pct(e.p90)), n = \(e.count))", goal])
        }
        out += grid(totals)
        out += markdown ? "\n### |Prediction error| per rule and objective\n\n" : "\n|PREDICTION ERROR| PER RULE AND OBJECTIVE\n"
        var rules = [["rule", "objective", "n", "median", "p90"]]
        for e in sum.errors { rules.append([e.rule, e.objective.rawValue, String(e.count), pct(e.median), pct(e.p90)]) }
        out += grid(rules)
        return out
    }

    static func json(_ scenarios: [AdviceMatrix.Scenario], context: [(String, String)]) -> JSONValue {
        func num(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let sum = AdviceMatrix.summarize(scenarios)
        let items: [JSONValue] = scenarios.map { s in
            .object([
                "setup": .string(s.setup), "model": .string(s.model), "objective": .string(s.objective.rawValue),
                "profile": .array(s.profile.map(JSONValue.string)), "baseline_value": num(s.baselineValue),
                "analyzer_top": .string(s.analyzerTop), "oracle": s.oracle.map(JSONValue.string) ?? .null,
                "runner_up": s.runnerUp.map(JSONValue.string) ?? .null, "tie": .bool(s.isTie),
                "tie_set": .array(s.tieSet.map(JSONValue.string)), "hit": s.hit.map(JSONValue.bool) ?? .null,
                "kendall_tau_b": num(s.kendallTau), "kendall_tau_b_resolved": num(s.kendallTauResolved),
                "candidates": .array(s.candidates.map { c in
                    .object([
                        "id": .string(c.id), "change": .object(c.change.mapValues(JSONValue.string)),
                        "triggered": .bool(c.triggered), "rank": c.rank.map(JSONValue.int) ?? .null,
                        "predicted": num(c.predicted), "measured": num(c.measured),
                        "samples": .array(c.samples.map(JSONValue.number)),
                        "cpu_measured": num(c.cpuMeasured), "cpu_samples": .array(c.cpuSamples.map(JSONValue.number)),
                        "abs_error": c.id == AdviceMatrix.noChange ? .null : num(c.relativeError),
                        "note": c.note.map(JSONValue.string) ?? .null,
                    ])
                }),
            ])
        }
        func stat(_ e: AdviceMatrix.Summary.ErrorStat) -> JSONValue {
            .object(["rule": .string(e.rule), "objective": .string(e.objective.rawValue), "count": .int(e.count),
                     "median_abs_error": .number(e.median), "p90_abs_error": .number(e.p90)])
        }
        return .object([
            "bench": .string("advice"),
            "context": .object(Dictionary(context, uniquingKeysWith: { a, _ in a }).mapValues(JSONValue.string)),
            "scenarios": .array(items),
            "summary": .object([
                "scenarios": .int(sum.scenarios), "judged": .int(sum.judged), "hits": .int(sum.hits), "ties": .int(sum.ties),
                "top1_agreement": num(sum.topOneAgreement), "mean_kendall_tau_b": num(sum.meanKendallTau),
                "tau_scenarios": .int(sum.tauScenarios),
                "mean_kendall_tau_b_resolved": num(sum.meanKendallTauResolved), "tau_resolved_scenarios": .int(sum.tauResolvedScenarios),
                "errors_per_rule": .array(sum.errors.map(stat)), "errors_per_objective": .array(sum.objectiveErrors.map(stat)),
            ]),
        ])
    }
}
