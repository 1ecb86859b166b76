import Analysis
import Reporting
import TraceFormat

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
        arguments: [ArgumentSpec("TRACE", help: "The trace(s) of the run to judge (several: reruns of one configuration, pooled).",
                                 optional: true, variadic: true)],
        options: [
            .values("--baseline", "TRACE", help: "Trace(s) of the reference run (--baseline A1 A2 A3); several are pooled, see docs/gate.md."),
            .value("--require", "EXPR", help: "An absolute limit, e.g. ttft.p99<=200ms (repeatable).", repeatable: true),
            .value("--budget", "METRIC=PCT", help: "One metric's allowed regression vs the baseline, e.g. ttft.p99=20% (repeatable).",
                   repeatable: true),
            .value("--max-regression", "PCT", help: "Allowed regression of the default metrics vs the baseline (10% when not given)."),
            .flag("--fail-on-verdict-change", help: "Fail when the workload verdict (prefill-/decode-/load-bound) differs from the baseline's."),
            .value("--slo", "SPEC", help: "SLO targets for goodput metrics, e.g. ttft=200ms,tpot=50ms."),
            .value("--hardware", "NAME|FILE.json", help: "Hardware for the roofline metrics (mbu.*, mfu.*) when the trace has no peaks."),
            .value("--format", "FORMAT", help: "text, markdown (for a CI step summary or PR comment) or json.", default: "text"),
            .flag("--json", help: "Print the JSON document (same as --format json)."),
            .value("--junit", "FILE.xml", help: "Also write the checks as JUnit XML, one test case per check."),
            .value("--summary", "FILE.md", help: "Also write the Markdown report there (it is appended to $GITHUB_STEP_SUMMARY when that is set)."),
            .flag("--allow-incomplete", help: "Do not fail on a trace of an incomplete run (cut off, requests still open); it is still reported."),
            .flag("--list-metrics", help: "List the metric names and exit."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if arguments.flag("--list-metrics") {
            context.stdout.write(Self.metricList())
            return .success
        }
        let paths = arguments.arguments("TRACE")
        guard !paths.isEmpty else {
            throw UsageError("missing argument 'TRACE' (or give --list-metrics)")
        }
        let format = arguments.flag("--json") ? "json" : arguments.value("--format") ?? "text"
        guard ["text", "markdown", "json"].contains(format) else {
            throw UsageError("option '--format' expects text, markdown or json, found '\(format)'")
        }
        let baselinePaths = arguments.values("--baseline")
        let baselinePath = baselinePaths.isEmpty ? nil : baselinePaths.joined(separator: " ")
        let rules = try Self.rules(arguments, hasBaseline: baselinePath != nil)
        guard !rules.isEmpty else {
            throw UsageError("nothing to check: give --baseline TRACE, or one or more --require limits such as ttft.p99<=200ms")
        }

        let options = try AnalyzeCommand.commonOptions(arguments, context)
        var incomplete: [String] = []
        func load(_ file: String) throws -> GateRun {
            var samples = RequestSamples()
            let analyzed = try AnalyzeCommand.analyzeTrace(file, options: options, context: context) { samples.consume($0) }
            if !analyzed.completeness.isComplete {
                incomplete.append(file + ": " + analyzed.completeness.problems.joined(separator: "; "))
            }
            return GateRun(result: analyzed.result, samples: samples)
        }
        let current = try paths.map(load)
        let baseline = try baselinePaths.map(load)

        var report = Gate(rules: rules, failOnVerdictChange: arguments.flag("--fail-on-verdict-change"))
            .evaluate(current: current, baseline: baseline)
        report.markIncomplete(incomplete, fails: !arguments.flag("--allow-incomplete"))
        let shown = paths.joined(separator: " ")
        let markdown = GateRender.markdown(report, current: shown, baseline: baselinePath)
        try Self.writeReports(report, markdown: markdown, current: shown, baseline: baselinePath, arguments, context)
        switch format {
        case "markdown": context.stdout.write(markdown)
        case "json": context.stdout.write(GateRender.json(report, current: shown, baseline: baselinePath))
        default: context.stdout.write(GateRender.text(report, current: shown, baseline: baselinePath))
        }
        return report.passed ? .success : .failure
    }

    /// `--junit`, `--summary` and `$GITHUB_STEP_SUMMARY` (appended to, as GitHub expects: each
    /// step adds its own section). Written before the report is printed, atomically; a file
    /// InferScope did not write is never replaced (the step summary is the runner's own file).
    static func writeReports(_ report: GateReport, markdown: String, current: String, baseline: String?,
                             _ arguments: ParsedArguments, _ context: CommandContext) throws {
        if let junit = arguments.value("--junit") {
            let target = context.resolve(junit)
            try OutputFile.checkReplaceable(target, as: .junit, shownAs: junit)
            try OutputFile.writeAtomically(GateJUnit.render(report, current: current, baseline: baseline), to: target, shownAs: junit)
        }
        if let summary = arguments.value("--summary") {
            let target = context.resolve(summary)
            try OutputFile.checkReplaceable(target, as: .gateSummary, shownAs: summary)
            try OutputFile.writeAtomically(markdown, to: target, shownAs: summary)
        }
        if let step = context.environment["GITHUB_STEP_SUMMARY"], !step.isEmpty {
            try OutputFile.append(markdown + "\n", to: context.resolve(step), shownAs: "$GITHUB_STEP_SUMMARY (\(step))")
        }
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
