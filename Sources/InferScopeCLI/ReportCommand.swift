import Analysis
import Reporting
import TraceFormat

/// `inferscope report TRACE [-o FILE.html] [--hardware …] [--objective …] [--slo …]`: the analysis
/// as one self-contained HTML page with charts (where time goes over time, tokens/s, batch and
/// queue, KV usage, the roofline) beside the verdict and the ranked advice. Exit 0 written,
/// 1 unreadable trace or unwritable output, 2 usage. Never overwrites a file InferScope did not write.
struct ReportCommand: Command {
    let spec = CommandSpec(
        name: "report",
        abstract: "Write the analysis of a trace as a self-contained HTML page with charts.",
        discussion: """
            The page holds the verdict with its evidence, headline latencies and utilisations, charts \
            of the run over time (share of engine time per phase, tokens per second, batch size and \
            queue, KV-cache usage), the roofline with each phase placed on it, the ranked \
            recommendations with their predicted gains, and the full text report. No scripts and \
            no external files: it opens offline in any browser. The output defaults to the trace's \
            name with .html; an existing file is replaced only if it is an earlier InferScope report.
            """,
        arguments: [ArgumentSpec("TRACE", help: "The trace file.")],
        options: [
            .value("--output", short: "-o", "FILE.html", help: "Where to write the page (default: TRACE with .html)."),
            .value("--hardware", "NAME|host|FILE.json", help: "Hardware for the roofline, as in 'analyze'."),
            .value("--objective", "OBJECTIVE", help: "Rank for throughput, ttft, tpot, itl or cost.", default: "throughput"),
            .value("--slo", "SPEC", help: "Targets, e.g. ttft=200ms,tpot=50ms (bare numbers are ms)."),
            .value("--buckets", "N", help: "Time intervals in the charts.", default: "300"),
            .flag("--json", help: "Print the summary of what was written as JSON (schema inferscope.report/1, docs/json-output.md)."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        let path = try arguments.argument("TRACE")
        let output = arguments.value("--output") ?? Self.defaultOutput(for: path)
        guard let buckets = try arguments.int("--buckets"), (10...5000).contains(buckets) else {
            throw UsageError("option '--buckets' expects an integer in 10…5000")
        }
        let options = try AnalyzeCommand.commonOptions(arguments, context)
        let target = context.resolve(output)
        try OutputFile.checkReplaceable(target, as: .htmlReport, shownAs: output)

        var timeline = TimelineCollector()
        let analyzed = try AnalyzeCommand.analyzeTrace(path, options: options, context: context) { timeline.consume($0) }
        let result = analyzed.result
        let warning = analyzed.completeness.isComplete ? nil : analyzed.completeness.headline(path)
        let page = HTMLReport.render(result, timeline: timeline.finish(buckets: buckets), source: path, warning: warning)
        try OutputFile.writeAtomically(page, to: target, shownAs: output)
        if arguments.flag("--json") {
            context.stdout.write(JSONValue.object([
                "schema": .string("inferscope.report/1"), "trace": .string(path), "output": .string(output),
                "complete": .bool(analyzed.completeness.isComplete),
                "incomplete": .array(analyzed.completeness.problems.map { .string($0) }),
                "verdict": .string(result.verdict.workload.rawValue), "recommendations": .int(result.ranking.entries.count),
            ]).serialized())
            return .success
        }
        if let warning { context.stdout.write(warning + "\n") }
        context.stdout.write("wrote \(output) (\(result.verdict.workload.rawValue); \(result.ranking.entries.count) ranked recommendations)\n")
        return .success
    }

    /// `run/trace.json` → `run/trace.html`; a name without an extension gets `.html` appended.
    static func defaultOutput(for trace: String) -> String {
        let slash = trace.lastIndex(of: "/")
        if let dot = trace.lastIndex(of: "."), slash.map({ dot > $0 }) ?? true, dot != trace.startIndex {
            return String(trace[..<dot]) + ".html"
        }
        return trace + ".html"
    }
}
