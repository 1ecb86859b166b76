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
        s.add(ServingRequest(id: 4, prompt: Array(repeating: 1, count: 11), outputTokens: 2))
        var rows = 0
        while !s.isIdle {
            let plan = Self.step(s).plan
            #expect(plan.paddingCount == 0 && plan.promptPaddingTokens == 0 && !plan.sequences.contains(where: \.isPadding))
            rows += plan.sequences.count
        }
        #expect(rows == 4 + (1 + 3 + 5 + 1))   // one prefill row each, then one decode per token after the first
    }

    static func request(_ id: SequenceID, prompt: Int, output: Int) -> ServingRequest {
        ServingRequest(id: id, prompt: (0..<prompt).map { Int32(1 + $0 % 5) }, outputTokens: output)
    }

    @Test func promptsArePaddedToTheLongestPromptOfTheBatch() {
        let s = Self.scheduler(.static)
        let prompts: [SequenceID: Int] = [1: 3, 2: 9, 3: 6]
        for id: SequenceID in 1...3 { s.add(Self.request(id, prompt: prompts[id]!, output: 2)) }
        let plan = Self.step(s).plan
        let real = plan.sequences.filter { !$0.isPadding }
        let pads = plan.sequences.filter(\.isPadding)
        #expect(real.map(\.id) == [1, 2, 3] && real.map(\.tokens.count) == [3, 9, 6])
        // One padding row per shorter member, right after its prompt, up to the longest (9).
        #expect(pads.map(\.id) == [1, 3])
        #expect(pads.map(\.startPosition) == [3, 6] && pads.map(\.tokens.count) == [6, 3])
        #expect(pads.allSatisfy { !$0.isDecode && !$0.needsLogits && $0.blockTable.count * 4 >= 9 })
        #expect(plan.promptPaddingTokens == 9 && plan.paddingCount == 0)
        // W_pad = 1 − Σ s_i / (B·S) = 1 − 18/27.
        let fed = Double(real.reduce(0) { $0 + $1.tokens.count })
        #expect(abs((1 - fed / Double(fed + Double(plan.promptPaddingTokens))) - (1 - 18.0 / 27.0)) < 1e-12)
        // The padding is not context: each member decodes from its own prompt length.
        let decode = Self.step(s).plan
        #expect(decode.sequences.filter { !$0.isPadding }.map(\.startPosition) == [3, 9, 6])
        #expect(decode.promptPaddingTokens == 0)
    }

    @Test func paddedPromptBatchFitsTheTokenBudget() {
        // max-batched-tokens 256: 5 prompts of 40 fit (200); a 6th of 50 would make 6 × 50 = 300.
        let s = Scheduler(config: SchedulerConfig(policy: .static, maxNumSeqs: 8, maxBatchedTokens: 256, maxModelLength: 128),
                          kv: PagedBlockAllocator(blockSize: 4, totalBlocks: 512))
        for id: SequenceID in 1...5 { s.add(Self.request(id, prompt: 40, output: 1)) }
        s.add(Self.request(6, prompt: 50, output: 1))
        let first = Self.step(s).plan
        #expect(first.admitted.map(\.id) == [1, 2, 3, 4, 5] && first.promptPaddingTokens == 0)
        #expect(Self.step(s).plan.admitted.map(\.id) == [6])
    }

    @Test func paddingIsBestEffortWhenThePoolCannotHoldIt() {
        // 4 blocks of 4: the 2-token prompt fits, padding it to 14 would need 4 blocks more.
        let s = Scheduler(config: SchedulerConfig(policy: .static, maxNumSeqs: 4, maxBatchedTokens: 64, maxModelLength: 16,
                                                  watermarkBlocks: 0),
                          kv: PagedBlockAllocator(blockSize: 4, totalBlocks: 5))
        s.add(Self.request(1, prompt: 14, output: 1))
        s.add(Self.request(2, prompt: 2, output: 1))
        let plan = Self.step(s).plan
        // Both run in the same batch; the short one unpadded rather than left waiting.
        #expect(plan.admitted.map(\.id) == [1, 2] && plan.promptPaddingTokens == 0)
        #expect(s.isIdle && s.kv.availableBlocks == s.kv.totalBlocks)
    }

    @Test func contiguousLayoutReservesThePaddedLength() {
        let s = Scheduler(config: SchedulerConfig(policy: .static, maxNumSeqs: 4, maxBatchedTokens: 64, maxModelLength: 32),
                          kv: ContiguousAllocator(blockSize: 4, totalBlocks: 64))
        s.add(Self.request(1, prompt: 2, output: 1))
        s.add(Self.request(2, prompt: 20, output: 1))
        let plan = Self.step(s).plan
        let pad = plan.sequences.filter(\.isPadding)
        #expect(pad.map(\.id) == [1] && pad.first?.tokens.count == 18)
        #expect(s.isIdle)
        #expect(s.kv.availableBlocks == s.kv.totalBlocks)
    }
}
