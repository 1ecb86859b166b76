import Analysis
import Reporting
import TraceFormat

/// `analyze --verify`: proves (or disproves) the analyzer's advice on InferScope's own runtime.
///
/// The run header of a trace recorded by `inferscope profile` holds the model reference, every
/// runtime option and the workload with its seed. The verifier turns it back into `profile`
/// arguments, runs the same workload again as a baseline, then once more per recommendation with
/// the recommendation's ``Recommendation/runtimeChange`` applied, analyzes every new trace with the
/// same options, and compares the predicted gain with the measured one on each objective the rule
/// predicts. The baseline is re-run rather than read from the original trace so that both sides
/// of each ratio are measured in the same sitting (the host drifts between sittings).
///
/// This lives in the CLI because it needs both halves: the analyzer (which never imports the
/// runtime) and the runtime (through the `profile` command).
struct AdviceVerifier {
    /// One predicted-vs-measured comparison.
    struct Row: Equatable {
        var ruleID: String
        var key: String
        var change: [String: String]
        var objective: Objective
        var predicted: Double
        var measured: Double?
        var baselineValue: Double?
        var changedValue: Double?
        /// Why there is no measurement (the run failed, or the metric is missing).
        var note: String?

        /// (measured − predicted) / predicted.
        var relativeError: Double? { measured.map { ($0 - predicted) / predicted } }
    }

    /// Why a trace cannot be verified.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let header: RunHeader
    let analysisOptions: AnalysisOptions
    let context: CommandContext
    /// Where the re-run traces go.
    let directory: String

    /// The recommendations worth verifying: triggered, mapped to a runtime switch, and predicting a
    /// gain on some objective; in ranking order for the primary objective, at most `limit`.
    static func candidates(_ result: AnalysisResult, limit: Int) -> [Recommendation] {
        let objective = result.options.objective
        let usable = result.recommendations.filter { r in
            r.status == .triggered && r.runtimeChange != nil && r.gains.values.contains { $0.factor > 1 }
                && !(r.runtimeChange ?? [:]).values.contains { $0.contains("MODEL") }
        }
        let ordered = usable.sorted { a, b in
            let sa = a.score(for: objective), sb = b.score(for: objective)
            return sa != sb ? sa > sb : a.id.localizedStandardCompare(b.id) == .orderedAscending
        }
        return Array(ordered.prefix(limit))
    }

    /// Runs the baseline and one run per recommendation. O(runs × workload time).
    func verify(_ recommendations: [Recommendation], progress: (String) -> Void) throws -> [Row] {
        let baseArguments = try Self.profileArguments(header)
        progress("verify: re-running the baseline (\(baseArguments.joined(separator: " ")))")
        let baseline = try run(baseArguments, name: "baseline")
        var rows: [Row] = []
        for r in recommendations {
            let change = r.runtimeChange ?? [:]
            var options = header.options
            for (k, v) in change { options[k] = v }
            var changed = header
            changed.options = options
            let objectives = Objective.allCases.filter { (r.gains[$0]?.factor ?? 1) != 1 }
            let arguments: [String]
            do { arguments = try Self.profileArguments(changed) } catch {
                rows += objectives.map { Row(ruleID: r.id, key: r.key, change: change, objective: $0,
                                             predicted: r.gains[$0]!.factor, note: "\(error)") }
                continue
            }
            progress("verify: \(r.id) \(Self.describe(change))")
            let measuredRun: AnalysisResult
            do { measuredRun = try run(arguments, name: r.id) } catch {
                rows += objectives.map { Row(ruleID: r.id, key: r.key, change: change, objective: $0,
                                             predicted: r.gains[$0]!.factor, note: "\(error)") }
                continue
            }
            for objective in objectives {
                let before = Self.value(objective, baseline), after = Self.value(objective, measuredRun)
                var row = Row(ruleID: r.id, key: r.key, change: change, objective: objective,
                              predicted: r.gains[objective]!.factor, baselineValue: before, changedValue: after)
                if let b = before, let a = after, b > 0, a > 0 {
                    row.measured = Self.higherIsBetter(objective) ? a / b : b / a
                } else {
                    row.note = "metric missing in a re-run trace"
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// Runs `inferscope profile` in-process and analyzes its trace with the same options.
    private func run(_ arguments: [String], name: String) throws -> AnalysisResult {
        try analyzeRecorded(record(arguments, name: name))
    }

    /// Runs `inferscope profile ARGUMENTS --no-probe -o DIRECTORY/verify-NAME.json` in-process and
    /// returns the trace's path. Shared with the advice matrix (`inferscope-bench advice`).
    func record(_ arguments: [String], name: String) throws -> String {
        let trace = directory + "/verify-\(name).json"
        let out = CapturedOutput(), err = CapturedOutput()
        let sub = CommandContext(stdout: out, stderr: err, environment: context.environment,
                                 workingDirectory: context.workingDirectory)
        // No probe: the analysis options already carry the original run's hardware spec.
        let code = CLI.run(["profile"] + arguments + ["--no-probe", "-o", trace], context: sub)
        guard code == .success else {
            throw Failure(description: "profile \(arguments.joined(separator: " ")) failed: "
                          + err.text.split(separator: "\n").prefix(3).joined(separator: "; "))
        }
        return trace
    }

    /// Analyzes a re-run trace with the verifier's analysis options.
    func analyzeRecorded(_ trace: String) throws -> AnalysisResult {
        let reader = try TraceReader(path: trace)
        var analyzer = try Analyzer(options: analysisOptions)
        while let event = reader.next() { try analyzer.consume(event) }
        return try analyzer.finish()
    }

    // MARK: - Header → profile arguments

    /// The `profile` arguments that repeat the run described by `header`. Throws for a trace not
    /// recorded by InferScope's runtime, or one whose workload cannot be regenerated.
    static func profileArguments(_ header: RunHeader) throws -> [String] {
        guard header.producer.hasPrefix("inferscope "), !header.options.isEmpty else {
            throw Failure(description: "--verify needs a trace recorded by 'inferscope profile' (this one was produced by '\(header.producer)'); it re-runs the workload on InferScope's runtime")
        }
        let o = header.options
        var a: [String] = []
        let source = header.model.source
        a += ["--model", source.hasPrefix("preset:") ? String(source.dropFirst("preset:".count)) : source]
        a += ["--workload", header.workload.name]
        if header.workload.requests > 0 { a += ["--requests", "\(header.workload.requests)"] }
        switch header.workload.parameters["arrival"] ?? "recorded" {
        case let p where p.hasPrefix("poisson:"): a += ["--rate", String(p.dropFirst("poisson:".count))]
        case let p where p.hasPrefix("closed:"): a += ["--concurrency", String(p.dropFirst("closed:".count))]
        case "recorded": break
        case let p: throw Failure(description: "--verify cannot regenerate the arrival pattern '\(p)' from the command line")
        }
        let valued: [(key: String, flag: String)] = [
            ("scheduler", "--scheduler"), ("token_budget", "--token-budget"), ("max_num_seqs", "--max-num-seqs"),
            ("max_batched_tokens", "--max-batched-tokens"), ("kv_layout", "--kv-layout"), ("kv_dtype", "--kv-dtype"),
            ("block_size", "--block-size"), ("preempt", "--preempt"), ("threads", "--threads"),
            ("temperature", "--temperature"), ("seed", "--seed"), ("prefix_offload_blocks", "--prefix-offload"),
            ("spec", "--spec"), ("gamma", "--gamma"),
        ]
        for (key, flag) in valued { if let v = o[key] { a += [flag, v] } }
        // Capacity: a byte budget stays a byte budget (so a narrower KV dtype gets more blocks,
        // as it would on a real server); a block count stays a block count.
        if let bytes = o["kv_memory"] { a += ["--kv-memory", bytes] } else if let blocks = o["kv_blocks"] { a += ["--kv-blocks", blocks] }
        if o["prefix_cache"] == "on" { a.append("--prefix-cache") }
        if o["disaggregated"] == "on" { a.append("--disaggregated") }
        if let tier = o["swap_tier"], tier != "host" {
            throw Failure(description: "--verify cannot repeat swapping to '\(tier)' (the directory is not in the trace); re-record with host swap")
        }
        return a
    }

    // MARK: - Objective values

    /// The measured value of an objective in one analysis: output tokens/s for throughput and cost,
    /// p99 seconds for the latencies.
    static func value(_ objective: Objective, _ r: AnalysisResult) -> Double? {
        switch objective {
        case .throughput, .cost: return r.metrics.throughput.outputTokensPerSecond
        case .ttft: return r.metrics.ttft?.p99
        case .tpot: return r.metrics.tpot?.p99
        case .itl: return r.metrics.itl?.p99
        }
    }

    static func higherIsBetter(_ objective: Objective) -> Bool { objective == .throughput || objective == .cost }

    static func describe(_ change: [String: String]) -> String {
        change.keys.sorted().map { "\($0)=\(change[$0]!)" }.joined(separator: " ")
    }

    // MARK: - Rendering

    /// A table: rule, change, objective, predicted ×, measured ×, error.
    static func render(_ rows: [Row], baselineArguments: [String]) -> String {
        var s = "\nVERIFIED ADVICE (re-run on InferScope's runtime, same workload and seed; gains as factors, >1 is better)\n"
        s += "  baseline: inferscope profile \(baselineArguments.joined(separator: " "))\n"
        if rows.isEmpty {
            return s + "  no triggered recommendation maps to a runtime switch; nothing to verify\n"
        }
        let header = ["rule", "change", "objective", "predicted", "measured", "error"]
        var table = [header]
        for r in rows {
            table.append([r.ruleID, describe(r.change), r.objective.rawValue, factor(r.predicted),
                          r.measured.map(factor) ?? "n/a",
                          r.relativeError.map { percent($0) } ?? (r.note ?? "n/a")])
        }
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! }
        for line in table {
            s += "  " + line.enumerated().map { c, cell in
                c == line.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }
        let errors = rows.compactMap(\.relativeError).map(abs)
        if !errors.isEmpty {
            let mean = (errors.reduce(0, +) / Double(errors.count) * 1000).rounded() / 10
            s += "  mean |error| \(mean)% over \(errors.count) comparisons\n"
        }
        return s
    }

    static func factor(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        var t = "\(r)"
        if let dot = t.firstIndex(of: ".") {
            let decimals = t.distance(from: dot, to: t.endIndex) - 1
            if decimals < 2 { t += String(repeating: "0", count: 2 - decimals) }
        }
        return "×" + t
    }

    static func percent(_ x: Double) -> String {
        let v = (x * 1000).rounded() / 10
        return (v > 0 ? "+" : "") + "\(v)%"
    }
}
