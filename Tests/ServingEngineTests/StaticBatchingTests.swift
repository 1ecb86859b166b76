import Testing
import KVCache
import Scheduling

/// The `static` baseline with no model: a batch is formed from everything waiting when the
/// previous batch ended, and it computes every slot (finished members as padding) until its
/// slowest request ends.
struct StaticBatchingTests {
    /// A scheduler over a paged pool large enough that KV never limits admission.
    static func scheduler(_ policy: SchedulerPolicy, maxNumSeqs: Int = 8) -> Scheduler {
        Scheduler(config: SchedulerConfig(policy: policy, maxNumSeqs: maxNumSeqs, maxBatchedTokens: 256, maxModelLength: 64),
                  kv: PagedBlockAllocator(blockSize: 4, totalBlocks: 64))
    }

    static func request(_ id: SequenceID, output: Int) -> ServingRequest {
        ServingRequest(id: id, prompt: [1, 2, 3, 4, 5], outputTokens: output)
    }

    /// Runs one step with a fake model that samples token 7 for every row needing logits, except
    /// padding rows (the engine discards their output).
    @discardableResult
    static func step(_ s: Scheduler) -> (plan: SchedulePlan, outcome: StepOutcome) {
        let plan = s.schedule()
        let results = plan.sequences.filter { $0.needsLogits && !$0.isPadding }.map { SequenceResult(id: $0.id, tokens: [7]) }
        return (plan, s.update(results))
    }

    @Test func nextBatchTakesEveryRequestThatWaited() {
        let s = Self.scheduler(.static, maxNumSeqs: 4)
        s.add(Self.request(1, output: 3))
        let first = Self.step(s).plan
        #expect(first.admitted.map(\.id) == [1])
        for id: SequenceID in 2...6 { s.add(Self.request(id, output: 2)) }
        // The batch in flight admits nobody until request 1 has finished.
        var finished: [SequenceID] = []
        while !finished.contains(1) {
            let (plan, outcome) = Self.step(s)
            #expect(plan.admitted.isEmpty && plan.sequences.map(\.id) == [1])
            finished += outcome.finished.map(\.id)
        }
        // The next batch is everything waiting, up to max-num-seqs.
        #expect(Self.step(s).plan.admitted.map(\.id) == [2, 3, 4, 5])
        while s.runningCount > 0 { Self.step(s) }
        #expect(Self.step(s).plan.admitted.map(\.id) == [6])
    }

    @Test func finishedMembersAreComputedAsPaddingUntilTheSlowestEnds() {
        let s = Self.scheduler(.static)
        let outputs: [SequenceID: Int] = [1: 1, 2: 3, 3: 5]
        for id: SequenceID in 1...3 { s.add(Self.request(id, output: outputs[id]!)) }
        let prefill = Self.step(s)
        #expect(prefill.plan.sequences.count == 3 && !prefill.plan.hasDecode)
        #expect(prefill.outcome.finished.map(\.id) == [1])
        var done: Set<SequenceID> = [1]
        var decodeSteps = 0
        while s.runningCount > 0 {
            let blocksBefore = s.kv.availableBlocks
            let (plan, outcome) = Self.step(s)
            decodeSteps += 1
            // Every slot of the batch is computed in every decode step; finished ones as padding.
            #expect(plan.sequences.map(\.id).sorted() == [1, 2, 3])
            #expect(Set(plan.sequences.filter(\.isPadding).map(\.id)) == done)
            for row in plan.sequences where row.isPadding {
                #expect(row.isDecode && row.needsLogits && row.tokens.count == 1)
            }
            done.formUnion(outcome.finished.map(\.id))
            // A finished member keeps its KV until the batch ends.
            if s.runningCount > 0 { #expect(s.kv.availableBlocks <= blocksBefore) }
        }
        #expect(decodeSteps == 4)
        #expect(s.isIdle && s.kv.availableBlocks == s.kv.totalBlocks)
    }

    @Test func continuousBatchingHasNoPadding() {
        let s = Self.scheduler(.continuous)
        for id: SequenceID in 1...3 { s.add(Self.request(id, output: Int(id) * 2)) }
        var rows = 0
        while !s.isIdle {
            let plan = Self.step(s).plan
            #expect(plan.paddingCount == 0)
            rows += plan.sequences.count
        }
        #expect(rows == 3 + (1 + 3 + 5))   // one prefill row each, then one decode per token after the first
    }
}
