import Analysis
import TraceFormat

/// Whether a trace records a whole run, and if not, why: the writer never closed it (no `]`),
/// its last line is cut off, or requests arrived that never finished nor were aborted. A crashed
/// or interrupted run leaves such a trace; its metrics describe only the part that was written,
/// so every command that judges a trace says so on its first line, and `gate` fails on it unless
/// `--allow-incomplete`.
struct RunCompleteness: Sendable, Equatable {
    /// Each problem in one phrase ("the trace ends without its closing ']'"); empty when complete.
    var problems: [String]

    var isComplete: Bool { problems.isEmpty }

    static let complete = RunCompleteness(problems: [])

    /// From the reader's truncation warnings (the only warnings ``TraceReader`` gives) and the
    /// request counts of the analysis. O(warnings).
    init(readerWarnings: [TraceDiagnostic], requests: RequestCounts) {
        self.init(readerWarnings: readerWarnings, arrived: requests.arrived, ended: requests.completed + requests.aborted)
    }

    /// `arrived` requests of which `ended` finished or were aborted.
    init(readerWarnings: [TraceDiagnostic], arrived: Int, ended: Int) {
        var problems = readerWarnings.filter { $0.severity == .warning }.map { d in
            (d.line.map { "line \($0): " } ?? "") + d.message
        }
        let open = arrived - ended
        if open > 0 {
            problems.append("\(open) of \(Plural.count(arrived, "request")) still open (no finished or aborted record)")
        }
        self.problems = problems
    }

    init(problems: [String]) { self.problems = problems }

    /// The line every judging command prints first: "INCOMPLETE RUN: run.json: …; …".
    func headline(_ path: String) -> String {
        "INCOMPLETE RUN: \(TerminalText.escape(path)): " + problems.map(TerminalText.escape).joined(separator: "; ")
    }
}

/// An analysis with the completeness of the trace it came from.
struct AnalyzedTrace {
    var result: AnalysisResult
    var completeness: RunCompleteness
}

/// Singular or plural nouns in messages: "1 request", "3 requests".
enum Plural {
    /// "`n` noun" with an "s" (or `plural`) unless `n` is 1.
    static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
    }
}
