import Foundation
import KVCache
import Kernels
import LlamaModel
import Scheduling
import TraceFormat
import Tracing

/// The serving engine: replays a workload against a real model in real time — requests arrive
/// at their offsets on the injected clock (open loop) or as earlier ones complete (closed
/// loop) — and runs the step loop schedule → move KV → forward → sample → update until every
/// request has finished, tracing every step, request lifecycle point, KV sample and transfer.
///
/// Colocated mode runs one worker on the calling thread. Disaggregated mode runs a prefill
/// worker and a decode worker on two threads, each with its own KV pool and half the compute
/// threads; finished prefills hand their KV blocks to the decode worker through a queue.
public final class ServingEngine {
    public let model: LoadedModel
    public let options: EngineOptions
    public let tracer: Tracer
    /// Blocks per KV pool (each worker's pool in disaggregated mode).
    public let kvBlocks: Int
    public let descriptor: ModelDescriptor
    /// This machine's measured roofs (``HostProbe``), recorded in the trace header so the
    /// analyzer can compute MFU and MBU without probing again. Nil: the header says "unknown".
    public var hostPeaks: HostMeasurement?
    /// Decode-attention cost per cached token of one sequence (all layers and KV heads, one
    /// thread), seconds, per KV element type (``KVAttentionProbe``); recorded in the header as
    /// `probe.kv_attention_ns_per_token.<dtype>` so the analyzer can price a KV dtype change.
    public var kvAttentionCost: [KVDType: Double] = [:]
    /// The speculation probe's measurements (``probeSpeculation(_:strategy:gamma:requests:promptTokens:outputTokens:)``),
    /// recorded in the header as `probe.spec.*`; nil when not probed.
    public var speculationProbe: SpeculationProbeResult?
    /// The step-time probe's curve (``probeStepTime(repetitions:)``), recorded in the header as
    /// `probe.step_us.threads_<t>`; nil when not probed.
    public var stepTimeProbe: StepTimeProbeResult?
    let sleep: (TraceTime) -> Void

    /// - Parameters:
    ///   - tracer: where events go and which clock times the run (``Tracer/disabled`` for none).
    ///   - sleep: waits until the clock reads at least the given time (colocated mode, idle
    ///     until the next arrival); the default sleeps the thread. Pass one that advances a
    ///     manual clock for deterministic tests.
    public init(model: LoadedModel, options: EngineOptions, tracer: Tracer,
                sleep: ((TraceTime) -> Void)? = nil) throws(EngineError) {
        try options.validate()
        self.model = model
        self.options = options
        self.tracer = tracer
        let c = model.weights.config
        let blockBytes = KVCacheStorage.bytesPerBlock(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
                                                      blockSize: options.blockSize, dtype: options.dtype)
        switch options.capacity {
        case .blocks(let n): kvBlocks = n
        case .bytes(let b): kvBlocks = b / blockBytes
        }
        if kvBlocks < 1 {
            throw EngineError("--kv-memory \(options.capacity) holds no KV block of \(blockBytes) bytes (\(options.dtype), block size \(options.blockSize)); raise it")
        }
        descriptor = model.descriptor(kvType: options.dtype.rawValue, bytesPerKVElement: options.dtype.bytesPerElement)
        let clock = tracer.clock
        self.sleep = sleep ?? { target in
            while true {
                let remaining = target - clock.now()
                if remaining <= 0 { return }
                var ts = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
                nanosleep(&ts, nil)
            }
        }
    }

    /// Bytes of one KV block in this run's dtype and block size.
    public var bytesPerBlock: Int {
        let c = model.weights.config
        return KVCacheStorage.bytesPerBlock(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
                                            blockSize: options.blockSize, dtype: options.dtype)
    }

    /// The trace header for a run of `workload`: model, machine, every option, the workload with its seed.
    public func header(for workload: Workload, startedAt: String? = nil) -> RunHeader {
        var w = workload.descriptor
        w.parameters["prompt_seed"] = "\(options.seed)"
        return RunHeader(producer: ToolVersion.producer, model: descriptor,
                         hardware: HardwareDescriptor(name: hostCPUName(), source: hostPeaks == nil ? "unknown" : "measured",
                                                      threads: options.threads, memoryBandwidth: hostPeaks?.readBandwidth,
                                                      peakFLOPS: hostPeaks?.fmaPeak, memoryBytes: physicalMemoryBytes()),
                         options: headerOptions, workload: w, clock: tracer.clock.name,
                         startedAt: startedAt)
    }

    /// Every option, plus the KV attention probe's figures when measured.
    var headerOptions: [String: String] {
        var o = options.headerOptions(kvBlocks: kvBlocks)
        for (dtype, seconds) in kvAttentionCost {
            o["probe.kv_attention_ns_per_token.\(dtype.rawValue)"] = String((seconds * 1e10).rounded() / 10)
        }
        if let p = speculationProbe { o.merge(p.headerOptions) { a, _ in a } }
        if let p = stepTimeProbe { o.merge(p.headerOptions) { a, _ in a } }
        return o
    }

    /// Measures ``kvAttentionCost`` for every KV element type at `context` cached tokens (the
    /// model's context, at most 512) — ≈ 10–100 ms for the presets. O(types · layers · context · kvDim).
    public func probeKVAttention(context: Int? = nil) {
        let c = model.weights.config
        let n = context ?? min(512, c.maxSeqLen)
        for dtype in KVDType.allCases {
            if let s = KVAttentionProbe.secondsPerToken(layers: c.layers, kvHeads: c.kvHeads, heads: c.heads, headDim: c.headDim,
                                                        dtype: dtype, context: n) {
                kvAttentionCost[dtype] = s
            }
        }
    }

    func schedulerConfig(prefillWorker: Bool = false) -> SchedulerConfig {
        SchedulerConfig(policy: options.policy, maxNumSeqs: options.maxNumSeqs, maxBatchedTokens: options.maxBatchedTokens,
                        tokenBudget: options.tokenBudget, preemption: options.preemption,
                        swapCapacityBlocks: options.preemption == .swap ? (options.swapBlocks ?? kvBlocks) : 0,
                        maxModelLength: model.weights.config.maxSeqLen,
                        lookaheadSlots: options.speculation?.draftLength.maximum ?? 0, stopAfterPrefill: prefillWorker,
                        eosToken: options.eosToken)
    }

    /// Tokenizes and runs `workload`, recording the header first. Throws for a workload that does
    /// not fit the model, or if the engine stalls.
    @discardableResult
    public func run(_ workload: Workload, progress: ((Int, Int) -> Void)? = nil) throws(EngineError) -> RunResult {
        let tokenizer = model.tokenizer
        let requests: [ServingRequest]
        do {
            requests = try workload.materialize(vocabSize: model.weights.config.vocabSize, seed: options.seed,
                                                tokenize: tokenizer.map { t in { text in t.encode(text).map { Int32($0) } } })
        } catch {
            throw EngineError("workload \(error)")
        }
        tracer.record(.header(header(for: workload, startedAt: isoNow())))
        let stats = RunStatistics()
        let arrivals = ArrivalSource(requests: requests, offsets: workload.requests.map(\.arrival),
                                     closedLoop: workload.arrival.closedLoopConcurrency, progress: progress)
        let start = tracer.now()
        arrivals.start = start
        var speculation: SpeculationStats?
        if options.disaggregated {
            try runDisaggregated(arrivals, stats)
        } else {
            speculation = try runColocated(arrivals, stats)
        }
        let end = tracer.now()
        tracer.stepCompleted()
        var result = stats.result(start: start, end: end)
        result.speculation = speculation
        return result
    }

    func makeWorker(pool: String, lane: Int32, threads: Int, prefillWorker: Bool, stats: RunStatistics) throws(EngineError) -> EngineWorker {
        let worker = try EngineWorker(pool: pool, lane: lane, weights: model.weights, options: options, blocks: kvBlocks, threads: threads,
                                      schedulerConfig: schedulerConfig(prefillWorker: prefillWorker), tracer: tracer, stats: stats,
                                      descriptor: descriptor)
        try attachSpeculation(to: worker)  // Speculative/EngineWorker+Speculation.swift
        return worker
    }

    /// Runs one worker on this thread until every request is done; its speculation counters, if it speculated.
    func runColocated(_ arrivals: ArrivalSource, _ stats: RunStatistics) throws(EngineError) -> SpeculationStats? {
        let worker = try makeWorker(pool: "kv", lane: 1, threads: options.threads, prefillWorker: false, stats: stats)
        var stalls = 0
        while true {
            for (r, t) in arrivals.due(now: tracer.now()) { worker.admit(r, at: t) }
            let report = worker.step()
            arrivals.completed(report.finished.count + report.aborted.count)
            if report.ran { stalls = 0; continue }
            if worker.scheduler.isIdle && arrivals.exhausted { break }
            if let next = arrivals.nextArrival() {
                idle(lane: 1, step: worker.stepIndex) { sleep(next) }
            } else if arrivals.due(now: tracer.now(), peek: true) {
                continue
            } else {
                stalls += 1
                if stalls > 2 {
                    throw EngineError("the engine stalled: \(worker.scheduler.waitingCount) waiting, \(worker.scheduler.swappedCount) swapped, nothing schedulable (a bug; please report it with the trace)")
                }
            }
        }
        stats.prefix(queried: worker.kv.prefixCacheQueriedTokens, hit: worker.kv.prefixCacheHitTokens)
        return worker.speculation?.stats
    }

    /// Runs `wait` and traces it as an idle span.
    func idle(lane: Int32, step: Int64, _ wait: () -> Void) {
        let t0 = tracer.now()
        wait()
        let t1 = tracer.now()
        tracer.record(.step(StepEvent(step: step, phase: .idle, start: t0, duration: t1 - t0, lane: lane)))
    }

    func runDisaggregated(_ arrivals: ArrivalSource, _ stats: RunStatistics) throws(EngineError) {
        let prefillThreads = max(1, options.threads / 2)
        let prefill = try makeWorker(pool: "kv.prefill", lane: 1, threads: prefillThreads, prefillWorker: true, stats: stats)
        let decode = try makeWorker(pool: "kv.decode", lane: 2, threads: max(1, options.threads - prefillThreads),
                                    prefillWorker: false, stats: stats)
        let queue = HandoffQueue()
        let failure = FailureBox()
        let box = UncheckedBox((prefill, decode, arrivals, queue, failure, self))
        let done = DispatchSemaphore(value: 0)
        let prefillThread = Thread {
            let (prefill, _, arrivals, queue, _, engine) = box.value
            while true {
                for (r, t) in arrivals.due(now: engine.tracer.now()) { prefill.admit(r, at: t) }
                let report = prefill.step()
                for p in report.handoffs { queue.push(p) }
                arrivals.completed(report.finished.count - report.handoffs.count + report.aborted.count)
                if report.ran { continue }
                if prefill.scheduler.isIdle && arrivals.exhausted { break }
                let target = arrivals.nextArrival() ?? (engine.tracer.now() + 1_000_000)
                engine.idle(lane: 1, step: prefill.stepIndex) { arrivals.wait(until: target, clock: engine.tracer.clock) }
            }
            queue.close()
            done.signal()
        }
        let decodeThread = Thread {
            let (_, decode, arrivals, queue, failure, engine) = box.value
            while true {
                for p in queue.drain() { decode.admitHandoff(p) }
                let report = decode.step()
                arrivals.completed(report.finished.count + report.aborted.count)
                if report.ran { continue }
                if queue.isClosedAndEmpty && decode.scheduler.isIdle { break }
                if queue.isClosedAndEmpty && !decode.scheduler.isIdle && !report.ran {
                    failure.set("the decode worker stalled with \(decode.scheduler.waitingCount) waiting")
                    break
                }
                engine.idle(lane: 2, step: decode.stepIndex) { queue.wait(timeoutNanoseconds: 1_000_000) }
            }
            done.signal()
        }
        prefillThread.stackSize = 8 << 20
        decodeThread.stackSize = 8 << 20
        prefillThread.start()
        decodeThread.start()
        done.wait()
        done.wait()
        if let message = failure.message { throw EngineError(message) }
        stats.prefix(queried: prefill.kv.prefixCacheQueriedTokens, hit: prefill.kv.prefixCacheHitTokens)
    }
}

/// Releases requests at their arrival instants (open loop) or as in-flight ones complete
/// (closed loop). Thread-safe.
final class ArrivalSource: @unchecked Sendable {
    let requests: [ServingRequest]
    let offsets: [Int64]
    let closedLoop: Int?
    let progress: ((Int, Int) -> Void)?
    var start: TraceTime = 0
    private var next = 0
    private var inFlight = 0
    private var done = 0
    private let condition = NSCondition()

    init(requests: [ServingRequest], offsets: [Int64], closedLoop: Int?, progress: ((Int, Int) -> Void)?) {
        self.requests = requests
        self.offsets = offsets
        self.closedLoop = closedLoop
        self.progress = progress
    }

    /// Requests due by `now`, with their arrival instants. With `peek`, only whether any are due.
    func due(now: TraceTime) -> [(ServingRequest, TraceTime)] {
        condition.lock()
        defer { condition.unlock() }
        var out: [(ServingRequest, TraceTime)] = []
        while next < requests.count {
            if let n = closedLoop {
                guard inFlight < n else { break }
                out.append((requests[next], now))
            } else {
                let t = start + offsets[next]
                guard t <= now else { break }
                out.append((requests[next], t))
            }
            inFlight += 1
            next += 1
        }
        return out
    }

    func due(now: TraceTime, peek: Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard next < requests.count else { return false }
        if let n = closedLoop { return inFlight < n }
        return start + offsets[next] <= now
    }

    /// `n` requests left the engine (finished or aborted).
    func completed(_ n: Int) {
        guard n > 0 else { return }
        condition.lock()
        inFlight -= n
        done += n
        let d = done
        condition.broadcast()
        condition.unlock()
        progress?(d, requests.count)
    }

    var exhausted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return next == requests.count
    }

    /// The next open-loop arrival instant, or nil (none left, or closed loop).
    func nextArrival() -> TraceTime? {
        condition.lock()
        defer { condition.unlock() }
        guard next < requests.count, closedLoop == nil else { return nil }
        return start + offsets[next]
    }

    /// Waits until `target` on `clock`, or until a completion is signalled.
    func wait(until target: TraceTime, clock: any TraceClock) {
        let remaining = target - clock.now()
        guard remaining > 0 else { return }
        condition.lock()
        _ = condition.wait(until: Date(timeIntervalSinceNow: Double(remaining) / 1e9))
        condition.unlock()
    }
}

/// The disaggregated hand-off queue between the prefill and decode workers.
final class HandoffQueue: @unchecked Sendable {
    private var items: [HandoffPacket] = []
    private var closed = false
    private let condition = NSCondition()

    func push(_ p: HandoffPacket) {
        condition.lock()
        items.append(p)
        condition.signal()
        condition.unlock()
    }

    func drain() -> [HandoffPacket] {
        condition.lock()
        defer { condition.unlock() }
        let out = items
        items.removeAll()
        return out
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && items.isEmpty
    }

    func wait(timeoutNanoseconds: Int64) {
        condition.lock()
        if items.isEmpty && !closed { _ = condition.wait(until: Date(timeIntervalSinceNow: Double(timeoutNanoseconds) / 1e9)) }
        condition.unlock()
    }
}

final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ m: String) { lock.lock(); if value == nil { value = m }; lock.unlock() }
    var message: String? { lock.lock(); defer { lock.unlock() }; return value }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// The CPU model from /proc/cpuinfo, or "unknown CPU".
public func hostCPUName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
    }
    return "unknown CPU"
}

func physicalMemoryBytes() -> Int64 { Int64(ProcessInfo.processInfo.physicalMemory) }

func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}
