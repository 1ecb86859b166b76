#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import Reporting
import KVCache
import LlamaModel
import Scheduling
import ServingEngine
import TraceFormat
import Tracing

/// `inferscope profile`: runs a workload through the serving engine, writes the trace and prints
/// a one-screen summary. With no arguments: `stories15m` (synthetic preset) on `mixed`.
struct ProfileCommand: Command {
    static let defaultTrace = "inferscope-trace.json"

    let spec = CommandSpec(
        name: "profile",
        abstract: "Serve a workload on a model in the built-in runtime, write its trace and print a summary.",
        discussion: """
            With no arguments: the stories15m preset (synthetic weights) on the built-in 'mixed' workload \
            (64 requests, Poisson at 8 req/s), continuous batching, paged f32 KV; the trace goes to \
            ./\(ProfileCommand.defaultTrace). Workloads: \(Workload.builtInNames.joined(separator: ", ")), \
            a .jsonl request file or a ShareGPT .json file (see docs/workloads.md). Sizes take K, M, G \
            suffixes (powers of 1024). A progress line goes to stderr when it is a terminal.
            """,
        options: [
            .value("--model", "PRESET|PATH", help: "Preset (\(ModelPreset.all.map(\.name).joined(separator: ", "))), GGUF file or llama2.c checkpoint.", default: "stories15m"),
            .value("--workload", "NAME|FILE", help: "Built-in workload name or request file.", default: "mixed"),
            .value("--requests", "N", help: "Requests to generate (built-ins) or to keep from a file (first N)."),
            .value("--rate", "R", help: "Open-loop Poisson arrivals at R requests/s (built-ins default to 8)."),
            .value("--concurrency", "N", help: "Closed loop: keep N requests in flight."),
            .value("--scheduler", "static|continuous|chunked", help: "Batching policy.", default: "continuous"),
            .value("--token-budget", "N", help: "Tokens per step for the chunked scheduler.", default: "256"),
            .value("--max-num-seqs", "N", help: "Most sequences in a batch.", default: "64"),
            .value("--max-batched-tokens", "N", help: "Prompt tokens per prefill step (static, continuous).", default: "2048"),
            .value("--kv-layout", "paged|contiguous", help: "Paged blocks, or the contiguous max-length reservation baseline.", default: "paged"),
            .value("--kv-dtype", "f32|f16|int8|int4", help: "KV cache element type.", default: "f32"),
            .value("--kv-memory", "BYTES", help: "KV pool size in bytes (default 64M); more blocks fit with a narrower dtype."),
            .value("--kv-blocks", "N", help: "KV pool size in blocks (instead of --kv-memory)."),
            .value("--block-size", "N", help: "Tokens per KV block.", default: "16"),
            .value("--preempt", "recompute|swap", help: "What to do with a sequence evicted when the pool is full.", default: "recompute"),
            .value("--swap-dir", "DIR", help: "Swap to files in DIR instead of host memory."),
            .flag("--prefix-cache", help: "Share full prompt blocks between requests with the same prefix."),
            .value("--prefix-offload", "N", help: "Keep up to N evicted prefix-cache blocks in host memory and reload them instead of recomputing."),
            .flag("--disaggregated", help: "Separate prefill and decode workers (threads, KV pools) with a KV hand-off."),
            .value("--threads", "N", help: "Compute threads (default: all cores)."),
            .value("--temperature", "T", help: "Sampling temperature (0 = greedy).", default: "0"),
            .value("--spec", "STRATEGY", help: "Speculative decoding: draft:MODEL, quant, early-exit:K or ngram[:N] (docs/speculative.md)."),
            .value("--gamma", "N|adaptive", help: "Draft tokens per speculation round, or adaptive (with --spec).", default: "4"),
            .flag("--json", help: "Print the run summary as JSON (schema inferscope.profile/1, docs/json-output.md)."),
            .flag("--no-probe", help: "Skip the probes recorded in the trace header: this machine's read bandwidth and FMA peak, the KV attention kernels, speculation's acceptance and costs, the step time against batch size (about 2 s; stories110m about 6 s)."),
            .value("--seed", "S", help: "Seed for the workload, synthetic weights and sampling.", default: "0"),
            .value("--output", short: "-o", "TRACE", help: "Trace file to write.", default: ProfileCommand.defaultTrace),
        ] + ProfileCommand.endpointOptions)

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if arguments.value("--endpoint") != nil { return try runEndpoint(arguments, context) }
        if let message = CPUFeatures.unsupportedBuildMessage() { throw CommandFailure(message) }
        let seed = try Self.unsigned(arguments, "--seed")
        let model = try Self.loadModel(arguments, seed: seed, context: context)
        let options = try Self.engineOptions(arguments, seed: seed)
        var workload = try Self.workload(arguments, maxContext: model.weights.config.maxSeqLen, seed: seed, context: context)
        let fitted = workload.fit(maxContext: model.weights.config.maxSeqLen)
        if fitted.clipped + fitted.dropped > 0 {
            context.stderr.write("warning: \(fitted.clipped) requests clipped and \(fitted.dropped) dropped to fit the model's context of \(model.weights.config.maxSeqLen) tokens\n")
        }
        guard !workload.requests.isEmpty else { throw CommandFailure("no request of \(workload.name) fits the model's context") }

        let output = try StagedOutputFile(target: context.resolve(arguments.value("--output")!), shownAs: arguments.value("--output")!)
        var progress: ((Int, Int) -> Void)?
        if let fd = context.stderrDescriptor, isatty(fd.fd) == 1 {
            let stderr = context.stderr
            progress = { done, total in stderr.write("\rprofile: \(done)/\(total) requests done") }
        }
        // The roofs of this machine, for MFU/MBU in `analyze` (≈ 1 s).
        let peaks = arguments.flag("--no-probe") ? nil : HostPeaks.measure(threads: options.threads)
        let (engine, result) = try Self.record(model: model, options: options, workload: workload, output: output,
                                               hostPeaks: peaks, context: context, progress: progress)
        if progress != nil { context.stderr.write("\n") }
        let shown = arguments.value("--output")!
        if arguments.flag("--json") {
            context.stdout.write(Self.json(result, workload: workload, trace: shown))
            return .success
        }
        context.stdout.write(result.summary(engine: engine, workload: workload, tracePath: shown))
        let quoted = shown.contains(" ") ? "'\(shown)'" : shown
        context.stdout.write("next        inferscope analyze \(quoted)   (or: inferscope report \(quoted), an HTML page)\n")
        return .success
    }

    /// The `--json` document (schema "inferscope.profile/1"): what was run and its headline
    /// numbers; `inferscope analyze --json` on the trace gives the full analysis.
    static func json(_ r: RunResult, workload: Workload, trace: String) -> String {
        let seconds = Double(r.duration) / 1e9
        return JSONValue.object([
            "schema": .string("inferscope.profile/1"), "trace": .string(trace), "workload": .string(workload.name),
            "requests": .int(r.requests.count), "completed": .int(r.completed.count),
            "aborted": .int(r.requests.count - r.completed.count), "duration_s": .number(seconds),
            "output_tokens": .int(r.outputTokens), "output_tokens_per_s": .number(r.outputThroughput),
            "forward_steps": .int(r.forwardSteps), "prefill_tokens": .int(r.prefillTokens), "decode_tokens": .int(r.decodeTokens),
        ]).serialized()
    }

    /// The `--model` preset or file.
    static func loadModel(_ a: ParsedArguments, seed: UInt64, context: CommandContext) throws -> LoadedModel {
        let name = a.value("--model")!
        if ModelPreset.named(name) == nil, access(context.resolve(name), F_OK) != 0 {
            // Neither a preset nor an existing file: the command line is wrong (exit 2, as every unknown name).
            throw UsageError("option '--model' expects a preset (\(ModelPreset.all.map(\.name).joined(separator: ", "))) "
                             + "or a .gguf / llama2.c file, found '\(name)'",
                             hint: Suggestions.didYouMean(name, among: ModelPreset.all.map(\.name)))
        }
        do {
            return try ModelLoader.load(ModelPreset.named(name) != nil ? name : context.resolve(name), seed: seed)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Serves `workload` once with a file recorder on `output`'s partial file, renamed into place
    /// when the run completes (``StagedOutputFile``); the engine (for the summary) and the run's
    /// result. Engine set-up problems are usage errors, run failures command failures (the partial
    /// trace is then kept and named).
    static func record(model: LoadedModel, options: EngineOptions, workload: Workload, output: StagedOutputFile,
                       hostPeaks: HostMeasurement?, context: CommandContext,
                       progress: ((Int, Int) -> Void)? = nil) throws -> (ServingEngine, RunResult) {
        let recorder: FileTraceRecorder
        do { recorder = try FileTraceRecorder(path: output.partial) } catch { throw CommandFailure("\(error)") }
        let tracer = Tracer(sink: recorder, clock: MonotonicClock())
        let engine: ServingEngine
        do { engine = try ServingEngine(model: model, options: options, tracer: tracer) } catch {
            try? recorder.close()
            output.discard()
            throw UsageError(error.message)
        }
        engine.hostPeaks = hostPeaks
        if hostPeaks != nil {
            engine.probeKVAttention()
            engine.probeSpeculation(workload)
            engine.probeStepTime()
        }
        let result: RunResult
        do {
            result = try engine.run(workload, progress: progress)
        } catch {
            try? recorder.close()
            throw CommandFailure("\(error.message) (the partial trace is kept in \(output.shownPartial); \(output.shown) is untouched)")
        }
        do { try recorder.close() } catch { throw CommandFailure("\(error)") }
        try output.commit()
        if recorder.droppedEvents > 0 {
            context.stderr.write("warning: the trace recorder dropped \(recorder.droppedEvents) events (ring full)\n")
        }
        return (engine, result)
    }

    // MARK: - Option parsing

    static func engineOptions(_ a: ParsedArguments, seed: UInt64) throws -> EngineOptions {
        var o = EngineOptions()
        o.seed = seed
        o.policy = try choice(a, "--scheduler", SchedulerPolicy.allCases)
        o.layout = try choice(a, "--kv-layout", KVLayout.allCases)
        o.preemption = try choice(a, "--preempt", PreemptionMode.allCases)
        guard let dtype = KVDType(name: a.value("--kv-dtype")!) else {
            throw UsageError("option '--kv-dtype' expects f32, f16, int8 or int4, found '\(a.value("--kv-dtype")!)'")
        }
        o.dtype = dtype
        o.tokenBudget = try positive(a, "--token-budget")
        o.maxNumSeqs = try positive(a, "--max-num-seqs")
        o.maxBatchedTokens = try positive(a, "--max-batched-tokens")
        o.blockSize = try positive(a, "--block-size")
        o.threads = try a.int("--threads") ?? ThreadPool.onlineCores
        if o.threads < 1 { throw UsageError("option '--threads' expects at least 1, found \(o.threads)") }
        o.prefixCaching = a.flag("--prefix-cache")
        o.prefixOffloadBlocks = try a.int("--prefix-offload") ?? 0
        o.disaggregated = a.flag("--disaggregated")
        if o.disaggregated { o.threads = max(2, o.threads) }
        o.temperature = Float(try a.double("--temperature") ?? 0)
        if let dir = a.value("--swap-dir") { o.swapTier = .disk(directory: dir) }
        if let spec = a.value("--spec") {
            do {
                o.speculation = SpeculationConfig(strategy: try DraftStrategy(parsing: spec), draftLength: try DraftLength(parsing: a.value("--gamma")!))
            } catch {
                throw UsageError("option '\(error.option)' expects \(error.expected.replacingOccurrences(of: "expected ", with: "")), found '\(error.value)'")
            }
        }
        switch (a.value("--kv-memory"), try a.int("--kv-blocks")) {
        case (.some, .some):
            throw UsageError("give either --kv-memory or --kv-blocks, not both")
        case (.some(let text), nil):
            guard let bytes = parseSize(text), bytes > 0 else {
                throw UsageError("option '--kv-memory' expects a size in bytes such as 64M or 1G, found '\(text)'")
            }
            o.capacity = .bytes(bytes)
        case (nil, .some(let n)):
            guard n > 0 else { throw UsageError("option '--kv-blocks' expects at least 1, found \(n)") }
            o.capacity = .blocks(n)
        case (nil, nil):
            break
        }
        do { try o.validate() } catch { throw UsageError(error.message) }
        return o
    }

    /// The `--workload` with its arrival pattern: `arrival` when given (the sweep's load points),
    /// else from `--rate` / `--concurrency`, else the workload's default.
    static func workload(_ a: ParsedArguments, maxContext: Int, seed: UInt64, context: CommandContext,
                         arrival given: ArrivalPattern? = nil) throws -> Workload {
        let count = try a.int("--requests")
        if let n = count, n < 1 { throw UsageError("option '--requests' expects at least 1, found \(n)") }
        var arrival = given
        if given == nil {
            let rate = try a.double("--rate")
            let concurrency = try a.int("--concurrency")
            if rate != nil && concurrency != nil { throw UsageError("give either --rate or --concurrency, not both") }
            if let r = rate, r <= 0 { throw UsageError("option '--rate' expects a positive number of requests/s, found \(r)") }
            if let c = concurrency, c < 1 { throw UsageError("option '--concurrency' expects at least 1, found \(c)") }
            arrival = try rate.map { try openLoopArrival(rate: $0, a) } ?? concurrency.map { .closedLoop(concurrency: $0) }
        }
        let name = a.value("--workload")!
        do {
            if Workload.builtInClasses[name] != nil {
                return try Workload.builtIn(name, count: count ?? Workload.defaultRequestCount,
                                            arrival: arrival ?? Workload.defaultArrival, seed: seed, maxContext: maxContext)
            }
            if name.hasSuffix(".jsonl") || name.hasSuffix(".json") {
                var w = try Workload.load(path: context.resolve(name), arrival: arrival ?? .recorded, seed: seed, limit: count)
                w.name = name
                return w
            }
            _ = try Workload.builtIn(name, maxContext: maxContext)   // throws the list of names
            throw CommandFailure("unreachable")
        } catch let error as WorkloadError {
            if error.source == "--workload" {
                throw UsageError(error.description, hint: Suggestions.didYouMean(name, among: Workload.builtInNames))
            }
            throw CommandFailure(error.description)
        }
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ a: ParsedArguments, _ name: String, _ all: T.AllCases) throws -> T
    where T.RawValue == String {
        let text = a.value(name)!
        guard let v = T(rawValue: text) else {
            throw UsageError("option '\(name)' expects one of \(all.map(\.rawValue).joined(separator: ", ")), found '\(text)'",
                             hint: Suggestions.didYouMean(text, among: all.map(\.rawValue)))
        }
        return v
    }

    static func positive(_ a: ParsedArguments, _ name: String) throws -> Int {
        guard let v = try a.int(name), v >= 1 else { throw UsageError("option '\(name)' expects an integer ≥ 1, found '\(a.value(name) ?? "")'") }
        return v
    }

    static func unsigned(_ a: ParsedArguments, _ name: String) throws -> UInt64 {
        let text = a.value(name)!
        guard let v = UInt64(text) else { throw UsageError("option '\(name)' expects a non-negative integer, found '\(text)'") }
        return v
    }

    /// "65536", "64K", "64M", "1G", "64MiB", "64MB" (all powers of 1024).
    static func parseSize(_ text: String) -> Int? {
        var t = text.uppercased()
        for suffix in ["IB", "B"] where t.hasSuffix(suffix) { t.removeLast(suffix.count); break }
        var scale = 1
        if let last = t.last, let s = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last)] {
            scale = s
            t.removeLast()
        }
        guard let n = Int(t), n >= 0, n <= Int.max / scale else { return nil }
        return n * scale
    }
}
