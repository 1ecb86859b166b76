import Testing
import KVCache
import Scheduling
import LlamaModel
import TraceFormat

/// Drives the scheduler and the allocators with thousands of seeded random workloads and
/// configurations, with no model: a fake KV store records which token sits in every slot, so
/// every prefix-cache hit, copy-on-write, swap and hand-off is checked to deliver the right
/// context, and a fabricated "model" samples a token that is a pure function of the sequence
/// and position, so recomputation must reproduce exactly the same output.
struct SchedulerPropertyTests {
    static let seeds = 10_000
    static let shards = 4

    /// 10,000 seeds in four shards (run in parallel); each shard also checks that the paths under
    /// test were exercised (preemption of both kinds, swaps, prefix-cache hits, static/chunked).
    @Test(arguments: 0..<shards)
    func randomWorkloadsKeepEveryInvariant(shard: Int) throws {
        var failures: [String] = []
        var coverage = Coverage()
        let perShard = Self.seeds / Self.shards
        for seed in UInt64(shard * perShard)..<UInt64((shard + 1) * perShard) {
            do { try SimulatedRun(seed: seed).run(&coverage) } catch {
                failures.append("seed \(seed): \(error)")
                if failures.count >= 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(coverage.recomputes > 100 && coverage.swaps > 100 && coverage.prefixHitTokens > 1_000 && coverage.reloads > 10,
                "too little exercised: \(coverage)")
        #expect(coverage.aborted > 0 && coverage.finished > 5_000 && coverage.paddingRows > 1_000
                && coverage.promptPaddingTokens > 1_000, "\(coverage)")
    }

    @Test func disaggregatedHandoffRuns() throws {
        var failures: [String] = []
        var coverage = Coverage()
        for seed in 0..<UInt64(1_000) {
            do { try SimulatedRun(seed: seed, disaggregated: true).run(&coverage) } catch {
                failures.append("seed \(seed): \(error)")
                if failures.count >= 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(coverage.handoffs > 1_000, "\(coverage)")
    }
}

/// How often the interesting paths ran.
struct Coverage: CustomStringConvertible {
    var recomputes = 0
    var swaps = 0
    var prefixHitTokens = 0
    var handoffs = 0
    var reloads = 0
    var aborted = 0
    var finished = 0
    var paddingRows = 0
    var promptPaddingTokens = 0
    var description: String {
        "recomputes \(recomputes) swaps \(swaps) prefix hits \(prefixHitTokens) handoffs \(handoffs) reloads \(reloads) aborted \(aborted) finished \(finished) padding rows \(paddingRows) prompt padding tokens \(promptPaddingTokens)"
    }
}

struct PropertyFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A KV pool's contents as (token) per slot, plus its scheduler.
final class SimulatedWorker {
    let scheduler: Scheduler
    let kv: any KVBlockManager
    let blockSize: Int
    var store: [[Int32]]
    /// Second-tier copies of swapped sequences' blocks, and of offloaded prefix blocks.
    var host: [SequenceID: [[Int32]]] = [:]
    var prefixTier: [UInt64: [Int32]] = [:]

    init(config: SchedulerConfig, kv: any KVBlockManager) {
        self.scheduler = Scheduler(config: config, kv: kv)
        self.kv = kv
        self.blockSize = kv.blockSize
        store = Array(repeating: Array(repeating: -1, count: kv.blockSize), count: kv.totalBlocks)
    }
}

struct SimulatedRun {
    let seed: UInt64
    var disaggregated = false

    /// The fabricated model: the token after `position` in sequence `id`.
    static func token(_ id: SequenceID, _ position: Int) -> Int32 { Int32((Int(id) &* 7 &+ position &* 3) % 5) }

    func run(_ coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }

        let blockSize = pick([1, 2, 4, 8, 16])
        let layout: KVLayout = disaggregated ? .paged : pick([.paged, .paged, .contiguous])
        let prefix = layout == .paged && rng.next() % 2 == 0
        let policy: SchedulerPolicy = pick(SchedulerPolicy.allCases)
        let preemption: PreemptionMode = pick(PreemptionMode.allCases)
        let maxModelLength = 32
        let n = int(1...8)
        var requests: [(ServingRequest, Int)] = []   // (request, arrival step)
        let shared = (0..<12).map { _ in Int32(rng.next() % 3) }
        for i in 0..<n {
            let promptLength = int(1...20)
            var prompt = (0..<promptLength).map { _ in Int32(rng.next() % 4) }
            if rng.next() % 2 == 0 {   // a shared-prefix group
                let k = min(promptLength, int(1...12))
                prompt.replaceSubrange(0..<k, with: shared[0..<k])
            }
            let output = int(1...min(12, maxModelLength - promptLength))
            let maxOutput = min(maxModelLength - promptLength, output + int(0...8))
            requests.append((ServingRequest(id: SequenceID(100 + i), prompt: prompt, outputTokens: output,
                                            maxOutputTokens: maxOutput), int(0...6)))
        }
        let longest = requests.map { $0.0.prompt.count + $0.0.maxOutputTokens }.max()!
        let minimumBlocks = (longest + blockSize - 1) / blockSize
        let totalBlocks = rng.next() % 4 == 0 ? minimumBlocks - 1 : minimumBlocks + int(0...(2 * minimumBlocks))
        let config = SchedulerConfig(policy: policy, maxNumSeqs: int(1...6), maxBatchedTokens: int(32...64),
                                     tokenBudget: int(1...32), preemption: preemption,
                                     swapCapacityBlocks: int(0...24), maxModelLength: maxModelLength,
                                     watermarkBlocks: int(0...2), stopAfterPrefill: disaggregated)
        let context = "blockSize \(blockSize) \(layout) prefix \(prefix) \(policy) \(preemption) blocks \(totalBlocks)"
        let offload = prefix && rng.next() % 2 == 0 ? int(1...8) : 0
        let main = SimulatedWorker(config: config, kv: makeBlockManager(layout: layout, blockSize: blockSize,
                                                                     totalBlocks: max(0, totalBlocks), prefixCaching: prefix,
                                                                     prefixOffloadBlocks: offload))
        var decodeConfig = config
        decodeConfig.stopAfterPrefill = false
        decodeConfig.policy = pick([.continuous, .chunked])
        let decode = disaggregated
            ? SimulatedWorker(config: decodeConfig, kv: PagedBlockAllocator(blockSize: blockSize, totalBlocks: max(0, totalBlocks)))
            : nil
        var handoffs: [(ServingRequest, Int32, [[Int32]])] = []

        let byID = Dictionary(uniqueKeysWithValues: requests.map { ($0.0.id, $0.0) })
        var outputs: [SequenceID: [Int32]] = [:]
        var finished: Set<SequenceID> = []
        var aborted: Set<SequenceID> = []
        var firstScheduledOrder: [SequenceID] = []
        var step = 0
        while finished.count + aborted.count < n {
            step += 1
            if step > 5_000 { throw PropertyFailure("\(context): no progress after 5000 steps (starvation or livelock)") }
            for (r, at) in requests where at == step - 1 { main.scheduler.add(r) }
            for (r, first, data) in handoffs { decode!.scheduler.addPrefilled(r, firstToken: first); decode!.host[r.id] = data }
            handoffs.removeAll()
            for worker in [main] + (decode.map { [$0] } ?? []) {
                let plan = worker.scheduler.schedule()
                for a in plan.aborted {
                    // Only requests the configuration cannot hold may be aborted.
                    let r = byID[a.id]!
                    let need = (max(r.prompt.count + r.maxOutputTokens, r.prompt.count + r.outputTokens) + blockSize - 1) / blockSize
                    let tooLongForBatch = policy != .chunked && r.prompt.count + r.outputTokens - 1 > config.maxBatchedTokens
                    if need <= totalBlocks && !tooLongForBatch && worker === main {
                        throw PropertyFailure("\(context): request \(a.id) aborted (\(a.reason)) though it fits")
                    }
                    aborted.insert(a.id)
                    coverage.aborted += 1
                }
                for p in plan.preempted {
                    if p.mode == .swap { coverage.swaps += 1 } else { coverage.recomputes += 1 }
                }
                coverage.prefixHitTokens += plan.admitted.reduce(0) { $0 + $1.cachedTokens }
                coverage.paddingRows += plan.paddingCount
                coverage.reloads += plan.prefixTransfers.filter { if case .reload = $0 { return true } else { return false } }.count
                for a in plan.admitted where !a.resumed && worker === main && !firstScheduledOrder.contains(a.id) {
                    firstScheduledOrder.append(a.id)
                }
                let results = try execute(plan, on: worker, byID: byID, outputs: outputs, context: context, coverage: &coverage)
                let outcome = worker.scheduler.update(results)
                try checkInvariants(worker, context, "after update of step \(plan.step)")
                for e in outcome.emitted { outputs[e.id, default: []].append(contentsOf: e.tokens) }
                for f in outcome.finished {
                    if f.reason == .handoff {
                        let data = f.blocks.map { worker.store[Int($0)] }
                        handoffs.append((byID[f.id]!, f.output[0], data))
                        coverage.handoffs += 1
                        continue
                    }
                    let r = byID[f.id]!
                    if f.output.count != r.outputTokens {
                        throw PropertyFailure("\(context): request \(f.id) finished with \(f.output.count) tokens, expected \(r.outputTokens)")
                    }
                    let expected = (0..<r.outputTokens).map { Self.token(f.id, r.prompt.count + $0 - 1) }
                    if f.output != expected || outputs[f.id] != expected {
                        throw PropertyFailure("\(context): request \(f.id) output \(f.output) differs from \(expected)")
                    }
                    finished.insert(f.id)
                    coverage.finished += 1
                }
            }
        }
        // FCFS: first admissions follow arrival order (ties broken by request order).
        let arrivalRank = Dictionary(uniqueKeysWithValues: requests.enumerated().map { ($1.0.id, $1.1 * 1_000 + $0) })
        let ranks = firstScheduledOrder.map { arrivalRank[$0]! }
        if ranks != ranks.sorted() {
            throw PropertyFailure("\(context): first scheduled in order \(firstScheduledOrder), not in arrival order")
        }
        for worker in [main] + (decode.map { [$0] } ?? []) {
            if worker.kv.availableBlocks != worker.kv.totalBlocks {
                throw PropertyFailure("\(context): \(worker.kv.totalBlocks - worker.kv.availableBlocks) blocks leaked after all finished")
            }
            if worker.kv.occupancy().blocksUsed != 0 || !worker.scheduler.isIdle || worker.scheduler.swappedBlocks != 0 {
                throw PropertyFailure("\(context): pool or scheduler not empty after all finished")
            }
        }
    }

    func checkInvariants(_ w: SimulatedWorker, _ context: String, _ when: String) throws {
        do { try w.kv.checkInvariants() } catch { throw PropertyFailure("\(context) \(when): \(error)") }
        let occ = w.kv.occupancy()
        if occ.blocksUsed + occ.blocksFree != occ.blocksTotal {
            throw PropertyFailure("\(context) \(when): used \(occ.blocksUsed) + free \(occ.blocksFree) ≠ \(occ.blocksTotal)")
        }
    }

    /// Runs a plan on the fake store in the engine's order and returns fabricated samples.
    func execute(_ plan: SchedulePlan, on w: SimulatedWorker, byID: [SequenceID: ServingRequest],
                 outputs: [SequenceID: [Int32]], context: String, coverage: inout Coverage) throws -> [SequenceResult] {
        let b = w.blockSize
        for p in plan.preempted where p.mode == .swap { w.host[p.id] = p.blocks.map { w.store[Int($0)] } }
        for t in plan.prefixTransfers {
            switch t {
            case .offload(let key, let block): w.prefixTier[key] = w.store[Int(block)]
            case .drop(let key): w.prefixTier[key] = nil
            case .reload(let key, let block):
                guard let data = w.prefixTier[key] else { throw PropertyFailure("\(context): reload of key \(key) not in the tier") }
                w.store[Int(block)] = data
            }
        }
        for s in plan.swappedIn {
            guard let data = w.host.removeValue(forKey: s.id), data.count == s.blocks.count else {
                throw PropertyFailure("\(context): swap-in of \(s.id) into \(s.blocks.count) blocks without matching saved data")
            }
            for (block, content) in zip(s.blocks, data) { w.store[Int(block)] = content }
        }
        for c in plan.copies { w.store[Int(c.destination)] = w.store[Int(c.source)] }
        var ids = Set<SequenceID>()
        var results: [SequenceResult] = []
        for s in plan.sequences {
            let r = byID[s.id]!
            let known = r.prompt + (outputs[s.id] ?? [])
            let end = s.startPosition + s.tokens.count
            if s.blockTable.count * b < end {
                throw PropertyFailure("\(context): \(s.id) has \(s.blockTable.count) blocks for \(end) positions")
            }
            if s.isPadding && !s.isDecode {
                // `static` prompt padding: after the member's own prompt in the same step, right past
                // it, no logits. Its slots get a poison value: a later read of them fails the
                // context check above, so outputs cannot depend on the padding.
                if w.scheduler.config.policy != .static || !ids.contains(s.id) || s.needsLogits || s.startPosition != known.count
                    || plan.admitted.first(where: { $0.id == s.id }) == nil {
                    throw PropertyFailure("\(context): \(s.id) prompt padding at \(s.startPosition) of \(known.count) known tokens")
                }
                for p in s.startPosition..<end { w.store[Int(s.blockTable[p / b])][p % b] = -2 }
                coverage.promptPaddingTokens += s.tokens.count
                continue
            }
            guard ids.insert(s.id).inserted else { throw PropertyFailure("\(context): \(s.id) twice in step \(plan.step)") }
            if Array(known[s.startPosition..<end]) != s.tokens {
                throw PropertyFailure("\(context): \(s.id) fed \(s.tokens) at \(s.startPosition), expected \(Array(known[s.startPosition..<end]))")
            }
            // The context must already be in the cache, exactly.
            for p in 0..<s.startPosition where w.store[Int(s.blockTable[p / b])][p % b] != known[p] {
                throw PropertyFailure("\(context): step \(plan.step) \(s.id) position \(p) holds \(w.store[Int(s.blockTable[p / b])][p % b]), expected \(known[p])")
            }
            for (i, t) in s.tokens.enumerated() {
                let p = s.startPosition + i
                w.store[Int(s.blockTable[p / b])][p % b] = t
            }
            if s.isPadding {
                // `static` padding: a finished member re-feeds its last fed token at its last position.
                if w.scheduler.config.policy != .static || !s.isDecode || !s.needsLogits || end != known.count - 1 || r.outputTokens != known.count - r.prompt.count {
                    throw PropertyFailure("\(context): \(s.id) padding row at \(s.startPosition) of \(known.count) known tokens")
                }
                continue
            }
            if s.needsLogits != (end == known.count) {
                throw PropertyFailure("\(context): \(s.id) needsLogits \(s.needsLogits) at end \(end) of \(known.count)")
            }
            if s.needsLogits { results.append(SequenceResult(id: s.id, tokens: [Self.token(s.id, end - 1)])) }
        }
        return results
    }
}
