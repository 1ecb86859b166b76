import Foundation
import InferScopeCLI
import Kernels

/// `inferscope-bench advice`: does the analyzer's top recommendation win? (issue #14)
///
/// Runs ``AdviceMatrixRunner``'s matrix — per model preset, ten setups (chat, rag, agent, mixed,
/// a long-prompt one, a shared-prefix one, a bursty one; each leaving techniques off) × the
/// objectives throughput, TTFT p99 and TPOT p99 — measuring every candidate rule's runtime change
/// against the baseline, `--repetitions` rounds interleaved, and prints per scenario the ranking,
/// predicted vs measured factors, the oracle, ties and hits, then top-1 agreement, Kendall τ-b and
/// |prediction error| per rule and objective. Before running it prints the number of runs and an
/// estimated duration; after each setup, the measured time and the remaining estimate (stderr).
///
///     inferscope-bench advice [--models stories15m,stories110m] [--setups a,b,…] [--subset tiny]
///                             [--repetitions 3] [--threads N] [--seed 3] [--dir DIR] [--json | --markdown]
enum AdviceBench {
    struct Options {
        var models = ["stories15m", "stories110m"]
        var setups: [String]? = nil
        var tiny = false
        var repetitions = 3
        var threads = ThreadPool.onlineCores
        var seed = 3
        var directory: String?
        var format = AdviceMatrixReport.Format.text
    }

    /// Seconds per request of one run, release build, quiet 2-core host (calibrated on the
    /// matrix's own runs; the estimate scales them by requests and runs).
    static func secondsPerRequest(_ model: String) -> Double {
        switch model {
        case "tiny": return 0.02
        case "stories15m", "stories15m-peaked": return 0.3
        case "stories110m": return 2.5
        default: return 3.0
        }
    }

    static let usageText = "usage: inferscope-bench advice [--models M[,M…]] [--setups NAME[,…]] [--subset tiny] [--repetitions N] [--threads N] [--seed S] [--dir DIR] [--json | --markdown]\n"

    static func parse(_ arguments: [String]) throws(BenchUsageError) -> Options {
        var o = Options()
        var a = BenchArguments(arguments)
        while let flag = a.next() {
            switch flag {
            case "--models": o.models = try a.value(flag).split(separator: ",").map(String.init)
            case "--setups": o.setups = try a.value(flag).split(separator: ",").map(String.init)
            case "--subset":
                let v = try a.value(flag)
                guard v == "tiny" else { throw BenchUsageError(message: "--subset expects 'tiny', got '\(v)'") }
                o.tiny = true
            case "--repetitions": o.repetitions = try a.positive(flag)
            case "--threads": o.threads = try a.positive(flag)
            case "--seed": o.seed = try a.positive(flag)
            case "--dir": o.directory = try a.value(flag)
            case "--json": o.format = .json
            case "--markdown": o.format = .markdown
            default: throw BenchUsageError(message: "unknown option '\(flag)'")
            }
        }
        return o
    }

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") { print(usageText, terminator: ""); return 0 }
        let options: Options
        do { options = try parse(arguments) } catch {
            writeStandardError("error: \(error)\n" + usageText)
            return 2
        }
        var setups = options.tiny ? AdviceMatrixRunner.tinySubset() : options.models.flatMap(AdviceMatrixRunner.setups(model:))
        if let names = options.setups {
            let known = Set(setups.map(\.name))
            if let bad = names.first(where: { !known.contains($0) }) {
                writeStandardError("error: unknown setup '\(bad)'; known: \(known.sorted().joined(separator: ", "))\n")
                return 2
            }
            setups = setups.filter { names.contains($0.name) }
        }
        let directory: String
        if let d = options.directory {
            directory = d
            try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        } else {
            directory = NSTemporaryDirectory() + "inferscope-advice-\(getpid())"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let runner = AdviceMatrixRunner(threads: options.threads, seed: options.seed, repetitions: options.repetitions,
                                        probe: true, directory: directory, context: .process())
        // Estimate: per setup one analyzed baseline + (1 + up to 8 candidates) × repetitions runs.
        func estimate(_ s: AdviceMatrixRunner.Setup) -> Double {
            Double(1 + (1 + AdviceMatrixRunner.maxCandidates) * options.repetitions) * Double(s.requests) * secondsPerRequest(s.model)
        }
        let runs = setups.count * (1 + (1 + AdviceMatrixRunner.maxCandidates) * options.repetitions)
        let total = setups.map(estimate).reduce(0, +)
        writeStandardError("advice: \(setups.count) setups × \(runner.objectives.count) objectives = \(setups.count * runner.objectives.count) scenarios; "
            + "at most \(runs) runs; estimated \(minutes(total)) on a quiet 2-core host (release; ×2-3 when the host is busy)\n")
        let start = Date()
        var scenarios: [AdviceMatrix.Scenario] = []
        var remaining = total
        for (i, s) in setups.enumerated() {
            writeStandardError("advice: [\(i + 1)/\(setups.count)] \(s.name) on \(s.model) (\(s.leavesOff))\n")
            let t0 = Date()
            do {
                let done = try runner.run(s) { writeStandardError($0 + "\n") }
                scenarios += done
                // Each setup's table as soon as it is measured, so an interrupted matrix keeps its results.
                writeStandardError(AdviceMatrixReport.render(done, context: [], format: .markdown))
            } catch {
                writeStandardError("advice: \(s.name) on \(s.model) failed: \(error)\n")
                return 1
            }
            remaining -= estimate(s)
            let took = Date().timeIntervalSince(t0)
            let scale = took / estimate(s)
            writeStandardError("advice:   took \(minutes(took)) (estimate ×\(String(format: "%.2f", scale))); remaining ≈ \(minutes(remaining * scale))\n")
        }
        let elapsed = Date().timeIntervalSince(start)
        var load = [0.0, 0.0, 0.0]
        _ = getloadavg(&load, 3)
        let formatter = ISO8601DateFormatter()
        let context: [(String, String)] = [
            ("date", formatter.string(from: start)),
            ("command", "inferscope-bench advice " + arguments.joined(separator: " ")),
            ("threads", String(options.threads)), ("repetitions", String(options.repetitions)), ("seed", String(options.seed)),
            ("wall time", minutes(elapsed)),
            ("host load average (1/5/15 min) at the end", load.map { String(format: "%.2f", $0) }.joined(separator: " ")),
        ]
        print(AdviceMatrixReport.render(scenarios, context: context, format: options.format), terminator: "")
        if options.directory == nil { try? FileManager.default.removeItem(atPath: directory) }
        return 0
    }

    static func minutes(_ seconds: Double) -> String {
        seconds < 90 ? String(format: "%.0f s", seconds) : String(format: "%.1f min", seconds / 60)
    }
}
