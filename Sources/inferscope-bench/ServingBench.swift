import Foundation
import Kernels
import KVCache
import LlamaModel
import Scheduling
import ServingEngine
import TraceFormat
import Tracing

/// `inferscope-bench serving`: the serving techniques against their baselines, each pair run
/// side by side in this process on the same model and workload (issue #4 item 9):
///
/// 1. continuous vs static batching, output tokens/s on `mixed` (all requests at t = 0), beside
///    the static run's slot utilisation U_slot, prompt padding waste W_pad and the ideal gain
///    1/U_slot (methodology §5); and the system comparison (continuous + paged vs static +
///    contiguous reservation in the same, smaller KV memory);
/// 2. paged vs contiguous KV, most requests running at once in the same KV memory;
/// 3. int8 vs f32 KV, blocks in the same memory, most requests running at once, and the KL
///    divergence of next-token distributions (the accuracy cost);
/// 4. chunked vs continuous, p99 inter-token latency under a prefill-heavy open-loop load;
/// 5. disaggregated vs colocated, p99 inter-token latency on the same load;
/// 6. tracing on vs off on `mixed`: interleaved pairs, median of per-pair ratios of wall and
///    process CPU time, and the accounting estimate (events × measured cost per event).
enum ServingBench {
    static let usage = """
        USAGE: inferscope-bench serving [--json] [--model PRESET] [--requests N] [--threads N]
                                        [--pairs N] [--batching-pairs N]
                                        [--only batching|kv|latency|tracing]

        Runs each serving optimization and its baseline side by side and prints the ratios.
        Defaults: --model stories15m --requests 32 --threads <all cores> --pairs 6 (tracing
        off/on pairs) --batching-pairs 3 (static/continuous pairs); --only (repeatable) runs
        just those sections. Paired figures are medians of per-pair ratios.

        """

    /// The bench's sections, for `--only`.
    enum Section: String, CaseIterable { case batching, kv, latency, tracing }

    static func run(_ arguments: [String]) -> Int32 {
        var json = false
        var modelName = "stories15m"
        var requests = 32
        var threads = ProcessInfo.processInfo.activeProcessorCount
        var pairs = 6
        var batchingPairs = 3
        var only: Set<Section> = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            func value() -> String? { i += 1; return i < arguments.count ? arguments[i] : nil }
            switch a {
            case "--json": json = true
            case "--help", "-h": print(usage, terminator: ""); return 0
            case "--model": guard let v = value() else { return fail("--model needs a preset name") }; modelName = v
            case "--requests":
                guard let v = value().flatMap(Int.init), v > 0 else { return fail("--requests needs a positive integer") }
                requests = v
            case "--threads":
                guard let v = value().flatMap(Int.init), v > 0 else { return fail("--threads needs a positive integer") }
                threads = v
            case "--pairs":
                guard let v = value().flatMap(Int.init), v >= 1 else { return fail("--pairs needs a positive integer") }
                pairs = v
            case "--batching-pairs":
                guard let v = value().flatMap(Int.init), v >= 1 else { return fail("--batching-pairs needs a positive integer") }
                batchingPairs = v
            case "--only":
                guard let v = value().flatMap(Section.init(rawValue:)) else {
                    return fail("--only needs one of \(Section.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                only.insert(v)
            default: return fail("unknown option '\(a)'\n" + usage)
            }
            i += 1
        }
        do {
            let report = try measure(modelName: modelName, requests: requests, threads: threads, pairs: pairs,
                                     batchingPairs: batchingPairs,
                                     sections: only.isEmpty ? Set(Section.allCases) : only)
            print(report.render(json: json), terminator: "")
            return 0
        } catch {
            return fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Int32 {
        writeStandardError("error: \(message)\n")
        return 2
    }

    struct BenchError: Error, CustomStringConvertible { var description: String }

    static func measure(modelName: String, requests: Int, threads: Int, pairs: Int, batchingPairs: Int,
                        sections: Set<Section>) throws -> BenchReport {
        let model = try ModelLoader.load(modelName)
        let context = model.weights.config.maxSeqLen
        var report = BenchReport(bench: "serving")
        report.context = [("model", modelName), ("threads", "\(threads)"), ("requests per run", "\(requests)"),
                          ("cpu", hostCPUName())]
        var base = EngineOptions()
        base.threads = threads
        base.capacity = .bytes(64 << 20)

        func run(_ o: EngineOptions, _ w: Workload, traced: Bool = false) throws -> RunResult {
            try timedRun(o, w, traced: traced).result
        }
        /// One run, with the process CPU time it used and the trace events it recorded.
        func timedRun(_ o: EngineOptions, _ w: Workload, traced: Bool) throws -> TimedRun {
            var recorder: FileTraceRecorder?
            let path = NSTemporaryDirectory() + "inferscope-bench-serving-\(getpid()).json"
            if traced { recorder = try FileTraceRecorder(path: path) }
            let tracer = recorder.map { Tracer(sink: $0, clock: MonotonicClock()) } ?? Tracer.disabled
            let engine = try ServingEngine(model: model, options: o, tracer: tracer)
            let cpu0 = processCPUTime()
            let r = try engine.run(w)
            var events = 0
            if let recorder {
                try recorder.close()
                events = recorder.writtenEvents
                if recorder.droppedEvents > 0 { writeStandardError("warning: \(recorder.droppedEvents) trace events dropped\n") }
                try? FileManager.default.removeItem(atPath: path)
            }
            return TimedRun(result: r, cpu: processCPUTime() - cpu0, events: events)
        }
        func progress(_ s: String) { writeStandardError("serving bench: \(s)\n") }

        let mixedBurst = try Workload.builtIn("mixed", count: requests, arrival: .burst, seed: 1, maxContext: context)
        // The batch size, not a token cap, is the knob of a static server (HF `generate` takes the
        // whole padded batch): both policies may prefill max-num-seqs full-context prompts at once.
        var continuousOptions = base
        continuousOptions.maxNumSeqs = 16
        continuousOptions.maxBatchedTokens = continuousOptions.maxNumSeqs * context
        var staticOptions = continuousOptions
        staticOptions.policy = .static

        // 1. Continuous vs static, offline throughput on mixed, beside the static run's waste.
        if sections.contains(.batching) {
            measureStepCost(&report, weights: model.weights, threads: threads)
            try measureBatching(&report, pairs: batchingPairs, static: staticOptions, continuous: continuousOptions) { o in
                try timedRun(o, mixedBurst, traced: false)
            }
        }
        if sections.contains(.kv) {
            // 2. Paged vs contiguous: concurrency in the same KV memory.
            progress("paged vs contiguous")
            var small = base
            small.capacity = .bytes(16 << 20)
            small.maxNumSeqs = 256
            let pagedRun = try run(small, mixedBurst)
            var contiguous = small
            contiguous.layout = .contiguous
            let contiguousRun = try run(contiguous, mixedBurst)
            report.add("paged: max concurrent requests (16 MiB KV)", Double(pagedRun.peakRunning), "requests")
            report.add("contiguous: max concurrent requests (16 MiB KV)", Double(contiguousRun.peakRunning), "requests")
            report.add("paged / contiguous max concurrency", Double(pagedRun.peakRunning) / Double(contiguousRun.peakRunning), "x",
                       "goal >= 2")

            // 3. int8 vs f32 KV: capacity and accuracy.
            progress("int8 vs f32 KV")
            var int8 = small
            int8.dtype = .int8
            let int8Run = try run(int8, mixedBurst)
            let f32Blocks = pagedRun.blocksTotal["kv"] ?? 0, int8Blocks = int8Run.blocksTotal["kv"] ?? 0
            report.add("f32 KV: blocks in 16 MiB", Double(f32Blocks), "blocks")
            report.add("int8 KV: blocks in 16 MiB", Double(int8Blocks), "blocks")
            report.add("int8 / f32 KV capacity", Double(int8Blocks) / Double(max(1, f32Blocks)), "x")
            report.add("int8 / f32 max concurrent requests", Double(int8Run.peakRunning) / Double(max(1, pagedRun.peakRunning)), "x",
                       "limited by the workload's size once KV stops binding")
            var rng = Xoshiro256(seed: 9)
            let prompts = (0..<4).map { _ in (0..<64).map { _ in Int32(3 + rng.next() % UInt64(model.weights.config.vocabSize - 3)) } }
            for dtype in [KVDType.f16, .int8, .int4] {
                let kl = try KVDTypeComparison.meanKLDivergence(dtype, weights: model.weights, prompts: prompts, threads: threads)
                report.add("\(dtype) KV: mean KL vs f32 (4 x 64-token prompts)", kl * 1e6, "µnats")
            }
        }
        if sections.contains(.latency) {
            // 4-5. Prefill-heavy open-loop load: chunked vs continuous, disaggregated vs colocated.
            // The rate must keep several decodes running while prompts arrive, or there are too few
            // stalled gaps to reach the p99: at 4 req/s a quiet 2-core host is mostly idle (p99 ITL
            // 4 ms, chunking only adds mixed steps); 16 req/s keeps it busy.
            let heavyRate = 16.0
            let heavyClasses = [Workload.builtInClasses["rag"]![0], Workload.builtInClasses["agent"]![0]]
            let heavy = WorkloadGenerator(name: "rag+agent", classes: heavyClasses, count: requests,
                                          arrival: .poisson(rate: heavyRate), seed: 2, maxContext: context).generate()
            progress("chunked vs continuous")
            let continuousHeavy = try run(base, heavy)
            var chunked = base
            chunked.policy = .chunked
            chunked.tokenBudget = 64
            let chunkedHeavy = try run(chunked, heavy)
            let p99Continuous = p99(continuousHeavy.interTokenGaps), p99Chunked = p99(chunkedHeavy.interTokenGaps)
            report.add("continuous: p99 ITL (rag+agent, \(formatRate(heavyRate)) req/s)", p99Continuous, "ms")
            report.add("chunked (budget 64): p99 ITL (rag+agent, \(formatRate(heavyRate)) req/s)", p99Chunked, "ms")
            report.add("chunked / continuous p99 ITL", p99Chunked / p99Continuous, "x", "< 1 is better")
            progress("disaggregated vs colocated")
            var disaggregated = base
            disaggregated.disaggregated = true
            disaggregated.threads = max(2, threads)
            let disaggregatedHeavy = try run(disaggregated, heavy)
            let p99Disaggregated = p99(disaggregatedHeavy.interTokenGaps)
            report.add("disaggregated: p99 ITL (rag+agent, \(formatRate(heavyRate)) req/s)", p99Disaggregated, "ms",
                       "\(max(1, disaggregated.threads / 2)) thread(s) per worker")
            report.add("disaggregated / colocated p99 ITL", p99Disaggregated / p99Continuous, "x", "< 1 is better")
            report.add("disaggregated: hand-off copy time per request",
                       Double(disaggregatedHeavy.transferTime[.handoff] ?? 0) / 1e3 / Double(max(1, disaggregatedHeavy.completed.count)),
                       "us")
        }
        if sections.contains(.tracing) {
            try measureTracing(&report, pairs: pairs) { traced in try timedRun(continuousOptions, mixedBurst, traced: traced) }
        }
        return report
    }

    /// Runs `baseline` and `optimized` alternately, `pairs` times, and returns the runs with the
    /// per-pair ratios optimized/baseline of throughput (wall) and of CPU time per output token.
    /// Pairing cancels the slow drifts of a shared host; the median of the ratios resists its spikes.
    static func paired(_ pairs: Int, _ baseline: () throws -> TimedRun, _ optimized: () throws -> TimedRun) rethrows -> Paired {
        var p = Paired()
        for _ in 0..<pairs {
            let b = try baseline(), o = try optimized()
            p.baseline.append(b)
            p.optimized.append(o)
            p.throughputRatios.append(o.result.outputThroughput / b.result.outputThroughput)
            p.cpuRatios.append(b.cpuPerToken / o.cpuPerToken)
        }
        return p
    }

    struct Paired {
        var baseline: [TimedRun] = []
        var optimized: [TimedRun] = []
        /// optimized / baseline output tokens per wall second, per pair.
        var throughputRatios: [Double] = []
        /// baseline / optimized process CPU time per output token, per pair.
        var cpuRatios: [Double] = []
    }

    static func median(_ xs: [Double]) -> Double { percentile(xs, 50) ?? .nan }

    /// "(min 1.23, max 4.56)" over a pair set's ratios.
    static func spread(_ xs: [Double]) -> String {
        "min \(BenchReport.format(xs.min() ?? .nan)), max \(BenchReport.format(xs.max() ?? .nan))"
    }

    /// How the cost of a pure decode step grows with its rows on this host: the forward pass of
    /// B one-token sequences at context 128, B = 1…16, best of 15 (the least disturbed), per row.
    /// Flat per-row cost means step cost ∝ rows (batching saves nothing per row); falling
    /// per-row cost is the memory-bound regime where a bigger batch comes nearly free.
    static func measureStepCost(_ report: inout BenchReport, weights: ModelWeights, threads: Int) {
        writeStandardError("serving bench: decode step cost vs rows\n")
        let c = weights.config, context = min(128, c.maxSeqLen - 1), blockSize = 16
        let blocksPerSequence = (context + 1 + blockSize - 1) / blockSize
        let rowCounts = [1, 2, 4, 8, 16]
        guard let kv = try? KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                           blockCount: blocksPerSequence * rowCounts.max()!, dtype: .f32) else { return }
        let transformer = Transformer(weights: weights, maxBatchTokens: rowCounts.max()!, maxLogitRows: rowCounts.max()!,
                                      pool: ThreadPool(threadCount: threads))
        var single = 0.0
        for rows in rowCounts {
            var batch = ForwardBatch()
            for r in 0..<rows {
                let table = (0..<blocksPerSequence).map { Int32(r * blocksPerSequence + $0) }
                batch.append(tokens: [Int32(3 + r)], startPosition: context, blockTable: table, logits: .last)
            }
            var best = Int64.max
            for _ in 0..<15 {
                let t0 = MonotonicClock.absoluteNow()
                _ = transformer.forward(batch, kv: kv)
                best = min(best, MonotonicClock.absoluteNow() - t0)
            }
            let perRow = Double(best) / 1e3 / Double(rows)
            if rows == 1 { single = perRow }
            report.add("decode step, \(rows) row\(rows == 1 ? "" : "s") (context \(context)): time per row", perRow, "us",
                       rows == 1 ? "best of 15" : "\(BenchReport.format(single / perRow))x cheaper per row than 1 row")
        }
    }

    /// 1. Continuous vs static on `mixed` (all at t = 0, max 16 sequences): paired runs, the
    /// static run's waste (U_slot, W_pad), the methodology's ideal 1/U_slot, and the gain the
    /// workload allows if a row costs what it costs in the static run (step cost ∝ rows, a CPU's
    /// regime). Then the system comparison (continuous + paged vs static + contiguous, 16 MiB).
    static func measureBatching(_ report: inout BenchReport, pairs: Int, static staticOptions: EngineOptions,
                                continuous continuousOptions: EngineOptions, _ run: (EngineOptions) throws -> TimedRun) throws {
        writeStandardError("serving bench: continuous vs static (\(pairs) pairs)\n")
        let p = try paired(pairs, { try run(staticOptions) }, { try run(continuousOptions) })
        let ratio = median(p.throughputRatios)
        let staticRun = p.baseline[0].result, continuousRun = p.optimized[0].result
        let waste = StaticWaste(staticRun)
        report.add("static: output throughput (mixed, max 16 seqs)", median(p.baseline.map(\.result.outputThroughput)), "tok/s",
                   "median of \(pairs); padded prompts, every slot until the batch's longest output")
        report.add("continuous: output throughput (mixed, max 16 seqs)", median(p.optimized.map(\.result.outputThroughput)), "tok/s",
                   "median of \(pairs)")
        report.add("continuous / static throughput", ratio, "x", "median of \(pairs) per-pair ratios (\(spread(p.throughputRatios))); goal >= 3")
        report.add("continuous / static, CPU time per token", median(p.cpuRatios), "x", "median of \(pairs) (\(spread(p.cpuRatios)))")
        report.add("static: decode slot utilisation U_slot", waste.slotUtilisation, "",
                   "sum o_i / sum B*O over \(staticRun.requests.count) requests")
        report.add("static: prompt padding waste W_pad", waste.paddingWaste, "", "1 - sum s_i / sum B*S")
        report.add("ideal continuous / static (1 / U_slot)", 1 / waste.slotUtilisation, "x",
                   "methodology §5: decode step cost flat in batch")
        report.add("measured / ideal", ratio * waste.slotUtilisation, "", "share of 1/U_slot reached")
        let proportional = p.baseline.indices.map { WorkModel(static: p.baseline[$0].result).gain(continuous: p.optimized[$0].result) }
        report.add("expected continuous / static at static's costs", median(proportional), "x",
                   "step cost ∝ tokens and rows, each at its cost in the static run (a CPU's regime)")
        func perRow(_ r: RunResult) -> Double {
            Double(r.phaseTime[.decode] ?? 0) / 1e3 / Double(max(1, r.decodeTokens + r.paddingRows))
        }
        report.add("static: decode time per row", median(p.baseline.map { perRow($0.result) }), "us", "padding rows included")
        report.add("continuous: decode time per row", median(p.optimized.map { perRow($0.result) }), "us",
                   "mean decode batch \(BenchReport.format(Double(continuousRun.decodeTokens) / Double(max(1, decodeSteps(continuousRun))))) rows")
        report.add("continuous: schedule + sample share of run", median(p.optimized.map { r in
            100 * Double((r.result.phaseTime[.schedule] ?? 0) + (r.result.phaseTime[.sample] ?? 0)) / Double(r.result.duration)
        }), "%", "the engine's per-step bookkeeping")

        // The system comparison of the literature's 3-23x figures: continuous batching with paged
        // KV vs static batching with contiguous per-request reservations, in the same KV memory.
        writeStandardError("serving bench: continuous + paged vs static + contiguous (16 MiB KV)\n")
        var systemStatic = staticOptions
        systemStatic.capacity = .bytes(16 << 20)
        systemStatic.layout = .contiguous
        var systemContinuous = continuousOptions
        systemContinuous.capacity = .bytes(16 << 20)
        let system = try paired(pairs, { try run(systemStatic) }, { try run(systemContinuous) })
        report.add("static + contiguous: output throughput (16 MiB KV)", median(system.baseline.map(\.result.outputThroughput)), "tok/s",
                   "peak \(system.baseline[0].result.peakRunning) running")
        report.add("continuous + paged: output throughput (16 MiB KV)", median(system.optimized.map(\.result.outputThroughput)), "tok/s",
                   "peak \(system.optimized[0].result.peakRunning) running")
        report.add("system: continuous+paged / static+contiguous", median(system.throughputRatios), "x",
                   "median of \(pairs) (\(spread(system.throughputRatios))); the Anyscale comparison")
    }

    /// 6. The cost of tracing on `mixed` (offline, continuous): `pairs` interleaved pairs (off, on,
    /// off, on, …) after one warm-up pair; the median of the per-pair on/off ratios of wall time
    /// and of process CPU time (every thread, the trace writer's included), and the accounting
    /// estimate — events per run × the recorder's cost per event, measured here — over the run.
    static func measureTracing(_ report: inout BenchReport, pairs: Int, _ run: (Bool) throws -> TimedRun) throws {
        writeStandardError("serving bench: tracing on vs off (\(pairs) pairs)\n")
        _ = try run(false)
        _ = try run(true)
        let p = try paired(pairs, { try run(false) }, { try run(true) })
        let onRuns = p.optimized
        let wallRatios = p.baseline.indices.map { Double(p.optimized[$0].result.duration) / Double(p.baseline[$0].result.duration) }
        let cpuRatios = p.baseline.indices.map { Double(p.optimized[$0].cpu) / Double(p.baseline[$0].cpu) }
        let events = median(onRuns.map { Double($0.events) })
        let onWall = median(onRuns.map { Double($0.result.duration) }), onCPU = median(onRuns.map { Double($0.cpu) })
        report.add("tracing off: output throughput (mixed)", median(p.baseline.map(\.result.outputThroughput)), "tok/s",
                   "median of \(pairs) runs")
        report.add("tracing on: output throughput (mixed)", median(onRuns.map(\.result.outputThroughput)), "tok/s",
                   "median of \(pairs) runs")
        report.add("tracing overhead, wall time", 100 * (median(wallRatios) - 1), "%",
                   "median of \(pairs) per-pair on/off ratios (min \(pct(wallRatios.min())), max \(pct(wallRatios.max()))); goal <= 1")
        report.add("tracing overhead, process CPU time", 100 * (median(cpuRatios) - 1), "%",
                   "median of \(pairs) per-pair ratios (min \(pct(cpuRatios.min())), max \(pct(cpuRatios.max()))); all threads")
        report.add("trace events per run", events, "events", "\(BenchReport.format(events / Double(max(1, onRuns[0].result.forwardSteps)))) per step")
        // The recorder's two costs, measured in this process: record() on the engine's thread,
        // and encoding + write(2) on the writer thread.
        let pool = TraceBench.eventPool()
        var settings = TraceBench.Settings()
        settings.bursts = 10
        let record = TraceBench.measureRecorder(pool, threads: 1, settings).cpu
        let path = NSTemporaryDirectory() + "inferscope-bench-serving-encode-\(getpid()).json"
        let (_, writeSeconds, written) = TraceBench.writeTrace(path, sizeMB: 20, pool: pool)
        unlink(path)
        let encode = writeSeconds * 1e9 / Double(written)
        report.add("recorder: record() per event", record, "ns", "engine thread (thread CPU time)")
        report.add("recorder: encode + write per event", encode, "ns", "writer thread")
        report.add("accounting: record() share of run wall time", 100 * events * record / onWall, "%",
                   "events x record() / median traced run")
        report.add("accounting: recorder share of run CPU time", 100 * events * (record + encode) / onCPU, "%",
                   "events x (record() + encode) / median traced run CPU")
    }

    /// "+1.23%" for a ratio of 1.0123.
    static func pct(_ ratio: Double?) -> String {
        guard let ratio else { return "n/a" }
        let v = 100 * (ratio - 1)
        return (v >= 0 ? "+" : "") + BenchReport.format(v) + "%"
    }

    /// Decode-only forward steps of a run.
    static func decodeSteps(_ r: RunResult) -> Int { r.forwardStepsByPhase[.decode] ?? 0 }

    static func p99(_ gaps: [TraceDuration]) -> Double { (percentile(gaps.map(Double.init), 99) ?? .nan) / 1e6 }
}

/// "16" for 16.0, "2.5" for 2.5: a rate for a row label.
private func formatRate(_ r: Double) -> String {
    r == r.rounded() ? String(Int(r)) : String(r)
}

/// A serving run with what it cost the process.
struct TimedRun {
    var result: RunResult
    /// Process CPU time (user + system, every thread), ns.
    var cpu: Int64
    /// Trace events written (0 untraced).
    var events: Int
    /// Process CPU time per output token, ns.
    var cpuPerToken: Double { Double(cpu) / Double(max(1, result.outputTokens)) }
}

/// User + system CPU time of this process (every thread) so far, ns (`getrusage(RUSAGE_SELF)`).
func processCPUTime() -> Int64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func ns(_ t: timeval) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_usec) * 1_000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// A static run's waste (methodology §5): with B members, prompts s_i padded to S, outputs o_i
/// run for O steps, U_slot = Σ o_i / Σ B·O and W_pad = 1 − Σ s_i / Σ B·S, summed over batches.
/// The engine samples each first token after the prompt, so B·O = Σ o_i + padding rows and
/// B·S = Σ s_i + prompt padding tokens.
struct StaticWaste {
    var slotUtilisation: Double
    var paddingWaste: Double

    init(_ r: RunResult) {
        let outputs = Double(r.outputTokens)
        slotUtilisation = outputs / (outputs + Double(r.paddingRows))
        paddingWaste = Double(r.promptPaddingTokens) / Double(r.prefillTokens + r.promptPaddingTokens)
    }
}

/// A static run's forward time split into what a prompt token and a decode row cost in it, to
/// price a continuous run's work at the same rates: the gain continuous batching can show when
/// step cost is proportional to tokens and rows (a CPU past its ridge point), rather than flat
/// in batch size (the memory-bound regime, where the gain approaches 1/U_slot). Scheduling and
/// sampling are left out of both sides.
struct WorkModel {
    /// ns per prompt token (padding included) and per decode row (padding rows included).
    var perPromptToken: Double
    var perDecodeRow: Double
    /// The static run's prefill + decode time, ns.
    var staticForward: Double

    init(static r: RunResult) {
        let prefill = Double(r.phaseTime[.prefill] ?? 0), decode = Double(r.phaseTime[.decode] ?? 0)
        perPromptToken = prefill / Double(max(1, r.prefillTokens + r.promptPaddingTokens))
        perDecodeRow = decode / Double(max(1, r.decodeTokens + r.paddingRows))
        staticForward = prefill + decode
    }

    /// Static forward time over the continuous run's tokens and rows priced at static's rates.
    func gain(continuous c: RunResult) -> Double {
        staticForward / (perPromptToken * Double(c.prefillTokens) + perDecodeRow * Double(c.decodeTokens))
    }
}
