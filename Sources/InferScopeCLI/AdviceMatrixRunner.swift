#if canImport(Glibc)
import Glibc
#endif
import Analysis
import LlamaModel
import TraceFormat

/// Runs the advice matrix (`inferscope-bench advice`, issue #14). For each setup — a workload and
/// a starting configuration that leaves one or more techniques off — it profiles the baseline,
/// analyzes it for every objective, derives one candidate per rule that maps to a runtime switch
/// (the rule's own change when it has one, else the switch that turns its technique on: every
/// rule is measured, not only the triggered ones), then measures the baseline and every candidate
/// `repetitions` times interleaved (A B C … A B C …) with ``AdviceVerifier``'s re-run machinery.
/// Factors are paired per repetition (each candidate run against the baseline run of the same
/// round) and summarized by their median and range.
///
/// Lives in the CLI module (not in `inferscope-bench`) so the test suite can run a tiny subset.
public struct AdviceMatrixRunner {
    /// A workload plus a starting configuration.
    public struct Setup: Sendable, Equatable {
        public var name: String
        /// What the configuration leaves off, in words.
        public var leavesOff: String
        public var model: String
        /// `profile` arguments except model, threads and seed.
        public var arguments: [String]
        public var requests: Int

        public init(name: String, leavesOff: String, model: String, arguments: [String], requests: Int) {
            self.name = name
            self.leavesOff = leavesOff
            self.model = model
            self.arguments = arguments
            self.requests = requests
        }
    }

    public var threads: Int
    public var seed: Int
    public var repetitions: Int
    /// Probe the host's peaks for the analyzed baseline (≈ 1 s); without, the analysis uses
    /// ``nominalHost`` (tests).
    public var probe: Bool
    public var objectives: [Objective]
    /// Measure only these rules' candidates (nil: every rule with a runtime switch).
    public var rules: Set<String>?
    public var directory: String
    public var context: CommandContext

    public init(threads: Int, seed: Int = 3, repetitions: Int = 3, probe: Bool = true,
                objectives: [Objective] = [.throughput, .ttft, .tpot], rules: Set<String>? = nil,
                directory: String, context: CommandContext) {
        self.rules = rules
        self.threads = threads
        self.seed = seed
        self.repetitions = repetitions
        self.probe = probe
        self.objectives = objectives
        self.directory = directory
        self.context = context
    }

    /// A nominal 2-core host (20 GB/s, 100 GFLOP/s f32) for analyses without a probe.
    public static let nominalHost = HardwareSpec(name: "nominal host", origin: "assumed", memoryBandwidth: 20e9,
                                                 peakFLOPS: ["f32": 100e9], memoryBytes: nil,
                                                 source: "advice matrix without a host probe (tests)")

    // MARK: - The matrix

    /// KV bytes per token of a preset in f32 (K and V, every layer).
    static func kvBytesPerToken(_ model: String) -> Int {
        guard let c = ModelPreset.named(model)?.config else { return 13_824 }
        return 2 * c.layers * c.kvHeads * (c.dim / c.heads) * 4
    }

    static func maxContext(_ model: String) -> Int { ModelPreset.named(model)?.config.maxSeqLen ?? 256 }

    /// The setups for one model preset: each workload of issue #14 with a starting configuration
    /// that leaves techniques off. KV pools are sized in tokens of the model (so the same setup
    /// is capacity-bound on every preset) and passed as bytes (a narrower dtype gets more blocks).
    public static func setups(model: String) -> [Setup] {
        let perToken = kvBytesPerToken(model), ctx = maxContext(model)
        func kv(_ tokens: Int) -> String { String(tokens * perToken) }
        func s(_ name: String, _ off: String, _ args: [String]) -> Setup {
            let n = Int(args[args.firstIndex(of: "--requests")! + 1])!
            return Setup(name: name, leavesOff: off, model: model, arguments: args, requests: n)
        }
        return [
            s("mixed-static", "static batching (16 clients, 16 slots)",
              ["--workload", "mixed", "--requests", "32", "--concurrency", "16", "--scheduler", "static", "--max-num-seqs", "16"]),
            s("chat-contiguous", "contiguous KV in a small pool",
              ["--workload", "chat", "--requests", "16", "--concurrency", "8", "--kv-layout", "contiguous",
               "--kv-memory", kv(ctx * 12 / 5)]),
            s("chat-small-kv", "small paged KV pool (preemptions)",
              ["--workload", "chat", "--requests", "16", "--concurrency", "8", "--kv-memory", kv(320)]),
            s("rag-no-chunking", "chunked prefill (long prompts stall decodes)",
              ["--workload", "rag", "--requests", "16", "--concurrency", "6"]),
            s("shared-prefix-no-cache", "prefix cache",
              ["--workload", "shared-prefix", "--requests", "32", "--concurrency", "8"]),
            s("agent-no-spec", "speculation (q4_0 self-draft available)",
              ["--workload", "agent", "--requests", "6", "--concurrency", "1"]),
            s("long-colocated", "disaggregation (long summarize prompts, colocated)",
              ["--workload", "summarize", "--requests", "16", "--rate", "4"]),
            s("mixed-capped", "concurrency capped below the load (16 clients, 4 slots)",
              ["--workload", "mixed", "--requests", "32", "--concurrency", "16", "--max-num-seqs", "4"]),
            s("chat-bursty", "nothing in particular: bursty open-loop arrivals (Poisson 32 req/s)",
              ["--workload", "chat", "--requests", "32", "--rate", "32"]),
            s("mixed-default", "nothing: the default profile (Poisson 8 req/s, 64 slots)",
              ["--workload", "mixed", "--requests", "32"]),
        ]
    }

    /// The debug-sized subset: `tiny`, one static-batching setup, three objectives (3 scenarios).
    public static func tinySubset() -> [Setup] {
        [Setup(name: "tiny-mixed-static", leavesOff: "static batching", model: "tiny",
               arguments: ["--workload", "mixed", "--requests", "4", "--concurrency", "4", "--scheduler", "static",
                           "--max-num-seqs", "2"], requests: 4)]
    }

    /// Runs per setup: one analyzed baseline plus (1 + candidates) × repetitions; the candidate
    /// count is at most the rules with a runtime switch (8).
    public static let maxCandidates = 8

    // MARK: - Running

    /// The `profile` arguments of a setup's baseline.
    public func baselineArguments(_ s: Setup) -> [String] {
        ["--model", s.model] + s.arguments + ["--threads", String(threads), "--seed", String(seed)]
    }

    /// Runs one setup: one scenario per objective. O((candidates + 1) × repetitions × run time).
    public func run(_ setup: Setup, progress: (String) -> Void) throws -> [AdviceMatrix.Scenario] {
        let base = baselineArguments(setup)
        let tag = setup.name + "-" + setup.model
        // 1. The analyzed baseline (with the host probe: the analyzer's roofline needs peaks).
        let analyzedTrace = directory + "/advice-\(tag)-analyzed.json"
        let out = CapturedOutput(), err = CapturedOutput()
        let sub = CommandContext(stdout: out, stderr: err, environment: context.environment, workingDirectory: context.workingDirectory)
        let code = CLI.run(["profile"] + base + (probe ? [] : ["--no-probe"]) + ["-o", analyzedTrace], context: sub)
        guard code == .success else {
            throw AdviceVerifier.Failure(description: "profile \(base.joined(separator: " ")) failed: \(err.text.prefix(300))")
        }
        var analyses: [Objective: AnalysisResult] = [:]
        var spec: HardwareSpec? = probe ? nil : Self.nominalHost
        for objective in objectives {
            var o = AnalysisOptions(objective: objective)
            o.hardwareSpec = spec
            let r = try AnalyzeCommand.analyze(analyzedTrace, options: o, context: sub)
            if spec == nil { spec = r.hardware }
            analyses[objective] = r
        }
        let first = analyses[objectives[0]]!
        // 2. Candidates: one per rule with a runtime switch.
        let current = first.header.options
        var configs: [(id: String, change: [String: String], arguments: [String]?, note: String?)] = []
        for rec in first.recommendations where rules?.contains(rec.id) ?? true {
            // The runtime cannot run disaggregated workers under the static scheduler (a batch
            // of whole prompts overflows the logit rows: precondition failure), so R6 is not
            // measured from a static baseline.
            if rec.id == "R6" && current["scheduler"] == "static" { continue }
            guard let change = rec.runtimeChange ?? Self.defaultChange(rec.id, current), !change.isEmpty,
                  !change.values.contains(where: { $0.contains("MODEL") }) else { continue }
            if change.allSatisfy({ current[$0.key] == $0.value }) { continue }  // already on: nothing to measure
            var changed = first.header
            for (k, v) in change { changed.options[k] = v }
            do { configs.append((rec.id, change, try AdviceVerifier.profileArguments(changed), nil)) } catch {
                configs.append((rec.id, change, nil, "\(error)"))
            }
        }
        // 3. Interleaved repetitions: baseline, c1, c2, … per round.
        var options = AnalysisOptions()
        options.hardwareSpec = spec
        let verifier = AdviceVerifier(header: first.header, analysisOptions: options, context: context, directory: directory)
        let baseArguments = try AdviceVerifier.profileArguments(first.header)
        var baseRuns: [Sample?] = []
        var runs: [String: [Sample?]] = [:]
        var failures: [String: String] = [:]
        for rep in 0..<repetitions {
            progress("  \(tag) round \(rep + 1)/\(repetitions): baseline + \(configs.filter { $0.arguments != nil }.count) candidates")
            baseRuns.append(try? measure(verifier, baseArguments, name: "\(tag)-base"))
            for c in configs {
                guard let args = c.arguments else { continue }
                do { runs[c.id, default: []].append(try measure(verifier, args, name: "\(tag)-\(c.id)")) } catch {
                    failures[c.id] = "\(error)"
                    runs[c.id, default: []].append(nil)
                }
            }
        }
        // 4. One scenario per objective.
        return objectives.map { objective in
            let analysis = analyses[objective]!
            let ranking = analysis.ranking.entries
            let baseValues = baseRuns.map { $0.flatMap { $0.values[objective] } }
            let baseMedian = AdviceMatrix.median(baseValues.compactMap { $0 })
            var candidates: [AdviceMatrix.Candidate] = []
            var none = AdviceMatrix.Candidate(id: AdviceMatrix.noChange, predicted: 1, triggered: true, rank: nil)
            if let m = baseMedian {
                none.samples = baseValues.compactMap { $0 }.map { Self.factor(objective, before: m, after: $0) }
                if objective == .throughput || objective == .cost {
                    let cpu = baseRuns.compactMap { $0?.cpuThroughput }
                    if let cm = AdviceMatrix.median(cpu) { none.cpuSamples = cpu.map { $0 / cm } }
                }
            }
            candidates.append(none)
            for c in configs {
                let rec = analysis.recommendations.first { $0.id == c.id }!
                var cand = AdviceMatrix.Candidate(id: c.id, change: c.change, predicted: rec.gains[objective]?.factor,
                                                  triggered: rec.status == .triggered,
                                                  rank: ranking.first { $0.id == c.id }?.rank,
                                                  note: c.note ?? failures[c.id])
                for (i, sample) in (runs[c.id] ?? []).enumerated() {
                    guard let s = sample, let before = baseValues[i], let after = s.values[objective] else { continue }
                    cand.samples.append(Self.factor(objective, before: before, after: after))
                    if objective == .throughput || objective == .cost, let b = baseRuns[i]?.cpuThroughput, let a = s.cpuThroughput {
                        cand.cpuSamples.append(a / b)
                    }
                }
                candidates.append(cand)
            }
            return AdviceMatrix.Scenario(setup: setup.name, model: setup.model, profile: base, objective: objective,
                                         baselineValue: baseMedian, candidates: candidates)
        }
    }

    /// The switch that turns a rule's technique on when the rule itself names none (it did not
    /// fire far enough to size one). nil: the rule has no runtime switch (R8 needs a cache
    /// first, R9 another model, R11 kernels).
    static func defaultChange(_ id: String, _ current: [String: String]) -> [String: String]? {
        switch id {
        case "R1": return ["scheduler": "continuous"]
        case "R2": return ["kv_layout": "paged"]
        case "R3": return ["kv_dtype": "int8"]
        case "R4": return ["spec": "quant", "gamma": "3"]
        case "R5": return ["scheduler": "chunked", "token_budget": "256"]
        case "R6": return ["disaggregated": "on"]
        case "R7": return ["prefix_cache": "on"]
        case "R10":
            let cap = Int(current["max_num_seqs"] ?? "") ?? 64
            return ["max_num_seqs": String(cap * 2)]
        default: return nil
        }
    }

    /// Measured factor (> 1 better): after/before for throughput, before/after for latencies.
    static func factor(_ objective: Objective, before: Double, after: Double) -> Double {
        AdviceVerifier.higherIsBetter(objective) ? after / before : before / after
    }

    /// One run's objective values and throughput per CPU second.
    struct Sample {
        var values: [Objective: Double]
        /// Output tokens per second of process CPU time (user + system) spent in `profile`.
        var cpuThroughput: Double?
    }

    private func measure(_ verifier: AdviceVerifier, _ arguments: [String], name: String) throws -> Sample {
        let cpu0 = Self.processCPUSeconds()
        let trace = try verifier.record(arguments, name: name)
        let cpu = Self.processCPUSeconds() - cpu0
        let r = try verifier.analyzeRecorded(trace)
        _ = unlink(trace)
        var values: [Objective: Double] = [:]
        for o in Objective.allCases { values[o] = AdviceVerifier.value(o, r) }
        let tokens = Double(r.metrics.requests.outputTokens)
        return Sample(values: values, cpuThroughput: cpu > 0 && tokens > 0 ? tokens / cpu : nil)
    }

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}
