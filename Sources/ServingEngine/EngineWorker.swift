import KVCache
import Kernels
import LlamaModel
import Scheduling
import TraceFormat
import Tracing

/// KV bytes of a disaggregated hand-off on their way from the prefill worker to the decode worker.
struct HandoffPacket: @unchecked Sendable {
    var request: ServingRequest
    var firstToken: Int32
    var bytes: [UInt8]
    /// Time the prefill worker spent copying the blocks out.
    var copyOut: TraceDuration
    var sampler: Sampler?
}

/// One KV pool with its scheduler and its own transformer buffers and threads: the colocated
/// engine has one, disaggregated mode a prefill worker and a decode worker. `step()` runs one
/// iteration — schedule, move KV (swap, copy-on-write), forward, sample, update — and traces it.
final class EngineWorker {
    let pool: String
    let lane: Int32
    let transformer: Transformer
    let storage: KVCacheStorage
    let kv: any KVBlockManager
    let scheduler: Scheduler
    let swap: SwapSpace
    let tracer: Tracer
    let stats: RunStatistics
    let descriptor: ModelDescriptor
    let sampling: SamplingParameters
    let seed: UInt64
    var samplers: [UInt64: Sampler] = [:]
    var requests: [UInt64: ServingRequest] = [:]
    var batch = ForwardBatch()
    var stepIndex: Int64 = 0
    /// Speculative decoding (Speculative/SpeculationHook.swift); nil = off.
    var speculation: SpeculationHook?

    struct Report {
        var ran = false
        var finished: [FinishedSequence] = []
        var handoffs: [HandoffPacket] = []
        var aborted: [UInt64] = []
        /// Why each of `aborted` was aborted (same order).
        var abortReasons: [String] = []
        /// Tokens sampled this step, per sequence (online requests stream them).
        var emitted: [StepOutcome.Emitted] = []
        /// Sequences that started (or resumed) running this step, with the instant.
        var admitted: [(id: UInt64, time: TraceTime)] = []
    }
    /// Per-request sampling of online requests (absent: the run's `sampling` and seed).
    var requestSampling: [UInt64: (parameters: SamplingParameters, seed: UInt64)] = [:]

    init(pool: String, lane: Int32, weights: ModelWeights, options: EngineOptions, blocks: Int, threads: Int,
         schedulerConfig: SchedulerConfig, tracer: Tracer, stats: RunStatistics, descriptor: ModelDescriptor) throws(EngineError) {
        self.pool = pool
        self.lane = lane
        let c = weights.config
        do {
            storage = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: options.blockSize,
                                         blockCount: blocks, dtype: options.dtype)
        } catch {
            throw EngineError("cannot create the KV cache: \(error)")
        }
        kv = makeBlockManager(layout: options.layout, blockSize: options.blockSize, totalBlocks: blocks,
                              prefixCaching: options.prefixCaching, prefixOffloadBlocks: options.prefixOffloadBlocks)
        scheduler = Scheduler(config: schedulerConfig, kv: kv)
        let maxTokens = max(schedulerConfig.policy == .chunked ? schedulerConfig.tokenBudget : schedulerConfig.maxBatchedTokens,
                            schedulerConfig.maxNumSeqs * (1 + schedulerConfig.lookaheadSlots))
        transformer = Transformer(weights: weights, maxBatchTokens: maxTokens,
                                  maxLogitRows: schedulerConfig.maxNumSeqs * (1 + schedulerConfig.lookaheadSlots),
                                  pool: ThreadPool(threadCount: threads))
        swap = try SwapSpace(tier: options.swapTier)
        self.tracer = tracer
        self.stats = stats
        self.descriptor = descriptor
        self.sampling = SamplingParameters(temperature: options.temperature)
        self.seed = options.seed
    }

    /// Queues an arrived request (`at` is its arrival instant).
    func admit(_ r: ServingRequest, at t: TraceTime) {
        requests[r.id] = r
        speculation?.track(r)
        stats.arrived(r.id, prompt: r.prompt.count, at: t)
        tracer.record(.request(RequestEvent(request: r.id, kind: .arrival, time: t, promptTokens: Int32(r.prompt.count))))
        scheduler.add(r)
    }

    /// Queues a request prefilled by the other worker; its KV is copied in when it is admitted.
    func admitHandoff(_ p: HandoffPacket) {
        requests[p.request.id] = p.request
        if let s = p.sampler { samplers[p.request.id] = s }
        swap.store(p.request.id, p.bytes)
        handoffCopyOut[p.request.id] = p.copyOut
        scheduler.addPrefilled(p.request, firstToken: p.firstToken)
    }
    var handoffCopyOut: [UInt64: TraceDuration] = [:]
    /// The offload tier of evicted prefix-cache blocks: bytes by prefix key (host memory).
    var prefixTier: [UInt64: [UInt8]] = [:]

    /// One iteration. Returns whether a forward pass ran and what finished.
    func step() -> Report {
        var report = Report()
        let t0 = tracer.now()
        let plan = scheduler.schedule()
        let t1 = tracer.now()
        let step = stepIndex
        let hasWork = !plan.isEmpty || !plan.aborted.isEmpty || !plan.preempted.isEmpty || !plan.swappedIn.isEmpty
        if hasWork {
            stepIndex += 1
            stats.phase(.schedule, t1 - t0)
            tracer.record(.step(StepEvent(step: step, phase: .schedule, start: t0, duration: t1 - t0, lane: lane)))
        }
        for a in plan.aborted {
            stats.aborted(a.id, reason: a.reason, at: t1)
            tracer.record(.request(RequestEvent(request: a.id, kind: .aborted, time: t1, tokens: 0, reason: a.reason)))
            requests[a.id] = nil
            samplers[a.id] = nil
            requestSampling[a.id] = nil
            swap.discard(a.id)
            speculation?.forget(a.id)
            report.aborted.append(a.id)
            report.abortReasons.append(a.reason)
        }
        moveKV(plan, step: step)
        for a in plan.admitted {
            let now = tracer.now()
            if a.cachedTokens > 0 { stats.cached(a.id, a.cachedTokens) }
            tracer.record(.request(RequestEvent(request: a.id, kind: a.resumed ? .resumed : .scheduled, time: now,
                                                cachedTokens: Int32(a.cachedTokens))))
            report.admitted.append((a.id, now))
        }
        guard !plan.isEmpty else {
            _ = scheduler.update([])
            if hasWork { sampleCounters() }
            return report
        }
        report.ran = true

        // Forward pass (speculating decode sequences feed their draft and want γ+1 logit rows).
        let drafts = speculation?.draft(plan.sequences.filter { !$0.isPadding }, step: step) ?? [:]
        if let d = speculation?.draftDuration, d > 0 { stats.phase(.draft, d) }
        batch.removeAll()
        // Trace-only work (the batch entries, the step's cost) is done only when tracing is on.
        var entries: [BatchEntry] = []
        if tracer.isEnabled { entries.reserveCapacity(plan.sequences.count) }
        var prefill = 0, decode = 0
        for s in plan.sequences {
            let draft = drafts.isEmpty ? [] : drafts[s.id]?.tokens ?? []
            if draft.isEmpty {
                batch.append(tokens: s.tokens, startPosition: s.startPosition, blockTable: s.blockTable,
                             logits: s.needsLogits ? .last : .none)
            } else {
                batch.append(tokens: s.tokens + draft, startPosition: s.startPosition, blockTable: s.blockTable, logits: .all)
            }
            let p = s.isDecode ? 0 : s.tokens.count, d = s.isDecode ? 1 + draft.count : 0
            if !s.isPadding { prefill += p; decode += d }
            if tracer.isEnabled {
                entries.append(BatchEntry(request: s.id, prefillTokens: Int32(p), decodeTokens: Int32(d),
                                          contextLength: Int32(s.startPosition)))
            }
        }
        let phase: Phase = !drafts.isEmpty ? .verify : prefill > 0 && decode > 0 ? .mixed : (prefill > 0 ? .prefill : .decode)
        let t2 = tracer.now()
        let logits = transformer.forward(batch, kv: storage)
        let t3 = tracer.now()
        stats.phase(phase, t3 - t2)
        stats.forward(phase, prefill: prefill, decode: decode, padding: plan.paddingCount, promptPadding: plan.promptPaddingTokens)
        if tracer.isEnabled {
            let cost = descriptor.forwardCost(batch: entries, logitRows: plan.logitRows)
            tracer.record(.step(StepEvent(step: step, phase: phase, start: t2, duration: t3 - t2, lane: lane, batch: entries,
                                          flops: cost.flops, bytes: cost.bytes)))
        }

        // Sampling.
        var results: [SequenceResult] = []
        results.reserveCapacity(plan.logitRows)
        for (i, s) in plan.sequences.enumerated() where s.needsLogits {
            if drafts[s.id] != nil {
                results.append(speculation!.verify(s.id, logits: logits, rows: logits.rows(ofSequence: i), sampling: sampling))
                continue
            }
            let row = logits.row(logits.rows(ofSequence: i).lowerBound)
            if s.isPadding {
                _ = Sampler.argmax(row)  // a padded slot is sampled like the others; its token is discarded
                continue
            }
            let token: Int
            let own = requestSampling[s.id]
            let parameters = own?.parameters ?? sampling
            if parameters.temperature == 0 {
                token = Sampler.argmax(row)
            } else {
                var sampler = samplers[s.id] ?? Sampler(parameters: parameters, vocabularySize: row.count,
                                                        rng: Xoshiro256(seed: own?.seed ?? SplitMix64.mix(seed, s.id)))
                token = sampler.sample(row)
                samplers[s.id] = sampler
            }
            results.append(SequenceResult(id: s.id, tokens: [Int32(token)]))
        }
        let t4 = tracer.now()
        stats.phase(.sample, t4 - t3)
        tracer.record(.step(StepEvent(step: step, phase: .sample, start: t3, duration: t4 - t3, lane: lane)))

        // Update and lifecycle.
        let outcome = scheduler.update(results)
        speculation?.finishStep(outcome, step: step, time: t4, targetDuration: t4 - t2)
        report.emitted = outcome.emitted
        for e in outcome.emitted {
            stats.tokens(e.id, e.tokens, at: t4)
            tracer.record(.request(RequestEvent(request: e.id, kind: e.first ? .firstToken : .token, time: t4,
                                                tokens: Int32(e.tokens.count))))
        }
        for f in outcome.finished {
            if f.reason == .handoff {
                let tStart = tracer.now()
                var bytes = [UInt8](repeating: 0, count: f.blocks.count * storage.bytesPerBlock)
                readBlocks(f.blocks, into: &bytes)
                let copyOut = tracer.now() - tStart
                report.handoffs.append(HandoffPacket(request: requests[f.id]!, firstToken: f.output[0], bytes: bytes,
                                                     copyOut: copyOut, sampler: samplers[f.id]))
            } else {
                stats.finished(f.id, at: t4)
                tracer.record(.request(RequestEvent(request: f.id, kind: .finished, time: t4,
                                                    promptTokens: Int32(f.promptTokens), tokens: Int32(f.output.count))))
            }
            requests[f.id] = nil
            samplers[f.id] = nil
            if f.reason != .handoff { requestSampling[f.id] = nil }
            report.finished.append(f)
        }
        sampleCounters()
        return report
    }

    /// Online: ends a live request at its client's request, between steps. `stop` (a stop
    /// condition met) finishes it now, traced as `finished`; otherwise it is aborted in the next
    /// step with `reason` (its KV blocks are freed now). False if this worker does not hold it.
    func end(_ id: UInt64, stop: Bool, reason: String) -> FinishedSequence? {
        guard stop else {
            _ = scheduler.cancel(id, reason: reason)
            return nil
        }
        guard let f = scheduler.finishEarly(id) else { return nil }
        let now = tracer.now()
        stats.finished(f.id, at: now)
        tracer.record(.request(RequestEvent(request: f.id, kind: .finished, time: now,
                                            promptTokens: Int32(f.promptTokens), tokens: Int32(f.output.count))))
        requests[id] = nil
        samplers[id] = nil
        requestSampling[id] = nil
        swap.discard(id)
        speculation?.forget(id)
        return f
    }

    /// Swap-outs, prefix-block offloads/reloads, swap-ins (and hand-offs in), then copy-on-write
    /// copies, in that order: every read of a block happens before any write to it in this step.
    func moveKV(_ plan: SchedulePlan, step: Int64) {
        let blockBytes = storage.bytesPerBlock
        for p in plan.preempted {
            stats.preempted(p.id, mode: p.mode.rawValue)
            let now = tracer.now()
            tracer.record(.request(RequestEvent(request: p.id, kind: .preempted, time: now, reason: p.mode.rawValue)))
            guard p.mode == .swap else { continue }
            var bytes = [UInt8](repeating: 0, count: p.blocks.count * blockBytes)
            readBlocks(p.blocks, into: &bytes)
            swap.store(p.id, bytes)
            let end = tracer.now()
            stats.transfer(.swapOut, bytes: Int64(bytes.count), time: end - now)
            stats.phase(.kvTransfer, end - now)
            tracer.record(.transfer(TransferEvent(kind: .swapOut, start: now, duration: end - now, bytes: Int64(bytes.count),
                                                  blocks: Int32(p.blocks.count), request: p.id, destination: swap.tier.description)))
        }
        for t in plan.prefixTransfers { movePrefix(t) }
        for s in plan.swappedIn {
            let now = tracer.now()
            let bytes = swap.load(s.id)
            precondition(bytes.count == s.blocks.count * blockBytes, "swap-in of \(s.id): \(bytes.count) bytes for \(s.blocks.count) blocks")
            bytes.withUnsafeBytes { raw in
                for (i, block) in s.blocks.enumerated() {
                    storage.writeBlock(Int(block), from: UnsafeRawBufferPointer(rebasing: raw[(i * blockBytes)..<((i + 1) * blockBytes)]))
                }
            }
            let end = tracer.now()
            let kind: TransferEvent.Kind = s.handoff ? .handoff : .swapIn
            let copy = (end - now) + (s.handoff ? handoffCopyOut.removeValue(forKey: s.id) ?? 0 : 0)
            stats.transfer(kind, bytes: Int64(bytes.count), time: copy)
            stats.phase(.kvTransfer, end - now)
            tracer.record(.transfer(TransferEvent(kind: kind, start: now, duration: copy, bytes: Int64(bytes.count),
                                                  blocks: Int32(s.blocks.count), request: s.id,
                                                  destination: s.handoff ? pool : "device")))
            if !s.handoff {
                tracer.record(.request(RequestEvent(request: s.id, kind: .resumed, time: end, reason: "swap")))
            }
        }
        for c in plan.copies { storage.copyBlock(from: Int(c.source), to: Int(c.destination)) }
    }

    /// One prefix-cache tier operation, traced as an `offload` or `reload` transfer.
    func movePrefix(_ t: PrefixTransfer) {
        let now = tracer.now()
        let kind: TransferEvent.Kind
        switch t {
        case .drop(let key):
            prefixTier[key] = nil
            return
        case .offload(let key, let block):
            var bytes = [UInt8](repeating: 0, count: storage.bytesPerBlock)
            readBlocks([block], into: &bytes)
            prefixTier[key] = bytes
            kind = .offload
        case .reload(let key, let block):
            guard let bytes = prefixTier[key] else { preconditionFailure("prefix key \(key) is not in the offload tier") }
            bytes.withUnsafeBytes { storage.writeBlock(Int(block), from: $0) }
            kind = .reload
        }
        let end = tracer.now()
        stats.transfer(kind, bytes: Int64(storage.bytesPerBlock), time: end - now)
        stats.phase(.kvTransfer, end - now)
        tracer.record(.transfer(TransferEvent(kind: kind, start: now, duration: end - now, bytes: Int64(storage.bytesPerBlock),
                                              blocks: 1, destination: kind == .offload ? "host" : pool)))
    }

    func readBlocks(_ blocks: [Int32], into bytes: inout [UInt8]) {
        let blockBytes = storage.bytesPerBlock
        bytes.withUnsafeMutableBytes { raw in
            for (i, block) in blocks.enumerated() {
                storage.readBlock(Int(block), into: UnsafeMutableRawBufferPointer(rebasing: raw[(i * blockBytes)..<((i + 1) * blockBytes)]))
            }
        }
    }

    /// Samples the pool's counters into the statistics and the trace, and ends the traced step.
    func sampleCounters() {
        let o = kv.occupancy()
        let bytesUsed = Int64(o.blocksUsed) * Int64(storage.bytesPerBlock)
        stats.kv(pool: pool, used: o.blocksUsed, total: o.blocksTotal, bytes: bytesUsed, running: scheduler.runningCount)
        if tracer.isEnabled {
            tracer.record(.kvCache(KVCacheCounters(
                time: tracer.now(), pool: pool, blocksTotal: Int32(o.blocksTotal), blocksUsed: Int32(o.blocksUsed),
                blockSize: Int32(o.blockSize), tokensStored: Int64(o.tokensStored), bytesUsed: bytesUsed,
                swappedBlocks: Int32(scheduler.swappedBlocks), slackTokens: Int64(o.slackTokens),
                reservedTokens: Int64(o.reservedTokens), sharedBlocks: Int32(o.sharedBlocks),
                running: Int32(scheduler.runningCount), waiting: Int32(scheduler.waitingCount))))
        }
        tracer.stepCompleted()
    }
}
