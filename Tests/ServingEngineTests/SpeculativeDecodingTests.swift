import Testing
import Synchronization
import Kernels
import KVCache
import LlamaModel
import TraceFormat
import Tracing
@testable import ServingEngine

/// A clock that advances 1 µs per reading (deterministic timestamps).
final class SpeculativeTestClock: TraceClock, @unchecked Sendable {
    private let ticks = Mutex<Int64>(0)
    func now() -> TraceTime { ticks.withLock { $0 += 1_000; return $0 } }
    var name: String { "test" }
}

/// Speculation on the `tiny` preset end to end: greedy output identical to plain decoding for
/// every strategy, KV rollback without leaks, and the trace carrying the acceptance data.
struct SpeculativeDecodingTests {
    static let pool = ThreadPool(threadCount: 1)
    static let target = ModelPreset.tiny.makeWeights(type: .f32, seed: 11)

    /// Prompts with repetition (so prompt lookup finds matches) and without.
    static let prompts: [[Int32]] = [
        [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3],
        [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        (0..<20).map { Int32(($0 * 37 + 5) % 512) },
    ]
    static let newTokens = 16
    /// Plain greedy outputs of ``prompts`` (computed once).
    static let expected: [[Int32]] = prompts.map { try! referenceOutput($0) }

    /// The independent reference: the model helper's single-sequence generator, greedy.
    static func referenceOutput(_ prompt: [Int32]) throws -> [Int32] {
        let generator = try TextGenerator(weights: target, threads: 1, clock: { 0 })
        var sampler = Sampler(parameters: .greedy, vocabularySize: target.config.vocabSize, rng: Xoshiro256(seed: 0))
        var out: [Int32] = []
        _ = generator.generate(prompt: prompt.map(Int.init), steps: newTokens, sampler: &sampler) { out.append(Int32($0)) }
        return out
    }

    static func makeDecoder(drafter: (any Drafter)?, gamma: DraftLength, sampling: SamplingParameters = .greedy,
                            blockSize: Int = 4, blocks: Int = 64, tracer: Tracer? = nil) throws -> (SpeculativeDecoder, BlockManagerKVPool) {
        let c = target.config
        let kvPool = BlockManagerKVPool(blockSize: blockSize, totalBlocks: blocks)
        let kv = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                    blockCount: blocks, dtype: .f32)
        let transformer = Transformer(weights: target, maxBatchTokens: 128, maxLogitRows: 64, pool: pool)
        let decoder = SpeculativeDecoder(target: transformer, kv: kv, pool: kvPool, drafter: drafter, draftLength: gamma,
                                         sampling: sampling, tracer: tracer ?? Tracer(sink: nil, clock: SpeculativeTestClock()))
        return (decoder, kvPool)
    }

    static func sequences(seed: UInt64 = 1) -> [SpeculativeSequence] {
        prompts.enumerated().map { SpeculativeSequence(id: UInt64($0 + 1), prompt: $1, maxNewTokens: newTokens, seed: seed) }
    }

    @Test(arguments: ["draft:tiny", "quant", "early-exit:1", "ngram"])
    func greedyOutputIsIdenticalWithSpeculation(strategy: String) throws {
        let expected = Self.expected
        let drafter = try DraftStrategy(parsing: strategy).makeDrafter(target: Self.target, seed: 11, maxSequences: 4, pool: Self.pool)
        for gamma in [DraftLength.fixed(3), .adaptive(maximum: 6)] {
            let (decoder, kvPool) = try Self.makeDecoder(drafter: drafter, gamma: gamma)
            var seqs = Self.sequences()
            decoder.run(&seqs)
            for (s, reference) in zip(seqs, expected) {
                #expect(Array(s.output) == reference, "\(strategy) γ \(gamma): sequence \(s.id) differs from plain greedy decoding")
            }
            #expect(decoder.stats.draftedTokens > 0)
            #expect(kvPool.freeBlocks == kvPool.totalBlocks, "KV blocks leaked")
            #expect(kvPool.checkInvariants() == nil)
            // Self-drafts agree with the target often; prompt lookup matches the repeated prompt.
            if strategy == "quant" || strategy == "ngram" { #expect(decoder.stats.acceptedTokens > 0) }
        }
    }

    @Test func plainDecodingMatchesTheReference() throws {
        let expected = Self.expected
        let (decoder, _) = try Self.makeDecoder(drafter: nil, gamma: .fixed(4))
        var seqs = Self.sequences()
        decoder.run(&seqs)
        #expect(seqs.map { Array($0.output) } == expected)
        #expect(decoder.stats.draftedTokens == 0)
    }

    @Test func derivedDraftWeights() throws {
        let exit = try Self.target.earlyExit(layers: 1)
        #expect(exit.config.layers == 1 && exit.layers.count == 1)
        #expect(exit.output.base == Self.target.output.base)  // shares the target's memory
        #expect(throws: DerivedWeightsError.self) { try Self.target.earlyExit(layers: 3) }
        let quant = try Self.target.requantized(to: .q4_0)
        #expect(quant.weightType == .q4_0 && quant.layers[1].down.type == .q4_0)
        // Row 0 of wq decodes to within the q4_0 step of the original.
        let cols = Self.target.config.dim
        var original = [Float](repeating: 0, count: cols), converted = original
        original.withUnsafeMutableBufferPointer { Quantization.dequantize(Self.target.layers[0].wq.row(0), count: cols, from: .f32, into: $0.baseAddress!) }
        converted.withUnsafeMutableBufferPointer { Quantization.dequantize(quant.layers[0].wq.row(0), count: cols, from: .q4_0, into: $0.baseAddress!) }
        let largest = original.map(abs).max()!
        #expect(zip(original, converted).allSatisfy { abs($0 - $1) <= largest / 8 + 1e-6 })
        #expect(zip(original, converted).contains { $0 != $1 })
    }

    @Test func ngramLookupProposesWhatFollowedTheLatestMatch() {
        #expect(NGramDrafter.lookup([1, 2, 3, 9, 1, 2, 3, 7, 1, 2, 3], count: 2, maxMatch: 3, minMatch: 1) == [7, 1])
        #expect(NGramDrafter.lookup([5, 6, 7], count: 3, maxMatch: 3, minMatch: 1) == [])
        // Falls back to shorter matches; a copy reaching the end continues with the period.
        #expect(NGramDrafter.lookup([4, 8, 4], count: 5, maxMatch: 3, minMatch: 1) == [8, 4, 8, 4, 8])
        #expect(NGramDrafter.lookup([3, 9, 9], count: 3, maxMatch: 3, minMatch: 1) == [9, 9, 9])
    }

    /// A drafter that corrupts a self-draft at random positions, so verification sees every
    /// accept/reject pattern (0…γ accepted) with random γ.
    final class CorruptingDrafter: Drafter {
        let inner: any Drafter
        var rng: Xoshiro256
        init(inner: any Drafter, seed: UInt64) { self.inner = inner; rng = Xoshiro256(seed: seed) }
        var name: String { "corrupt(\(inner.name))" }
        var runsModel: Bool { true }
        func propose(_ requests: inout [DraftRequest], sampling: SamplingParameters) {
            for i in requests.indices { requests[i].count = Int(rng.next() % UInt64(requests[i].count)) + 1 }
            inner.propose(&requests, sampling: sampling)
            for i in requests.indices {
                for k in requests[i].tokens.indices where rng.next() % 4 == 0 { requests[i].tokens[k] = Int32(rng.next() % 512) }
                requests[i].distributions = []
            }
        }
        func release(_ sequence: UInt64) { inner.release(sequence) }
    }

    /// KV invariants after every step of runs with random accept/reject patterns (γ up to 6,
    /// blocks of 4 so rollbacks cross block boundaries), and every block back in the pool at the end.
    @Test func kvRollbackKeepsInvariantsUnderRandomAcceptance() throws {
        var rounds = 0, patterns = Set<[Int]>()
        for seed in 0..<3 as Range<UInt64> {
            let inner = try DraftStrategy.quantized.makeDrafter(target: Self.target, seed: 11, maxSequences: 4, pool: Self.pool)
            let (decoder, kvPool) = try Self.makeDecoder(drafter: CorruptingDrafter(inner: inner, seed: seed), gamma: .fixed(6),
                                                         blocks: 48)
            var seqs = Self.prompts.enumerated().map {
                SpeculativeSequence(id: UInt64($0 + 1), prompt: $1, maxNewTokens: 24 + 6 * $0, seed: seed)
            }
            decoder.prefill(&seqs)
            while seqs.contains(where: { !$0.isFinished }) {
                decoder.decodeStep(&seqs)
                rounds += 1
                #expect(kvPool.checkInvariants() == nil)
                for s in seqs where !s.isFinished {
                    #expect(kvPool.slots(s.id) == s.tokens.count - 1, "KV holds exactly the accepted context")
                }
            }
            patterns.formUnion(decoder.stats.acceptedPerPosition.indices.map { [$0, decoder.stats.acceptedPerPosition[$0]] })
            #expect(kvPool.freeBlocks == kvPool.totalBlocks)
            #expect(decoder.stats.acceptedTokens > 0 && decoder.stats.rejectedDrafts > 0)
        }
        #expect(rounds > 30)
    }

    /// Pool-level property: thousands of random grow-to-γ+1 / roll-back-to-accepted patterns.
    @Test func blockPoolSurvivesThousandsOfRandomRollbacks() {
        var rng = Xoshiro256(seed: 77)
        let pool = BlockManagerKVPool(blockSize: 4, totalBlocks: 200)
        var lengths: [UInt64: Int] = [:]
        for round in 0..<5_000 {
            let id = rng.next() % 8
            if lengths[id] == nil {
                lengths[id] = Int(rng.next() % 20) + 1
                #expect(pool.reserve(id, slots: lengths[id]!))
            }
            let n = lengths[id]!
            let gamma = Int(rng.next() % 8)
            if pool.reserve(id, slots: n + gamma) {
                let accepted = Int(rng.next() % UInt64(gamma + 1))
                pool.rollback(id, slots: n + accepted)
                lengths[id] = n + accepted + 1 <= 60 ? n + accepted + 1 : n
                _ = pool.reserve(id, slots: lengths[id]!)
            }
            if rng.next() % 10 == 0 || lengths[id]! > 50 {
                pool.release(id)
                lengths[id] = nil
            }
            if let violation = pool.checkInvariants() {
                Issue.record("round \(round): \(violation)")
                return
            }
        }
        for id in lengths.keys { pool.release(id) }
        #expect(pool.freeBlocks == pool.totalBlocks)
    }

    /// The trace carries draft/verify spans with their batches, per-step counters with
    /// per-request drafted/accepted, and token events delivering several tokens at once.
    @Test func traceCarriesAcceptanceData() throws {
        let sink = InMemorySink()
        let drafter = try DraftStrategy.earlyExit(layers: 1).makeDrafter(target: Self.target, seed: 11, maxSequences: 4, pool: Self.pool)
        let (decoder, _) = try Self.makeDecoder(drafter: drafter, gamma: .fixed(3),
                                                tracer: Tracer(sink: sink, clock: SpeculativeTestClock()))
        var seqs = Self.sequences()
        decoder.run(&seqs)
        let events = sink.events
        let steps = events.compactMap { if case .step(let s) = $0 { s } else { nil } }
        let counters = events.compactMap { if case .speculation(let c) = $0 { c } else { nil } }
        let requests = events.compactMap { if case .request(let r) = $0 { r } else { nil } }
        let drafts = steps.filter { $0.phase == .draft }, verifies = steps.filter { $0.phase == .verify }
        #expect(!drafts.isEmpty && drafts.count == verifies.count && drafts.count == counters.count)
        #expect(drafts.allSatisfy { $0.duration > 0 && !$0.batch.isEmpty })
        for (v, c) in zip(verifies, counters) {
            #expect(v.step == c.step)
            #expect(c.perRequest.reduce(0) { $0 + Int($1.drafted) } == Int(c.drafted))
            for r in c.perRequest {
                #expect(v.batch.first { $0.request == r.request }?.decodeTokens == r.drafted + 1)
            }
        }
        #expect(counters.reduce(0) { $0 + Int($1.accepted) } == decoder.stats.acceptedTokens)
        #expect(counters.reduce(0) { $0 + Int($1.drafted) } == decoder.stats.draftedTokens)
        for s in seqs {
            let delivered = requests.filter { $0.request == s.id && ($0.kind == .token || $0.kind == .firstToken) }
                .reduce(0) { $0 + Int($1.tokens ?? 0) }
            #expect(delivered == Self.newTokens)
            #expect(requests.contains { $0.request == s.id && $0.kind == .finished && $0.tokens == Int32(Self.newTokens) })
        }
        if decoder.stats.acceptedTokens > 0 { #expect(requests.contains { $0.kind == .token && ($0.tokens ?? 0) > 1 }) }
    }

    /// Sampling through the whole decoder is reproducible for a seed and uses every strategy's
    /// draft distributions without tripping verification's preconditions.
    @Test func samplingRunIsReproducible() throws {
        let sampling = SamplingParameters(temperature: 0.9, topK: 40)
        func run() throws -> [[Int32]] {
            let drafter = try DraftStrategy.quantized.makeDrafter(target: Self.target, seed: 11, maxSequences: 4, pool: Self.pool)
            let (decoder, kvPool) = try Self.makeDecoder(drafter: drafter, gamma: .fixed(4), sampling: sampling)
            var seqs = Self.sequences(seed: 5)
            decoder.run(&seqs)
            #expect(kvPool.freeBlocks == kvPool.totalBlocks)
            return seqs.map { Array($0.output) }
        }
        let first = try run()
        #expect(try run() == first)
        #expect(first.allSatisfy { $0.count == Self.newTokens && $0.allSatisfy { $0 >= 0 && $0 < 512 } })
    }
}
