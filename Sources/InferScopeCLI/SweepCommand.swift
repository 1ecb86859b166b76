#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Analysis
import Kernels
import LlamaModel
import Reporting
import ServingEngine

/// `inferscope sweep --rates 1,2,4,8 --slo ttft=…,tpot=… [profile options]`: serves the same workload
/// at each load point (open-loop rates or closed-loop concurrencies), writes one trace per point,
/// analyses each, and reports the latency–throughput curve, where the engine saturates and the
/// highest load that still meets the SLOs (optionally refined by bisection between the last point
/// that passes and the first that fails). Exit 0 swept, 1 a run or a trace failed, 2 usage.
struct SweepCommand: Command {
    static let defaultDirectory = "inferscope-sweep"

    let spec: CommandSpec = {
        let excluded: Set<String> = ["--rate", "--concurrency", "--output", "--json"]
        let inherited = ProfileCommand().spec.options.filter { !excluded.contains($0.name) }
        return CommandSpec(
            name: "sweep",
            abstract: "Serve a workload at several loads and find the highest load that meets the SLOs.",
            discussion: """
                Runs the workload once per load point with every 'profile' option (model, scheduler, KV \
                layout…), one trace per point in --dir, then analyses each trace. A point meets the SLOs \
                when at least --attainment of its completed requests meet every --slo target (goodput, \
                as vLLM and DistServe count it). The engine is saturated at a rate when it completes \
                fewer than 90% of the offered requests per second. --search N bisects N more times \
                between the highest rate that passes and the lowest that fails. Timings depend on the \
                machine and its load: compare points of one sweep. See docs/sweep.md.
                """,
            options: [
                .value("--rates", "R1,R2,…", help: "Open-loop Poisson arrival rates, requests/s."),
                .value("--concurrencies", "N1,N2,…", help: "Closed-loop concurrencies (instead of --rates)."),
                .value("--slo", "SPEC", help: "Targets, e.g. ttft=500ms,tpot=50ms (bare numbers are ms)."),
                .value("--attainment", "PCT", help: "Share of requests that must meet every target for a point to pass.", default: "90%"),
                .value("--search", "N", help: "Bisection steps after the grid to refine the highest passing rate (with --rates and --slo).", default: "0"),
                .value("--dir", "DIR", help: "Where the traces go (one per point).", default: SweepCommand.defaultDirectory),
                .value("--format", "FORMAT", help: "text, markdown or json.", default: "text"),
                .flag("--json", help: "Print JSON (same as --format json)."),
            ] + inherited)
    }()

    /// One load point's outcome.
    struct Point {
        var load: Double
        var trace: String
        var result: AnalysisResult
        var passes: Bool?
        var saturated: Bool
    }

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if let message = CPUFeatures.unsupportedBuildMessage(), arguments.value("--endpoint") == nil { throw CommandFailure(message) }
        let (closedLoop, loads) = try Self.loads(arguments)
        let format = arguments.flag("--json") ? "json" : arguments.value("--format") ?? "text"
        guard ["text", "markdown", "json"].contains(format) else {
            throw UsageError("option '--format' expects text, markdown or json, found '\(format)'")
        }
        let analysis = try AnalyzeCommand.commonOptions(arguments, context)
        let attainment: Double
        do { attainment = try GateRule.percentage(arguments.value("--attainment")!, option: "--attainment", expression: arguments.value("--attainment")!) } catch {
            throw UsageError(error.description)
        }
        guard attainment <= 1 else { throw UsageError("option '--attainment' expects a percentage ≤ 100%") }
        guard let searchSteps = try arguments.int("--search"), (0...10).contains(searchSteps) else {
            throw UsageError("option '--search' expects an integer in 0…10")
        }
        if searchSteps > 0 && (closedLoop || analysis.slo.isEmpty) {
            throw UsageError("option '--search' refines a rate against the SLOs: give --rates and --slo")
        }

        let seed = try ProfileCommand.unsigned(arguments, "--seed")
        let model = try ProfileCommand.loadModel(arguments, seed: seed, context: context)
        let engineOptions = try ProfileCommand.engineOptions(arguments, seed: seed)
        let directory = context.resolve(arguments.value("--dir")!)
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw CommandFailure("\(arguments.value("--dir")!): cannot create the directory (\(String(cString: strerror(errno))))")
        }
        let endpoint = try arguments.value("--endpoint").map { _ in try ProfileCommand.endpointSetup(arguments, context) }
        let peaks = arguments.flag("--no-probe") || endpoint != nil ? nil : HostPeaks.measure(threads: engineOptions.threads)

        func measure(_ load: Double) throws -> Point {
            let arrival: ArrivalPattern = closedLoop ? .closedLoop(concurrency: Int(load)) : try ProfileCommand.openLoopArrival(rate: load, arguments)
            let name = (arguments.value("--dir")! as String) + "/" + (closedLoop ? "concurrency-" : "rate-") + NumberFormat.significant(load, digits: 4) + ".json"
            if var setup = endpoint {   // `sweep --endpoint`: each point is a `profile --endpoint` run
                try OutputFile.checkReplaceable(context.resolve(name), as: .trace, shownAs: name)
                context.stderr.write("sweep: \(closedLoop ? "concurrency" : "rate") \(NumberFormat.significant(load, digits: 4)) against \(setup.configuration.root) …\n")
                _ = try ProfileCommand.recordEndpoint(arguments, setup: &setup, arrival: arrival, tracePath: context.resolve(name),
                                                      shownAs: name, context: context, progress: nil)
                let result = try AnalyzeCommand.analyze(name, options: analysis, context: context)
                let passes = analysis.slo.isEmpty ? nil : (result.metrics.goodput.map { $0.attainment >= attainment } ?? false)
                let saturated = !closedLoop && result.metrics.throughput.requestsPerSecond < 0.9 * load
                return Point(load: load, trace: name, result: result, passes: passes, saturated: saturated)
            }
            var workload = try ProfileCommand.workload(arguments, maxContext: model.weights.config.maxSeqLen, seed: seed,
                                                       context: context, arrival: arrival)
            _ = workload.fit(maxContext: model.weights.config.maxSeqLen)
            guard !workload.requests.isEmpty else { throw CommandFailure("no request of \(workload.name) fits the model's context") }
            let output = try StagedOutputFile(target: context.resolve(name), shownAs: name)
            context.stderr.write("sweep: \(closedLoop ? "concurrency" : "rate") \(NumberFormat.significant(load, digits: 4)) …\n")
            _ = try ProfileCommand.record(model: model, options: engineOptions, workload: workload, output: output,
                                          hostPeaks: peaks, context: context)
            let result = try AnalyzeCommand.analyze(name, options: analysis, context: context)
            let passes = analysis.slo.isEmpty ? nil : (result.metrics.goodput.map { $0.attainment >= attainment } ?? false)
            let saturated = !closedLoop && result.metrics.throughput.requestsPerSecond < 0.9 * load
            return Point(load: load, trace: name, result: result, passes: passes, saturated: saturated)
        }

        var points = try loads.map(measure)
        var searched: (low: Double, high: Double)?
        if searchSteps > 0 {
            let sorted = points.sorted { $0.load < $1.load }
            // The refinement brackets the first failure above the last success of the grid.
            if let lastPass = sorted.last(where: { $0.passes == true }),
               let firstFail = sorted.first(where: { $0.load > lastPass.load && $0.passes == false }) {
                var low = lastPass.load, high = firstFail.load
                for _ in 0..<searchSteps {
                    let mid = (low + high) / 2
                    let p = try measure(mid)
                    points.append(p)
                    if p.passes == true { low = mid } else { high = mid }
                }
                searched = (low, high)
            }
        }
        points.sort { $0.load < $1.load }
        let header = Self.describe(arguments, model: model, options: engineOptions, slo: arguments.value("--slo"),
                                   attainment: attainment, closedLoop: closedLoop)
        switch format {
        case "json": context.stdout.write(Self.json(points, header: header, closedLoop: closedLoop, searched: searched))
        case "markdown": context.stdout.write(Self.table(points, header: header, closedLoop: closedLoop, searched: searched, markdown: true))
        default: context.stdout.write(Self.table(points, header: header, closedLoop: closedLoop, searched: searched, markdown: false))
        }
        return .success
    }

    /// The load points: `(closedLoop, values)`, ascending and distinct.
    static func loads(_ a: ParsedArguments) throws -> (Bool, [Double]) {
        switch (a.value("--rates"), a.value("--concurrencies")) {
        case (.some, .some): throw UsageError("give either --rates or --concurrencies, not both")
        case (nil, nil): throw UsageError("give the load points: --rates 1,2,4,8 (requests/s) or --concurrencies 1,4,16")
        case (.some(let text), nil):
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters()) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }) else {
                throw UsageError("option '--rates' expects positive numbers separated by commas, e.g. 1,2,4,8; found '\(text)'")
            }
            return (false, Array(Set(values.map { $0! })).sorted())
        case (nil, .some(let text)):
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters()) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 1 }) else {
                throw UsageError("option '--concurrencies' expects integers ≥ 1 separated by commas, e.g. 1,4,16; found '\(text)'")
            }
            return (true, Array(Set(values.map { Double($0!) })).sorted())
        }
    }

    static func describe(_ a: ParsedArguments, model: LoadedModel, options: EngineOptions, slo: String?,
                         attainment: Double, closedLoop: Bool) -> String {
        var s = "sweep: \(model.name) on \(a.value("--workload")!), \(options.policy.rawValue) batching, \(options.layout.rawValue) \(options.dtype.rawValue) KV"
        if let slo { s += "; SLO \(slo), a point passes when ≥ \(NumberFormat.percent(attainment)) of requests meet it" }
        return s
    }

    static func cells(_ p: Point, closedLoop: Bool) -> [String] {
        let m = p.result.metrics
        func d(_ x: Double?) -> String { x.map(NumberFormat.duration) ?? "-" }
        return [NumberFormat.significant(p.load, digits: 4),
                NumberFormat.significant(m.throughput.requestsPerSecond),
                NumberFormat.significant(m.throughput.outputTokensPerSecond),
                d(m.ttft?.p50), d(m.ttft?.p99), d(m.tpot?.p50), d(m.tpot?.p99),
                m.goodput.map { NumberFormat.percent($0.attainment) } ?? "-",
                p.passes.map { $0 ? "pass" : "FAIL" } ?? "-",
                closedLoop ? "-" : (p.saturated ? "yes" : "no"),
                p.result.verdict.workload.rawValue, p.trace]
    }

    static func table(_ points: [Point], header: String, closedLoop: Bool, searched: (low: Double, high: Double)?, markdown: Bool) -> String {
        let titles = [closedLoop ? "concurrency" : "rate req/s", "done req/s", "out tok/s", "TTFT p50", "TTFT p99",
                      "TPOT p50", "TPOT p99", "attained", "SLO", "saturated", "verdict", "trace"]
        let rows = points.map { cells($0, closedLoop: closedLoop) }
        var out = markdown ? "### InferScope sweep\n\n\(header)\n\n" : header + "\n\n"
        out += markdown ? TextTable.markdown(header: titles, rows: rows) : TextTable.aligned([titles] + rows)
        out += "\n" + conclusion(points, closedLoop: closedLoop, searched: searched) + "\n"
        return out
    }

    /// The sentences a reader wants: the highest load meeting the SLOs and where saturation begins.
    static func conclusion(_ points: [Point], closedLoop: Bool, searched: (low: Double, high: Double)?) -> String {
        LoadCurve.conclusion(points.map { LoadPoint(load: $0.load, passes: $0.passes, saturated: $0.saturated,
                                                    completedRPS: $0.result.metrics.throughput.requestsPerSecond) },
                             closedLoop: closedLoop, searched: searched)
    }

    static func json(_ points: [Point], header: String, closedLoop: Bool, searched: (low: Double, high: Double)?) -> String {
        func num(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let rows: [JSONValue] = points.map { p in
            let m = p.result.metrics
            return .object([
                "load": .number(p.load), "trace": .string(p.trace),
                "completed_rps": .number(m.throughput.requestsPerSecond), "output_tps": .number(m.throughput.outputTokensPerSecond),
                "ttft_p50": num(m.ttft?.p50), "ttft_p99": num(m.ttft?.p99), "tpot_p50": num(m.tpot?.p50), "tpot_p99": num(m.tpot?.p99),
                "attainment": num(m.goodput?.attainment), "passes": p.passes.map { .bool($0) } ?? .null,
                "saturated": closedLoop ? .null : .bool(p.saturated), "verdict": .string(p.result.verdict.workload.rawValue),
            ])
        }
        let best = points.last { $0.passes == true }
        return JSONValue.object([
            "schema": .string("inferscope.sweep/1"), "description": .string(header),
            "load_kind": .string(closedLoop ? "concurrency" : "rate"), "points": .array(rows),
            "max_passing_load": best.map { .number($0.load) } ?? .null,
            "saturation_load": closedLoop ? .null : (points.first { $0.saturated }.map { .number($0.load) } ?? .null),
            "bisection": searched.map { .object(["low": .number($0.low), "high": .number($0.high)]) } ?? .null,
        ]).serialized()
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String { String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
