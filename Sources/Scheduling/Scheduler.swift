import KVCache

/// The batching policy as a pure state machine over one KV pool: `add` requests as they
/// arrive, call `schedule()` for a plan, run it, then `update(_:)` with what was sampled. No
/// clock, no model, no I/O — tests drive it with fabricated results.
///
/// Priority is arrival order (FCFS): admission stops at the first waiting request that does not
/// fit (no request overtakes an earlier one), and when the pool is full the lowest-priority
/// sequence not yet scheduled in this step is preempted (recompute or swap).
public final class Scheduler {
    enum State { case waiting, running, swapped, finished, padding }

    struct Sequence {
        var id: SequenceID
        /// Arrival order (priority: lower runs first).
        var order: Int
        var promptCount: Int
        var tokens: [Int32]
        var outputTokens: Int
        /// Length the sequence may reach (prompt + max output), the contiguous reservation.
        var reserve: Int
        /// Positions whose KV is in the cache (or in the second tier while swapped).
        var computed = 0
        var state = State.waiting
        var everScheduled = false
        var preemptions = 0
        /// While swapped: slots saved and second-tier blocks held.
        var swappedSlots = 0
        var hostBlocks = 0
        var viaHandoff = false
        var stopTokens: [Int32] = []
        var minTokens = 0
        var generated: Int { tokens.count - promptCount }
    }

    public let config: SchedulerConfig
    public let kv: any KVBlockManager
    var sequences: [SequenceID: Sequence] = [:]
    /// Queues in priority order.
    var waiting: [SequenceID] = []
    var running: [SequenceID] = []
    var swapped: [SequenceID] = []
    /// `static`: live (unfinished) members of the batch in flight.
    var staticBatch: Set<SequenceID> = []
    /// `static`: finished members of the batch in flight, in finishing order. They keep their slot
    /// and their KV and are computed as padding in every decode step until the batch ends.
    var padding: [SequenceID] = []
    var nextOrder = 0
    var stepIndex: Int64 = 0
    var pendingAborts: [AbortedSequence] = []
    var lastPlan: SchedulePlan?
    var scheduledThisStep: Set<SequenceID> = []
    var preemptedThisStep = false
    /// Second-tier blocks held by swapped sequences (hand-offs excluded).
    public private(set) var swappedBlocks = 0
    /// Preemptions so far, by mode.
    public private(set) var preemptionCount: [PreemptionMode: Int] = [:]

    /// - Precondition: `config.validate()` passes.
    public init(config: SchedulerConfig, kv: any KVBlockManager) {
        precondition((try? config.validate()) != nil, "invalid scheduler configuration")
        self.config = config
        self.kv = kv
    }

    // MARK: - Queries

    public var runningCount: Int { running.count }
    public var waitingCount: Int { waiting.count }
    public var swappedCount: Int { swapped.count }
    /// No request is waiting, running or swapped.
    public var isIdle: Bool { waiting.isEmpty && running.isEmpty && swapped.isEmpty && pendingAborts.isEmpty }
    /// Tokens generated so far by a live sequence.
    public func tokens(of id: SequenceID) -> [Int32]? { sequences[id]?.tokens }
    /// Waiting, running and swapped ids in priority order (for tests and counters).
    public var liveSequences: [SequenceID] {
        (waiting + running + swapped).sorted { sequences[$0]!.order < sequences[$1]!.order }
    }

    var watermark: Int { config.watermarkBlocks ?? kv.totalBlocks / 100 }

    // MARK: - Input

    /// Queues a request (it has arrived). Requests that can never run are reported in the next
    /// plan's `aborted`.
    public func add(_ request: ServingRequest) {
        precondition(sequences[request.id] == nil, "request \(request.id) added twice")
        let seq = makeSequence(request)
        if let reason = impossibility(seq) {
            pendingAborts.append(AbortedSequence(id: request.id, reason: reason))
            return
        }
        sequences[request.id] = seq
        insert(request.id, into: &waiting)
    }

    /// Disaggregated decode worker: queues a request whose prompt was prefilled elsewhere and whose
    /// first token is `firstToken`. Its KV arrives by hand-off: it is admitted like a swapped
    /// sequence (the plan's `swappedIn` with `handoff: true` names the blocks to fill).
    public func addPrefilled(_ request: ServingRequest, firstToken: Int32) {
        precondition(sequences[request.id] == nil, "request \(request.id) added twice")
        var seq = makeSequence(request)
        if let reason = impossibility(seq) {
            pendingAborts.append(AbortedSequence(id: request.id, reason: reason))
            return
        }
        seq.tokens.append(firstToken)
        seq.computed = seq.promptCount
        seq.swappedSlots = seq.promptCount
        seq.viaHandoff = true
        seq.everScheduled = true
        seq.state = .swapped
        sequences[request.id] = seq
        insert(request.id, into: &swapped)
    }

    func makeSequence(_ r: ServingRequest) -> Sequence {
        let reserve = min(config.maxModelLength, r.prompt.count + r.maxOutputTokens)
        let order = nextOrder
        nextOrder += 1
        return Sequence(id: r.id, order: order, promptCount: r.prompt.count, tokens: r.prompt,
                        outputTokens: r.outputTokens, reserve: reserve, stopTokens: r.stopTokens, minTokens: r.minTokens)
    }

    /// Why a sequence can never run, or nil.
    func impossibility(_ s: Sequence) -> String? {
        if s.promptCount == 0 { return "empty prompt" }
        if s.outputTokens < 1 { return "output length \(s.outputTokens) < 1" }
        if s.promptCount + s.outputTokens > config.maxModelLength {
            return "prompt \(s.promptCount) + output \(s.outputTokens) tokens exceeds the model's maximum length \(config.maxModelLength)"
        }
        let longest = max(s.reserve, s.promptCount + s.outputTokens) + config.lookaheadSlots
        if kv.blocksFor(tokens: longest) > kv.totalBlocks {
            return "needs \(kv.blocksFor(tokens: longest)) KV blocks, the pool has \(kv.totalBlocks)"
        }
        if config.policy != .chunked && s.promptCount + s.outputTokens - 1 > config.maxBatchedTokens {
            return "prompt of up to \(s.promptCount + s.outputTokens - 1) tokens (with recompute) exceeds max-batched-tokens \(config.maxBatchedTokens); use the chunked scheduler or raise the limit"
        }
        return nil
    }

    func insert(_ id: SequenceID, into queue: inout [SequenceID]) {
        let order = sequences[id]!.order
        let index = queue.firstIndex { sequences[$0]!.order > order } ?? queue.count
        queue.insert(id, at: index)
    }

    // MARK: - Scheduling

    /// Plans the next step. An empty plan means nothing can run until more requests arrive.
    public func schedule() -> SchedulePlan {
        precondition(lastPlan == nil, "schedule() called twice without update()")
        var plan = SchedulePlan(step: stepIndex)
        stepIndex += 1
        plan.aborted = pendingAborts
        pendingAborts.removeAll()
        scheduledThisStep.removeAll(keepingCapacity: true)
        preemptedThisStep = false
        switch config.policy {
        case .continuous, .static: schedulePrefillOrDecode(&plan)
        case .chunked: scheduleChunked(&plan)
        }
        plan.copies = kv.takeCopies()
        plan.prefixTransfers = kv.takePrefixTransfers()
        lastPlan = plan
        return plan
    }

    /// `continuous` and `static`: a prefill-only step when waiting prompts can be admitted (and
    /// nothing is swapped out), else a decode step for every running sequence.
    func schedulePrefillOrDecode(_ plan: inout SchedulePlan) {
        if swapped.isEmpty {
            var budget = config.maxBatchedTokens
            admitWaiting(&plan, budget: &budget, chunked: false)
            if !plan.sequences.isEmpty { return }
        }
        for id in running { _ = scheduleRunning(id, maxTokens: 1, &plan) }
        if !preemptedThisStep {
            for id in swapIn(&plan) { _ = scheduleRunning(id, maxTokens: 1, &plan, mayPreempt: false) }
        }
        if !plan.sequences.isEmpty { addPadding(&plan) }
    }

    /// `static`: one padding row per finished member of the batch in flight. The row re-feeds the
    /// sequence's last fed token at its last position, so it costs a full decode row (projections,
    /// attention over its context, logits) and rewrites the same KV without growing it; the
    /// engine discards its output and `update` ignores it.
    func addPadding(_ plan: inout SchedulePlan) {
        for id in padding {
            let s = sequences[id]!
            let position = s.computed - 1
            plan.sequences.append(ScheduledSequence(
                id: id, tokens: [s.tokens[position]], startPosition: position, blockTable: kv.blockTable(id),
                needsLogits: true, isDecode: true, isPadding: true))
        }
    }

    /// `chunked`: decodes first, then running prompt chunks, then swapped-in sequences, then new
    /// prompts, all within one token budget.
    func scheduleChunked(_ plan: inout SchedulePlan) {
        var budget = config.tokenBudget
        for id in running where remaining(id) == 1 {
            if budget == 0 { break }
            if scheduleRunning(id, maxTokens: 1, &plan) { budget -= 1 }
        }
        for id in running where remaining(id) > 1 && sequences[id]?.state == .running {
            if budget == 0 { break }
            let n = min(remaining(id), budget)
            if scheduleRunning(id, maxTokens: n, &plan) { budget -= n }
        }
        if preemptedThisStep { return }
        for id in swapIn(&plan) {
            let n = min(remaining(id), budget)
            if n > 0 && scheduleRunning(id, maxTokens: n, &plan, mayPreempt: false) { budget -= n }
        }
        if swapped.isEmpty && budget > 0 { admitWaiting(&plan, budget: &budget, chunked: true) }
    }

    /// Tokens of the sequence not yet in the KV cache.
    func remaining(_ id: SequenceID) -> Int {
        guard let s = sequences[id] else { return 0 }
        return s.tokens.count - s.computed
    }

    /// Grows a running sequence for `maxTokens` more tokens (preempting lower-priority unscheduled
    /// sequences if allowed and needed) and adds it to the plan. False if it was not scheduled.
    func scheduleRunning(_ id: SequenceID, maxTokens: Int, _ plan: inout SchedulePlan, mayPreempt: Bool = true) -> Bool {
        guard let s = sequences[id], s.state == .running, !scheduledThisStep.contains(id) else { return false }
        let n = min(maxTokens, s.tokens.count - s.computed)
        guard n > 0 else { return false }
        let lookahead = (n == 1 && s.generated > 0) ? config.lookaheadSlots : 0
        let target = s.computed + n + lookahead
        while true {
            switch kv.grow(id, toSlots: target) {
            case .ok:
                addToPlan(id, count: n, &plan)
                return true
            case .never:
                abortRunning(id, reason: "grew past its KV reservation of \(kv.slots(id)) slots", &plan)
                return false
            case .later:
                if releasePadding() { continue }
                guard mayPreempt else { return false }
                let victim = running.last { v in
                    v != id && !scheduledThisStep.contains(v) && sequences[v]!.order > s.order
                }
                preempt(victim ?? id, &plan)
                if victim == nil { return false }
            }
        }
    }

    func addToPlan(_ id: SequenceID, count: Int, _ plan: inout SchedulePlan) {
        let s = sequences[id]!
        let start = s.computed
        let end = start + count
        plan.sequences.append(ScheduledSequence(
            id: id, tokens: Array(s.tokens[start..<end]), startPosition: start, blockTable: kv.blockTable(id),
            needsLogits: end == s.tokens.count, isDecode: count == 1 && s.generated > 0 && end == s.tokens.count))
        scheduledThisStep.insert(id)
    }

    /// Admits waiting requests in FCFS order while they fit; stops at the first that does not.
    /// `static`: a batch is formed only when none is in flight (``formStaticBatch(_:budget:)``);
    /// while it runs, only its own preempted members are readmitted (unpadded).
    func admitWaiting(_ plan: inout SchedulePlan, budget: inout Int, chunked: Bool) {
        if config.policy == .static && staticBatch.isEmpty {
            formStaticBatch(&plan, budget: &budget)
            return
        }
        while let id = waiting.first {
            if running.count + padding.count >= config.maxNumSeqs || budget <= 0 { return }
            if config.policy == .static && !staticBatch.contains(id) { return }
            if !chunked && sequences[id]!.tokens.count > budget { return }
            switch admitOne(id, maxNewTokens: chunked ? budget : sequences[id]!.tokens.count, padTo: 0, &plan) {
            case .later:
                if releasePadding() { continue }
                return
            case .never: continue
            case .ok: budget -= plan.sequences.last!.tokens.count
            }
        }
    }

    /// Admits the first waiting request into the pool and plans its prompt. `padTo` (`static`
    /// prompt padding; 0 = none) asks for that many slots as well, best effort: a sequence whose
    /// padded length the pool cannot hold now (or ever) is admitted unpadded. `.never` aborts it
    /// (reported in `plan`); `.later` changes nothing.
    func admitOne(_ id: SequenceID, maxNewTokens: Int, padTo: Int, _ plan: inout SchedulePlan) -> AllocationResult {
        var s = sequences[id]!
        let adm = kv.admit(id, tokens: s.tokens, maxNewTokens: maxNewTokens,
                           reserveTokens: max(s.reserve, padTo) + config.lookaheadSlots, usePrefixCache: true,
                           keepFree: running.isEmpty ? 0 : watermark)
        switch adm.result {
        case .later: return .later
        case .never where padTo > 0:
            return admitOne(id, maxNewTokens: maxNewTokens, padTo: 0, &plan)
        case .never:
            waiting.removeFirst()
            sequences[id] = nil
            plan.aborted.append(AbortedSequence(id: id, reason: "needs more KV blocks than the pool has"))
            return .never
        case .ok:
            if padTo > adm.slots { _ = kv.grow(id, toSlots: padTo) }
            waiting.removeFirst()
            s.computed = adm.cachedTokens
            s.state = .running
            plan.admitted.append(AdmittedSequence(id: id, cachedTokens: adm.cachedTokens, resumed: s.preemptions > 0))
            s.everScheduled = true
            sequences[id] = s
            insert(id, into: &running)
            if config.policy == .static { staticBatch.insert(id) }
            addToPlan(id, count: adm.slots - adm.cachedTokens, &plan)
            return .ok
        }
    }

    /// `static`: forms the next batch the way a pre-Orca server (Hugging Face `generate` on a
    /// padded batch, FasterTransformer) does — from the requests waiting when the previous batch
    /// ended (no batching timeout: a batch never waits for more arrivals), FCFS, up to
    /// `max-num-seqs`, while the *padded* prompt batch (members × longest prompt) fits
    /// `max-batched-tokens` and the KV pool holds the members (their padded prompts when it can:
    /// a member the pool cannot hold padded right now is admitted unpadded, see ``admitOne``).
    ///
    /// Every prompt is padded to the batch's longest prompt S: each shorter member gets a padding
    /// row of S − s_i tokens at positions s_i..<S (``ScheduledSequence/isPadding``), computed in
    /// the same forward pass through the member's own block table and discarded; its KV slots are
    /// overwritten by the member's first decodes, which never read past their own position, so
    /// outputs are those of an unpadded run. This is the prefill padding waste W_pad of
    /// methodology §5; decode padding (finished members computed until the slowest ends) is
    /// ``addPadding(_:)``. Unlike left-padded `generate`, decode rows attend to s_i + t rather
    /// than S + t positions, so the baseline is, if anything, slightly cheaper than the original.
    /// O(batch · blocks).
    func formStaticBatch(_ plan: inout SchedulePlan, budget: inout Int) {
        var count = 0, longest = 0
        for id in waiting {
            let length = sequences[id]!.tokens.count
            if count >= config.maxNumSeqs || (count + 1) * max(longest, length) > budget { break }
            count += 1
            longest = max(longest, length)
        }
        var members: [(id: SequenceID, row: Int)] = []
        for _ in 0..<count {
            guard let id = waiting.first else { break }
            let result = admitOne(id, maxNewTokens: sequences[id]!.tokens.count, padTo: longest, &plan)
            if result == .later { break }
            if result == .ok { members.append((id, plan.sequences.count - 1)) }
        }
        // The batch may have come out smaller than planned (KV full): pad to its own longest prompt.
        let padded = members.map { sequences[$0.id]!.tokens.count }.max() ?? 0
        for (id, row) in members {
            let s = sequences[id]!
            budget -= plan.sequences[row].tokens.count
            let length = s.tokens.count, end = min(padded, kv.slots(id))
            guard length < end else { continue }
            plan.sequences.append(ScheduledSequence(
                id: id, tokens: Array(repeating: s.tokens[length - 1], count: end - length),
                startPosition: length, blockTable: kv.blockTable(id), needsLogits: false, isDecode: false,
                isPadding: true))
            budget -= end - length
        }
    }

    /// Brings swapped sequences back in FCFS order while they fit; returns the ids brought back.
    func swapIn(_ plan: inout SchedulePlan) -> [SequenceID] {
        var back: [SequenceID] = []
        while let id = swapped.first, running.count < config.maxNumSeqs {
            var s = sequences[id]!
            let adm = kv.admit(id, tokens: s.tokens, maxNewTokens: s.swappedSlots,
                               reserveTokens: s.reserve + config.lookaheadSlots, usePrefixCache: false, keepFree: 0)
            if adm.result == .later {
                if releasePadding() { continue }
                break
            }
            swapped.removeFirst()
            if !s.viaHandoff { swappedBlocks -= s.hostBlocks }
            if adm.result == .never {
                sequences[id] = nil
                plan.aborted.append(AbortedSequence(id: id, reason: "needs more KV blocks than the pool has"))
                continue
            }
            let saved = kv.blocksFor(tokens: s.swappedSlots)
            plan.swappedIn.append(SwapIn(id: id, blocks: Array(kv.blockTable(id).prefix(saved)), handoff: s.viaHandoff))
            s.state = .running
            s.viaHandoff = false
            s.hostBlocks = 0
            sequences[id] = s
            insert(id, into: &running)
            if config.policy == .static { staticBatch.insert(id) }
            back.append(id)
        }
        return back
    }

    /// Evicts a running sequence: swap it out if configured and the second tier has room, else
    /// free its KV for recomputation.
    func preempt(_ id: SequenceID, _ plan: inout SchedulePlan) {
        var s = sequences[id]!
        running.removeAll { $0 == id }
        preemptedThisStep = true
        s.preemptions += 1
        let keep = min(kv.slots(id), s.computed)
        let used = kv.blocksFor(tokens: keep)
        if config.preemption == .swap && swappedBlocks + used <= config.swapCapacityBlocks {
            let blocks = Array(kv.blockTable(id).prefix(used))
            kv.release(id)
            s.state = .swapped
            s.swappedSlots = keep
            s.hostBlocks = used
            swappedBlocks += used
            sequences[id] = s
            insert(id, into: &swapped)
            plan.preempted.append(Preemption(id: id, mode: .swap, blocks: blocks))
            preemptionCount[.swap, default: 0] += 1
        } else {
            kv.release(id)
            s.state = .waiting
            s.computed = 0
            sequences[id] = s
            insert(id, into: &waiting)
            plan.preempted.append(Preemption(id: id, mode: .recompute, blocks: []))
            preemptionCount[.recompute, default: 0] += 1
        }
    }

    /// Removes a live request on its client's behalf (disconnected, cancelled): its KV blocks and
    /// second-tier blocks are released at once and it is reported in the next plan's `aborted`
    /// with `reason`. False if `id` is not waiting, running or swapped. O(queue length).
    /// - Precondition: between `update` and `schedule` (no plan in flight).
    @discardableResult
    public func cancel(_ id: SequenceID, reason: String) -> Bool {
        guard remove(id) != nil else { return false }
        pendingAborts.append(AbortedSequence(id: id, reason: reason))
        return true
    }

    /// Ends a live request now as finished (`.stop`: its client's stop condition was met by the
    /// tokens already emitted), releasing its blocks. Nil if `id` is not waiting, running or
    /// swapped. O(queue length).
    /// - Precondition: between `update` and `schedule` (no plan in flight).
    public func finishEarly(_ id: SequenceID) -> FinishedSequence? {
        guard let s = remove(id) else { return nil }
        return FinishedSequence(id: id, reason: .stop, promptTokens: s.promptCount,
                                output: Array(s.tokens[s.promptCount...]), blocks: [], slots: s.computed)
    }

    /// Takes a live sequence out of every queue and frees what it holds.
    func remove(_ id: SequenceID) -> Sequence? {
        precondition(lastPlan == nil, "a request may only be removed between update() and schedule()")
        guard let s = sequences[id], s.state == .waiting || s.state == .running || s.state == .swapped else { return nil }
        switch s.state {
        case .waiting: waiting.removeAll { $0 == id }
        case .swapped:
            swapped.removeAll { $0 == id }
            swappedBlocks -= s.hostBlocks
        default: running.removeAll { $0 == id }
        }
        kv.release(id)
        staticBatch.remove(id)
        sequences[id] = nil
        endStaticBatchIfDone()
        return s
    }

    func abortRunning(_ id: SequenceID, reason: String, _ plan: inout SchedulePlan) {
        kv.release(id)
        running.removeAll { $0 == id }
        staticBatch.remove(id)
        sequences[id] = nil
        plan.aborted.append(AbortedSequence(id: id, reason: reason))
        endStaticBatchIfDone()
    }

    /// `static`: frees the most recently finished padding slot when a live member of the batch
    /// needs its KV blocks (the pool is too small to hold the whole padded batch). False if none.
    func releasePadding() -> Bool {
        guard let id = padding.popLast() else { return false }
        kv.release(id)
        sequences[id] = nil
        return true
    }

    /// `static`: once no member of the batch is live, its padding slots are freed.
    func endStaticBatchIfDone() {
        guard staticBatch.isEmpty else { return }
        for id in padding {
            kv.release(id)
            sequences[id] = nil
        }
        padding.removeAll()
    }

    // MARK: - Results

    /// Applies one step's results: every scheduled sequence's fed tokens are now in the KV cache
    /// (minus `rejectedPositions`), and every sequence that needed logits appends its sampled
    /// tokens. Sequences reaching their output length (or EOS) finish and free their blocks.
    /// - Precondition: a result for every planned sequence with `needsLogits`.
    @discardableResult
    public func update(_ results: [SequenceResult]) -> StepOutcome {
        guard let plan = lastPlan else { preconditionFailure("update() without a schedule()") }
        lastPlan = nil
        var byID: [SequenceID: SequenceResult] = [:]
        for r in results { byID[r.id] = r }
        var outcome = StepOutcome()
        for entry in plan.sequences where !entry.isPadding {
            guard var s = sequences[entry.id], s.state == .running else { continue }
            let rejected = byID[entry.id]?.rejectedPositions ?? 0
            s.computed = entry.startPosition + entry.tokens.count + (byID[entry.id]?.draftPositions ?? 0) - rejected
            guard entry.needsLogits else {
                sequences[entry.id] = s
                kv.commit(entry.id, tokens: s.tokens, computed: s.computed)
                continue
            }
            guard let r = byID[entry.id], !r.tokens.isEmpty else {
                preconditionFailure("update: no sampled token for sequence \(entry.id), which needed logits")
            }
            let first = s.generated == 0
            var appended: [Int32] = []
            var reason: FinishReason?
            for t in r.tokens where reason == nil {
                s.tokens.append(t)
                appended.append(t)
                if s.generated >= s.outputTokens { reason = .length }
                else if s.generated > s.minTokens, t == config.eosToken || s.stopTokens.contains(t) { reason = .eos }
            }
            if reason == nil && config.stopAfterPrefill { reason = .handoff }
            sequences[entry.id] = s
            if rejected > 0 { kv.shrink(entry.id, toSlots: s.computed) }
            kv.commit(entry.id, tokens: s.tokens, computed: s.computed)
            outcome.emitted.append(StepOutcome.Emitted(id: entry.id, tokens: appended, first: first))
            if let reason { outcome.finished.append(finish(entry.id, reason: reason)) }
        }
        return outcome
    }

    func finish(_ id: SequenceID, reason: FinishReason) -> FinishedSequence {
        let s = sequences[id]!
        let blocks = reason == .handoff ? Array(kv.blockTable(id).prefix(kv.blocksFor(tokens: s.computed))) : []
        running.removeAll { $0 == id }
        staticBatch.remove(id)
        if config.policy == .static && reason != .handoff && !staticBatch.isEmpty {
            sequences[id]!.state = .padding
            padding.append(id)
        } else {
            kv.release(id)
            sequences[id] = nil
            endStaticBatchIfDone()
        }
        return FinishedSequence(id: id, reason: reason, promptTokens: s.promptCount,
                                output: Array(s.tokens[s.promptCount...]), blocks: blocks, slots: s.computed)
    }
}
