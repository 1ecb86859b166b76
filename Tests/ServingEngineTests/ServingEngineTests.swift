import Foundation
import Testing
import KVCache
import LlamaModel
import Scheduling
import ServingEngine
import TraceFormat
import Tracing

/// A clock that moves `step` ns every time it is read (deterministic timestamps) and jumps when slept on.
final class SteppingClock: TraceClock, @unchecked Sendable {
    private let lock = NSLock()
    private var t: TraceTime = 0
    let step: TraceDuration
    init(step: TraceDuration = 1_000) { self.step = step }
    var name: String { "stepping" }
    func now() -> TraceTime { lock.lock(); defer { lock.unlock() }; t += step; return t }
    func sleep(until target: TraceTime) { lock.lock(); t = max(t, target); lock.unlock() }
}

enum Fixtures {
    static let tiny = ModelLoader.loadPreset("tiny")

    /// 8 requests, all at t = 0, prompts 5–60 tokens, outputs 3–12, two sharing a 32-token prefix.
    static func workload(arrival: ArrivalPattern = .burst, count: Int = 8) -> Workload {
        let classes = [
            RequestClass(name: "short", prompt: .uniform(5, 20), output: .uniform(3, 12), maxOutput: 24),
            RequestClass(name: "long", prompt: .uniform(30, 60), output: .uniform(3, 8), maxOutput: 16),
            RequestClass(name: "shared", prompt: .uniform(4, 10), output: .uniform(4, 8), maxOutput: 16, sharedPrefix: 32),
        ]
        return WorkloadGenerator(name: "test", classes: classes, count: count, arrival: arrival, seed: 7, maxContext: 256).generate()
    }

    static func run(_ options: EngineOptions, workload: Workload = workload(), sink: (any TraceSink)? = nil) throws -> RunResult {
        let clock = SteppingClock()
        let engine = try ServingEngine(model: tiny, options: options, tracer: Tracer(sink: sink, clock: clock),
                                       sleep: { clock.sleep(until: $0) })
        return try engine.run(workload)
    }
}

extension ModelLoader {
    static func loadPreset(_ name: String) -> LoadedModel {
        do { return try ModelLoader.load(name) } catch { fatalError("preset \(name): \(error)") }
    }
}

struct ServingEngineTests {
    func outputs(_ r: RunResult) -> [UInt64: [Int32]] {
        Dictionary(uniqueKeysWithValues: r.requests.map { ($0.id, $0.output) })
    }

    @Test func greedyOutputsAreIdenticalAcrossSchedulersLayoutsAndModes() throws {
        var base = EngineOptions()
        base.threads = 1
        base.capacity = .blocks(64)
        base.blockSize = 8
        let reference = try Fixtures.run(base)
        #expect(reference.completed.count == 8)
        #expect(reference.requests.allSatisfy { $0.abortReason == nil })
        let workload = Fixtures.workload()
        for (r, w) in zip(reference.requests, workload.requests) { #expect(r.output.count == w.outputTokens) }

        var variants: [(String, EngineOptions)] = []
        for policy in SchedulerPolicy.allCases {
            var o = base
            o.policy = policy
            o.tokenBudget = 16
            variants.append(("\(policy)", o))
        }
        var contiguous = base
        contiguous.layout = .contiguous
        contiguous.capacity = .blocks(64)
        variants.append(("contiguous", contiguous))
        for mode in PreemptionMode.allCases {
            var tight = base
            tight.capacity = .blocks(14)    // 112 token slots: forces preemption
            tight.preemption = mode
            variants.append(("tight \(mode)", tight))
        }
        // The static baseline pads prompts through the members' own KV blocks: same outputs, in
        // both layouts and when the pool cannot hold every padded prompt.
        var staticContiguous = contiguous
        staticContiguous.policy = .static
        variants.append(("static contiguous", staticContiguous))
        var staticTight = base
        staticTight.policy = .static
        staticTight.capacity = .blocks(14)
        variants.append(("static tight", staticTight))
        var prefix = base
        prefix.prefixCaching = true
        variants.append(("prefix cache", prefix))
        // Prefix hits need an earlier request's prompt computed first: a shared-prefix workload, one at a time.
        let shared = WorkloadGenerator(name: "shared", classes: Workload.builtInClasses["shared-prefix"]!, count: 4,
                                       arrival: .closedLoop(concurrency: 1), seed: 1, maxContext: 256).generate()
        let sharedReference = try Fixtures.run(base, workload: shared)
        let sharedCached = try Fixtures.run(prefix, workload: shared)
        #expect(outputs(sharedCached) == outputs(sharedReference))
        #expect(sharedCached.prefixHitTokens >= 3 * 96 && sharedReference.prefixHitTokens == 0)
        // A pool too small to keep the shared prefix cached between the other requests: evicted
        // prefix blocks are offloaded and reloaded, with the same outputs.
        var offload = prefix
        offload.capacity = .blocks(12)
        offload.prefixOffloadBlocks = 16
        let oneAtATime = Fixtures.workload(arrival: .closedLoop(concurrency: 1), count: 12)
        let offloadReference = try Fixtures.run(base, workload: oneAtATime)
        let offloaded = try Fixtures.run(offload, workload: oneAtATime)
        #expect(outputs(offloaded) == outputs(offloadReference))
        #expect(offloaded.transferBytes[.offload, default: 0] > 0 && offloaded.transferBytes[.reload, default: 0] > 0,
                "\(offloaded.transferBytes)")
        var disaggregated = base
        disaggregated.disaggregated = true
        disaggregated.threads = 2
        variants.append(("disaggregated", disaggregated))

        for (name, options) in variants {
            let result = try Fixtures.run(options)
            #expect(outputs(result) == outputs(reference), "\(name) changed greedy outputs")
            if name.hasPrefix("tight") {
                #expect(result.preemptions.values.reduce(0, +) > 0, "\(name) did not preempt")
            }
            if name.hasPrefix("static") { #expect(result.promptPaddingTokens > 0 && result.paddingRows > 0, "\(name) did not pad") }
            if name == "disaggregated" { #expect(result.transferBytes[.handoff, default: 0] > 0) }
            if name == "tight swap" { #expect(result.transferBytes[.swapOut, default: 0] > 0) }
        }
    }

    @Test func tracedRunIsDeterministicExceptTimestamps() throws {
        var options = EngineOptions()
        options.threads = 1
        options.capacity = .blocks(20)
        options.blockSize = 8
        options.policy = .chunked
        options.tokenBudget = 24
        options.preemption = .swap
        options.prefixCaching = true
        func trace() throws -> [TraceEvent] {
            let sink = InMemorySink()
            _ = try Fixtures.run(options, workload: Fixtures.workload(arrival: .closedLoop(concurrency: 4)), sink: sink)
            return sink.events.map(Self.withoutTimestamps)
        }
        let a = try trace(), b = try trace()
        #expect(a.count > 50)
        #expect(a == b)
        // Every step has composition and cost, the KV pool is sampled, every request has a lifecycle.
        let forward = a.compactMap { if case .step(let s) = $0, s.phase.isForward { return s } else { return nil } }
        #expect(!forward.isEmpty && forward.allSatisfy { !$0.batch.isEmpty && ($0.flops ?? 0) > 0 && ($0.bytes ?? 0) > 0 })
        #expect(a.contains { if case .kvCache = $0 { return true } else { return false } })
        let finished = a.filter { if case .request(let r) = $0, r.kind == .finished { return true } else { return false } }
        #expect(finished.count == 8)
        if case .header(let h) = a.first {
            #expect(h.options["scheduler"] == "chunked" && h.options["kv_blocks"] == "20" && h.options["preempt"] == "swap")
            #expect(h.workload.parameters["seed"] == "7" && h.workload.parameters["arrival"] == "closed:4")
        } else {
            Issue.record("the first event is not the header")
        }
    }

    static func withoutTimestamps(_ e: TraceEvent) -> TraceEvent {
        switch e {
        case .header(var h): h.startedAt = nil; return .header(h)
        case .step(var s): s.start = 0; s.duration = 0; return .step(s)
        case .request(var r): r.time = 0; return .request(r)
        case .kvCache(var k): k.time = 0; return .kvCache(k)
        case .speculation(var s): s.time = 0; return .speculation(s)
        case .transfer(var t): t.start = 0; t.duration = 0; return .transfer(t)
        }
    }

    @Test func quantizedKVTradesCapacityForAccuracy() throws {
        let weights = Fixtures.tiny.weights
        let int8Gain = KVDTypeComparison.capacityGain(.int8, config: weights.config, bytes: 1 << 20)
        let int4Gain = KVDTypeComparison.capacityGain(.int4, config: weights.config, bytes: 1 << 20)
        // f32 is 4 bytes per element; int8 1.125 (18 bytes per 16); int4 0.625 (10 bytes per 16).
        #expect(abs(int8Gain - 4 / 1.125) < 0.05)
        #expect(abs(int4Gain - 4 / 0.625) < 0.1)
        var rng = Xoshiro256(seed: 3)
        let prompts = (0..<4).map { _ in (0..<48).map { _ in Int32(3 + rng.next() % 500) } }
        let f16 = try KVDTypeComparison.meanKLDivergence(.f16, weights: weights, prompts: prompts)
        let int8 = try KVDTypeComparison.meanKLDivergence(.int8, weights: weights, prompts: prompts)
        let int4 = try KVDTypeComparison.meanKLDivergence(.int4, weights: weights, prompts: prompts)
        #expect(f16 < int8 && int8 < int4, "KL f16 \(f16) int8 \(int8) int4 \(int4)")
        #expect(int8 > 0 && int4 < 1, "KL int8 \(int8) int4 \(int4)")
    }

    @Test func moreKVMemoryMeansMoreBlocksForNarrowerTypes() throws {
        var o = EngineOptions()
        o.capacity = .bytes(1 << 20)
        o.dtype = .f32
        let f32 = try ServingEngine(model: Fixtures.tiny, options: o, tracer: Tracer(sink: nil, clock: SteppingClock()))
        o.dtype = .int8
        let int8 = try ServingEngine(model: Fixtures.tiny, options: o, tracer: Tracer(sink: nil, clock: SteppingClock()))
        #expect(int8.kvBlocks > 3 * f32.kvBlocks)
    }

    /// The KV attention probe's figures reach the trace header, one option per KV type, in ns.
    @Test func probedKVAttentionCostIsInTheHeader() throws {
        let engine = try ServingEngine(model: Fixtures.tiny, options: EngineOptions(), tracer: Tracer(sink: nil, clock: SteppingClock()))
        let workload = Workload(name: "w", requests: [], arrival: .recorded)
        #expect(engine.header(for: workload).options.keys.contains { $0.hasPrefix("probe.") } == false)
        engine.probeKVAttention(context: 32)
        let options = engine.header(for: workload).options
        for dtype in KVDType.allCases {
            let ns = try #require(options["probe.kv_attention_ns_per_token.\(dtype.rawValue)"].flatMap(Double.init))
            #expect(ns > 0)
        }
    }

    @Test func invalidCombinationsAreRejectedWithTheOptionName() {
        var o = EngineOptions()
        o.layout = .contiguous
        o.prefixCaching = true
        #expect(throws: EngineError.self) { try o.validate() }
        do { try o.validate() } catch { #expect(error.message.contains("--prefix-cache")) }
    }
}
