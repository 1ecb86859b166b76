import Analysis
import Importers
import Reporting
import TraceFormat

/// `inferscope diff A B [--format text|markdown|json] [--threshold PCT] [--hardware …] [--slo …]
/// [--from FORMAT]`: every metric of run A against run B with its change, and the change
/// attributed to its mechanisms (``RunDiff``). A diff reports; it does not judge (`gate` does):
/// exit 0 when both traces were read, 1 when one cannot be, 2 usage. An incomplete run is named
/// on the first lines, as `analyze` does.
struct DiffCommand: Command {
    let spec = CommandSpec(
        name: "diff",
        abstract: "Compare two runs: every metric's change and where it comes from.",
        discussion: """
            Analyses A (before) and B (after) as 'analyze' does — InferScope traces or any file \
            'analyze' reads — and prints what moved: the findings first (which headline metric \
            changed and which mechanism explains it), then the drivers (time per output token \
            split additively into prefill, decode, idle and other; per-phase step time; decode \
            batch; KV occupancy; preemptions; speculative acceptance; queueing; prefix hits), \
            then every gate metric with A, B and B/A − 1. Changes under --threshold count as \
            unchanged. To fail CI on a change, use 'gate --baseline'.
            """,
        arguments: [ArgumentSpec("A", help: "The earlier run (trace or foreign file)."),
                    ArgumentSpec("B", help: "The later run.")],
        options: [
            .value("--format", "FORMAT", help: "text, markdown (a PR comment) or json.", default: "text"),
            .flag("--json", help: "Print the JSON document (schema inferscope.diff/1; same as --format json)."),
            .value("--threshold", "PCT", help: "Relative changes below this count as unchanged.", default: "2%"),
            .value("--hardware", "NAME|host|FILE.json", help: "Hardware for the roofline metrics (mbu.*, mfu.*), as in 'analyze'."),
            .value("--slo", "SPEC", help: "Targets for the goodput metrics, e.g. ttft=200ms,tpot=50ms."),
            .value("--from", "FORMAT", help: "The inputs' format when not auto-detected (as in 'analyze').", default: "auto"),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        let pathA = try arguments.argument("A"), pathB = try arguments.argument("B")
        let format = arguments.flag("--json") ? "json" : (arguments.value("--format") ?? "text").lowercased()
        guard ["text", "markdown", "json"].contains(format) else {
            throw UsageError("option '--format' expects text, markdown or json, found '\(format)'")
        }
        let thresholdText = arguments.value("--threshold") ?? "2%"
        let percent = thresholdText.hasSuffix("%")
        guard let raw = Double(percent ? String(thresholdText.dropLast()) : thresholdText), raw.isFinite, raw >= 0,
              (percent ? raw / 100 : raw) < 1 else {
            throw UsageError("option '--threshold' expects a share such as 2% or 0.02 (below 100%), found '\(thresholdText)'")
        }
        let options = try AnalyzeCommand.commonOptions(arguments, context)
        let importing = AnalyzeCommand.ImportRequest(format: (arguments.value("--from") ?? "auto").lowercased(),
                                      options: ImportOptions(), metrics: nil)
        let a = try AnalyzeCommand.analyzeTrace(pathA, options: options, context: context, importing: importing)
        let b = try AnalyzeCommand.analyzeTrace(pathB, options: options, context: context, importing: importing)
        let diff = RunDiff(a: a.result, b: b.result, threshold: percent ? raw / 100 : raw)
        switch format {
        case "json":
            context.stdout.write(DiffRender.json(diff, a: pathA, b: pathB, incomplete: Self.incomplete([(pathA, a), (pathB, b)])))
        case "markdown":
            context.stdout.write(Self.headlines([(pathA, a), (pathB, b)]) + DiffRender.markdown(diff, a: pathA, b: pathB))
        default:
            context.stdout.write(Self.headlines([(pathA, a), (pathB, b)]) + DiffRender.text(diff, a: pathA, b: pathB))
        }
        return .success
    }

    static func headlines(_ runs: [(String, AnalyzedTrace)]) -> String {
        runs.filter { !$0.1.completeness.isComplete }.map { $0.1.completeness.headline($0.0) + "\n" }.joined()
    }

    static func incomplete(_ runs: [(String, AnalyzedTrace)]) -> [String] {
        runs.flatMap { path, t in t.completeness.problems.map { "\(path): \($0)" } }
    }
}
