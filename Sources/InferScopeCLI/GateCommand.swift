import Analysis
import Reporting

/// `inferscope gate TRACE [--baseline TRACE] [--require EXPR]… [--budget METRIC=PCT]…
/// [--max-regression PCT] [--fail-on-verdict-change] [--slo SPEC] [--hardware NAME]
/// [--format text|markdown|json]`: holds a run to absolute limits and, against a baseline run,
/// to regression budgets. Exit 0 pass, 1 fail (or unreadable trace), 2 usage. The report is
/// printed either way, so CI logs show what failed.
struct GateCommand: Command {
    let spec = CommandSpec(
        name: "gate",
        abstract: "Gate performance in CI: hold a trace to limits and to a baseline trace.",
        discussion: """
            Analyses TRACE (and --baseline) as 'analyze' does, then checks each rule. --require \
            takes METRIC<=VALUE or METRIC>=VALUE (ttft.p99<=200ms, throughput.output>=450, \
            goodput.attainment>=95%). With --baseline, each default metric (throughput.output, \
            ttft.p50, ttft.p99, tpot.p50, tpot.p99, itl.p99) may be at most --max-regression worse \
            than the baseline, in its bad direction; --budget METRIC=PCT sets one metric's budget \
            (and adds it if it is not a default). A metric the trace lacks fails the gate, never \
            passes it silently. Exit 0 when every check passes, 1 when one fails. Metric names: \
            --list-metrics; schema and CI recipes: docs/gate.md.
            """,
        arguments: [ArgumentSpec("TRACE", help: "The trace of the run to judge.", optional: true)],
        options: [
            .value("--baseline", "TRACE", help: "A trace of the reference run to compare against."),
            .value("--require", "EXPR", help: "An absolute limit, e.g. ttft.p99<=200ms (repeatable).", repeatable: true),
            .value("--budget", "METRIC=PCT", help: "One metric's allowed regression vs the baseline, e.g. ttft.p99=20% (repeatable).",
                   repeatable: true),
            .value("--max-regression", "PCT", help: "Allowed regression of the default metrics vs the baseline (10% when not given)."),
            .flag("--fail-on-verdict-change", help: "Fail when the workload verdict (prefill-/decode-/load-bound) differs from the baseline's."),
            .value("--slo", "SPEC", help: "SLO targets for goodput metrics, e.g. ttft=200ms,tpot=50ms."),
            .value("--hardware", "NAME|FILE.json", help: "Hardware for the roofline metrics (mbu.*, mfu.*) when the trace has no peaks."),
            .value("--format", "FORMAT", help: "text, markdown (for a CI step summary or PR comment) or json.", default: "text"),
            .flag("--list-metrics", help: "List the metric names and exit."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if arguments.flag("--list-metrics") {
            context.stdout.write(Self.metricList())
            return .success
        }
        guard let path = arguments.arguments("TRACE").first else {
            throw UsageError("missing argument 'TRACE' (or give --list-metrics)")
        }
        let format = arguments.value("--format") ?? "text"
        guard ["text", "markdown", "json"].contains(format) else {
            throw UsageError("option '--format' expects text, markdown or json, found '\(format)'")
        }
        let baselinePath = arguments.value("--baseline")
        let rules = try Self.rules(arguments, hasBaseline: baselinePath != nil)
        guard !rules.isEmpty else {
            throw UsageError("nothing to check: give --baseline TRACE, or one or more --require limits such as ttft.p99<=200ms")
        }

        let options = try AnalyzeCommand.commonOptions(arguments, context)
        let current = try AnalyzeCommand.analyze(path, options: options, context: context)
        let baseline = try baselinePath.map { try AnalyzeCommand.analyze($0, options: options, context: context) }

        let report = Gate(rules: rules, failOnVerdictChange: arguments.flag("--fail-on-verdict-change"))
            .evaluate(current: current, baseline: baseline)
        switch format {
        case "markdown": context.stdout.write(GateRender.markdown(report, current: path, baseline: baselinePath))
        case "json": context.stdout.write(GateRender.json(report, current: path, baseline: baselinePath))
        default: context.stdout.write(GateRender.text(report, current: path, baseline: baselinePath))
        }
        return report.passed ? .success : .failure
    }

    /// The rules in the order the report lists them: requirements as given, then budgets (the
    /// defaults first, each overridden by a `--budget` on the same metric, then extra budgets).
    static func rules(_ a: ParsedArguments, hasBaseline: Bool) throws -> [GateRule] {
        var rules: [GateRule] = []
        do {
            for expression in a.values("--require") { rules.append(try GateRule.parseRequirement(expression)) }
            let budgets = try a.values("--budget").map { e throws(GateRuleError) in try GateRule.parseBudget(e) }
            let explicitMax = a.value("--max-regression")
            guard hasBaseline else {
                if !budgets.isEmpty { throw UsageError("option '--budget' compares against a baseline: add --baseline TRACE") }
                if explicitMax != nil { throw UsageError("option '--max-regression' compares against a baseline: add --baseline TRACE") }
                return rules
            }
            let fraction = try GateRule.percentage(explicitMax ?? "10%", option: "--max-regression", expression: explicitMax ?? "10%")
            for name in GateMetric.defaultRegressionChecks {
                rules.append(budgets.last { $0.metric == name } ?? GateRule(metric: name, kind: .maxRegression(fraction)))
            }
            var seen = Set(GateMetric.defaultRegressionChecks)
            for budget in budgets where !seen.contains(budget.metric) {
                seen.insert(budget.metric)
                rules.append(budgets.last { $0.metric == budget.metric }!)  // the last one given wins
            }
        } catch let error as GateRuleError {
            throw UsageError(error.description)
        }
        return rules
    }

    static func metricList() -> String {
        let width = GateMetric.all.map(\.name.count).max() ?? 0
        var out = "metric" + String(repeating: " ", count: width - 6) + "  unit        better  meaning\n"
        for m in GateMetric.all {
            let unit = m.unit.rawValue
            out += m.name + String(repeating: " ", count: width - m.name.count) + "  "
                + unit + String(repeating: " ", count: max(1, 12 - unit.count))
                + (m.higherIsBetter ? "higher  " : "lower   ") + m.help + "\n"
        }
        return out
    }
}
