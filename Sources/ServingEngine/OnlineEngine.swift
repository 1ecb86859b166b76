import Foundation
import KVCache
import LlamaModel
import Scheduling
import TraceFormat
import Tracing

/// One request submitted to a running ``OnlineEngine``: token ids in, up to `maxTokens` out.
public struct OnlineRequest: Sendable, Equatable {
    public var prompt: [Int32]
    /// Most tokens to generate (finish reason `.length` when reached).
    public var maxTokens: Int
    /// Tokens to generate before a stop token may end the request.
    public var minTokens: Int
    /// Sampling one of these (after `minTokens`) finishes the request with `.eos` — the model's
    /// EOS unless the client asked to ignore it.
    public var stopTokens: [Int32]
    /// This request's sampling; nil: the engine's (`--temperature`, greedy by default).
    public var sampling: SamplingParameters?
    /// Seed of this request's sampler; nil: derived from the engine seed and the request id.
    public var seed: UInt64?
    /// When the request reached the server, on the engine's trace clock (a server passes the
    /// instant its last byte was read, before parsing and tokenizing); nil: when submitted.
    public var arrival: TraceTime?

    public init(prompt: [Int32], maxTokens: Int, minTokens: Int = 0, stopTokens: [Int32] = [],
                sampling: SamplingParameters? = nil, seed: UInt64? = nil, arrival: TraceTime? = nil) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.stopTokens = stopTokens
        self.sampling = sampling
        self.seed = seed
        self.arrival = arrival
    }
}

/// What happens to a submitted request, in order: `scheduled` (possibly again after a
/// preemption), `tokens` one or more times, then exactly one of `finished` / `aborted`.
/// Times are on the engine's trace clock (ns).
public enum OnlineEvent: Sendable, Equatable {
    case scheduled(time: TraceTime)
    /// Newly sampled tokens; `first` when they include the request's first output token.
    case tokens([Int32], first: Bool, time: TraceTime)
    case finished(FinishReason, time: TraceTime)
    case aborted(reason: String, time: TraceTime)

    /// The request is over after this event.
    public var isFinal: Bool {
        switch self {
        case .finished, .aborted: return true
        default: return false
        }
    }
}

/// The engine's state after its latest step, summed over workers: what `/metrics` exposes.
public struct EngineGauges: Sendable, Equatable {
    public var running = 0
    /// Submitted and not yet running (the intake queue plus the scheduler's waiting queue).
    public var waiting = 0
    public var kvBlocksUsed = 0
    public var kvBlocksTotal = 0
    /// Prompt tokens looked up in / found in the prefix cache, since the start.
    public var prefixQueriedTokens = 0
    public var prefixHitTokens = 0
    /// Preemptions since the start (all modes).
    public var preemptions = 0
    /// Speculative decoding, since the start: draft rounds, drafted tokens, accepted tokens.
    public var specDrafts = 0
    public var specDraftedTokens = 0
    public var specAcceptedTokens = 0
    public var specAcceptedPerPosition: [Int] = []

    public init() {}

    /// Fraction of KV blocks in use, 0…1.
    public var kvUsage: Double { kvBlocksTotal == 0 ? 0 : Double(kvBlocksUsed) / Double(kvBlocksTotal) }
}

/// Why a submission was refused.
public enum SubmitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `limit` requests are already waiting (HTTP 503).
    case queueFull(limit: Int)
    /// The engine is stopping or stopped (HTTP 503).
    case stopped

    public var description: String {
        switch self {
        case .queueFull(let n): return "the queue is full (\(n) requests waiting); retry later"
        case .stopped: return "the server is shutting down"
        }
    }
}

/// The serving engine with an online front door: requests are submitted one by one from any
/// thread while the step loop runs, each with a handler that receives its ``OnlineEvent``s as
/// they happen, and can be cancelled or stopped early. All requests share one
/// continuous-batching engine (one worker, or prefill + decode workers when disaggregated) with
/// exactly the offline path's scheduler, KV cache, speculation and tracing.
///
/// Threading: ``start(workload:)`` starts the step loop on its own thread(s); ``submit(_:handler:)``,
/// ``cancel(_:reason:)``, ``stopEarly(_:)`` and ``gauges`` are safe from any thread; handlers run
/// on an engine thread and must return quickly (hand the event to the client's thread).
public final class OnlineEngine: @unchecked Sendable {
    /// Receives a request's events of one engine step, in order (so a last token and its
    /// `finished` arrive together).
    public typealias Handler = @Sendable ([OnlineEvent]) -> Void

    public let engine: ServingEngine
    /// Most requests waiting (submitted, not yet running) before ``submit(_:handler:)`` refuses.
    public let maxWaiting: Int
    let condition = NSCondition()
    struct Intake {
        var request: ServingRequest
        var sampling: (parameters: SamplingParameters, seed: UInt64)?
        var time: TraceTime
    }
    var inbox: [Intake] = []
    /// Requests to end, kept until their final event: (stop = finished `.stop`, else aborted).
    var ending: [UInt64: (stop: Bool, reason: String)] = [:]
    var handlers: [UInt64: Handler] = [:]
    var nextID: UInt64 = 1
    var accepting = true
    var abortAll = false
    var running = false
    var workerGauges: [Int: EngineGauges] = [:]
    var failure: String?
    var threadsLeft = 0
    var workers: [EngineWorker] = []
    let stats = RunStatistics(retainRequests: false)

    public init(engine: ServingEngine, maxWaiting: Int) {
        self.engine = engine
        self.maxWaiting = maxWaiting
    }

    // MARK: - Client side (any thread)

    /// Queues `request`; its events go to `handler`. Returns its id (the trace's request id).
    /// Throws when `maxWaiting` requests are already waiting or the engine is stopping. O(1).
    public func submit(_ request: OnlineRequest, handler: @escaping Handler) throws(SubmitError) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { throw .stopped }
        let waiting = inbox.count + workerGauges.values.reduce(0) { $0 + $1.waiting }
        guard waiting < maxWaiting else { throw .queueFull(limit: maxWaiting) }
        let id = nextID
        nextID += 1
        let r = ServingRequest(id: id, prompt: request.prompt, outputTokens: request.maxTokens,
                               stopTokens: request.stopTokens, minTokens: request.minTokens)
        let own = request.sampling.map { ($0, request.seed ?? SplitMix64.mix(engine.options.seed, id)) }
        inbox.append(Intake(request: r, sampling: own, time: request.arrival ?? engine.tracer.now()))
        handlers[id] = handler
        condition.broadcast()
        return id
    }

    /// Aborts request `id` (its client went away): its KV blocks are freed at the next step
    /// boundary and its handler gets `.aborted`. No-op for an unknown or finished id.
    public func cancel(_ id: UInt64, reason: String) { end(id, stop: false, reason: reason) }

    /// Finishes request `id` now with `.stop` (its client's stop string appeared in the output).
    public func stopEarly(_ id: UInt64) { end(id, stop: true, reason: "stop") }

    func end(_ id: UInt64, stop: Bool, reason: String) {
        condition.lock()
        guard handlers[id] != nil, ending[id] == nil else { condition.unlock(); return }
        if let i = inbox.firstIndex(where: { $0.request.id == id }) {
            inbox.remove(at: i)
            let h = handlers.removeValue(forKey: id)
            condition.unlock()
            h?([.aborted(reason: reason, time: engine.tracer.now())])
            return
        }
        ending[id] = (stop, reason)
        condition.broadcast()
        condition.unlock()
    }

    /// The engine's state after its latest step (all workers). O(workers).
    public var gauges: EngineGauges {
        condition.lock()
        defer { condition.unlock() }
        var g = EngineGauges()
        for w in workerGauges.values {
            g.running += w.running; g.waiting += w.waiting
            g.kvBlocksUsed += w.kvBlocksUsed; g.kvBlocksTotal += w.kvBlocksTotal
            g.prefixQueriedTokens += w.prefixQueriedTokens; g.prefixHitTokens += w.prefixHitTokens
            g.preemptions += w.preemptions
            g.specDrafts += w.specDrafts; g.specDraftedTokens += w.specDraftedTokens; g.specAcceptedTokens += w.specAcceptedTokens
            for (k, v) in w.specAcceptedPerPosition.enumerated() {
                if g.specAcceptedPerPosition.count <= k { g.specAcceptedPerPosition.append(0) }
                g.specAcceptedPerPosition[k] += v
            }
        }
        g.waiting += inbox.count
        return g
    }

    /// Requests submitted and not yet over.
    public var liveRequests: Int {
        condition.lock()
        defer { condition.unlock() }
        return handlers.count
    }

    // MARK: - Life cycle

    /// Records the trace header (for `workload`, which names the source of the requests) and
    /// starts the step loop. Throws if the workers cannot be created.
    public func start(workload: Workload) throws(EngineError) {
        engine.tracer.record(.header(engine.header(for: workload, startedAt: isoNow())))
        running = true
        if engine.options.disaggregated {
            let prefillThreads = max(1, engine.options.threads / 2)
            let prefill = try engine.makeWorker(pool: "kv.prefill", lane: 1, threads: prefillThreads, prefillWorker: true, stats: stats)
            let decode = try engine.makeWorker(pool: "kv.decode", lane: 2, threads: max(1, engine.options.threads - prefillThreads),
                                               prefillWorker: false, stats: stats)
            let queue = HandoffQueue()
            workers = [prefill, decode]
            threadsLeft = 2
            launch { $0.loop(prefill, index: 0, intake: true, handoffs: nil, output: queue) }
            launch { $0.loop(decode, index: 1, intake: false, handoffs: queue, output: nil) }
        } else {
            let worker = try engine.makeWorker(pool: "kv", lane: 1, threads: engine.options.threads, prefillWorker: false, stats: stats)
            workers = [worker]
            threadsLeft = 1
            launch { $0.loop(worker, index: 0, intake: true, handoffs: nil, output: nil) }
        }
    }

    func launch(_ body: @escaping (OnlineEngine) -> Void) {
        let box = UncheckedBox((self, body))
        let t = Thread { box.value.1(box.value.0) }
        t.stackSize = 8 << 20
        t.start()
    }

    /// Stops taking requests; with `drain`, lets every submitted request finish, otherwise aborts
    /// them all ("server stopping"). Returns when the step loop has ended (the trace can then be
    /// closed). Throws the engine's failure, if it failed.
    public func stop(drain: Bool) throws(EngineError) {
        condition.lock()
        accepting = false
        if !drain { abortAll = true }
        condition.broadcast()
        while threadsLeft > 0 { condition.wait() }
        let message = failure
        condition.unlock()
        engine.tracer.stepCompleted()
        if let message { throw EngineError(message) }
    }

    /// After ``stop(drain:)``: checks every worker's KV pool — the paged allocator's structural
    /// invariants (reference counts, free list, block tables) — and returns the blocks still
    /// held by sequences (0 once every request has ended, with the prefix cache off).
    public func checkKVAfterStop() throws -> Int {
        condition.lock()
        let done = threadsLeft == 0
        condition.unlock()
        precondition(done, "checkKVAfterStop() before stop() returned")
        var used = 0
        for w in workers {
            if let paged = w.kv as? PagedBlockAllocator { try paged.checkInvariants() }
            used += w.scheduler.liveSequences.count == 0 ? w.kv.occupancy().blocksUsed : Int.max / 4
        }
        return used
    }

    // MARK: - Step loop (engine threads)

    /// One worker's loop. The intake worker admits submissions; a disaggregated decode worker
    /// admits hand-offs from `handoffs`; a prefill worker pushes its hand-offs to `output`.
    func loop(_ worker: EngineWorker, index: Int, intake: Bool, handoffs: HandoffQueue?, output: HandoffQueue?) {
        var idleSteps = 0
        while true {
            condition.lock()
            let arrivals = intake ? inbox : []
            if intake { inbox.removeAll() }
            let ends = ending
            let abort = abortAll
            let closing = !accepting
            condition.unlock()

            for a in arrivals {
                if let s = a.sampling { worker.requestSampling[a.request.id] = s }
                worker.admit(a.request, at: a.time)
            }
            if let handoffs {
                for p in handoffs.drain() {
                    worker.admitHandoff(p)
                }
            }
            var events: [(UInt64, OnlineEvent)] = []
            let live = Set(worker.scheduler.liveSequences)
            for id in live where abort && ends[id] == nil {
                _ = worker.end(id, stop: false, reason: "server stopping")
            }
            for (id, e) in ends where live.contains(id) {
                if let f = worker.end(id, stop: e.stop, reason: e.reason) {
                    events.append((id, .finished(f.reason, time: engine.tracer.now())))
                }
            }
            let report = worker.step()
            for a in report.admitted { events.append((a.id, .scheduled(time: a.time))) }
            let now = engine.tracer.now()
            for e in report.emitted { events.append((e.id, .tokens(e.tokens, first: e.first, time: now))) }
            for f in report.finished where f.reason != .handoff { events.append((f.id, .finished(f.reason, time: now))) }
            for (i, id) in report.aborted.enumerated() {
                events.append((id, .aborted(reason: report.abortReasons[i], time: now)))
            }
            for p in report.handoffs { output?.push(p) }
            deliver(events, gauges: snapshot(worker), index: index)

            let idle = worker.scheduler.isIdle
            if report.ran { idleSteps = 0; continue }
            // Nothing ran: stop, or sleep until something arrives (a submission, an end, a hand-off).
            if idle && closing && (handoffs?.isClosedAndEmpty ?? true) && (!intake || inboxEmpty) { break }
            idleSteps += 1
            let lane = worker.lane
            if let handoffs {
                engine.idle(lane: lane, step: worker.stepIndex) { handoffs.wait(timeoutNanoseconds: 50_000_000) }
            } else if idle {
                engine.idle(lane: lane, step: worker.stepIndex) { waitForWork() }
            } else if idleSteps > 1 {
                // Requests wait for blocks held by others that cannot run either: a bug, but don't spin.
                waitForWork(timeout: 0.001)
            }
        }
        output?.close()
        condition.lock()
        threadsLeft -= 1
        condition.broadcast()
        condition.unlock()
    }

    var inboxEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return inbox.isEmpty
    }

    /// Blocks until a submission, an end request or a stop arrives (or `timeout` seconds pass).
    func waitForWork(timeout: Double = 0.5) {
        condition.lock()
        if inbox.isEmpty && accepting && !abortAll {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        condition.unlock()
    }

    func snapshot(_ worker: EngineWorker) -> EngineGauges {
        var g = EngineGauges()
        let o = worker.kv.occupancy()
        g.running = worker.scheduler.runningCount
        g.waiting = worker.scheduler.waitingCount + worker.scheduler.swappedCount
        g.kvBlocksUsed = o.blocksUsed
        g.kvBlocksTotal = o.blocksTotal
        g.prefixQueriedTokens = worker.kv.prefixCacheQueriedTokens
        g.prefixHitTokens = worker.kv.prefixCacheHitTokens
        g.preemptions = worker.scheduler.preemptionCount.values.reduce(0, +)
        if let s = worker.speculation?.stats {
            g.specDrafts = s.drafts
            g.specDraftedTokens = s.draftedTokens
            g.specAcceptedTokens = s.acceptedTokens
            g.specAcceptedPerPosition = s.acceptedPerPosition
        }
        return g
    }

    func deliver(_ events: [(UInt64, OnlineEvent)], gauges: EngineGauges, index: Int) {
        condition.lock()
        workerGauges[index] = gauges
        var order: [UInt64] = []
        var grouped: [UInt64: (Handler, [OnlineEvent])] = [:]
        for (id, e) in events {
            guard let h = handlers[id] else { continue }
            if grouped[id] == nil { order.append(id); grouped[id] = (h, []) }
            grouped[id]!.1.append(e)
            if e.isFinal {
                handlers[id] = nil
                ending[id] = nil
            }
        }
        condition.unlock()
        for id in order { let (h, es) = grouped[id]!; h(es) }
    }
}
