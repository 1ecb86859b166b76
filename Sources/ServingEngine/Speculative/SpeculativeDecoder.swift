import Kernels
import KVCache
import LlamaModel
import TraceFormat
import Tracing

/// One sequence decoded (with or without speculation) by ``SpeculativeDecoder``.
public struct SpeculativeSequence: Sendable {
    public let id: UInt64
    /// Prompt then output tokens. Between steps the target's KV holds positions
    /// `0 ..< tokens.count − 1`; the last token is fed by the next step.
    public internal(set) var tokens: [Int32]
    public let promptLength: Int
    public let maxNewTokens: Int
    /// The sequence's own generator (draft draws, acceptance coins, resampling).
    public var rng: Xoshiro256
    /// This request's counters.
    public internal(set) var stats = SpeculationStats()
    var adaptive: AdaptiveDraftLength?

    public init(id: UInt64, prompt: [Int32], maxNewTokens: Int, seed: UInt64) {
        precondition(!prompt.isEmpty && maxNewTokens >= 1, "SpeculativeSequence: need a prompt and at least one output token")
        self.id = id
        tokens = prompt
        promptLength = prompt.count
        self.maxNewTokens = maxNewTokens
        rng = Xoshiro256(seed: SplitMix64.mix(seed, id))
    }

    public var output: ArraySlice<Int32> { tokens[promptLength...] }
    public var isFinished: Bool { tokens.count - promptLength >= maxNewTokens }
}

/// Decoding steps with speculation: per step, one batched draft round for every running
/// sequence, then ONE batched target forward that scores all γ+1 positions of every
/// speculating sequence (logits `.all`; γ = 0 is a plain decode), lossless verification
/// (``SpeculativeVerification``), and a rollback of the rejected positions in the paged KV
/// pool (whole blocks past the accepted end are freed).
///
/// Traced with the event model of TraceFormat: a `draft` and a `verify` (or `decode`) step
/// span with its batch composition and duration, one ``SpeculationCounters`` per step with
/// per-request drafted/accepted, and a `token` request event per sequence with `tokens` = the
/// tokens delivered at once. Timing uses the tracer's clock, traced or not.
public final class SpeculativeDecoder {
    public let target: Transformer
    public let kv: KVCacheStorage
    public let pool: any SpeculativeKVPool
    public let drafter: (any Drafter)?
    public let draftLength: DraftLength
    public let sampling: SamplingParameters
    public let tracer: Tracer
    /// Run-wide counters.
    public private(set) var stats = SpeculationStats()
    /// Engine step index of the next step (traced spans of one step share it).
    public var stepIndex: Int64 = 0
    /// Running cost ratio c used by the adaptive draft length (decayed mean per step).
    public private(set) var runningCostRatio = 0.0

    private var batch = ForwardBatch()
    private var targetProbabilities: [Float] = []
    private var scratch: [Float]

    /// - Precondition: `target.maxBatchTokens ≥ sequences per step · (γmax + 1)`,
    ///   `target.maxLogitRows` likewise; `kv` matches the target and `pool`'s block size.
    public init(target: Transformer, kv: KVCacheStorage, pool: any SpeculativeKVPool, drafter: (any Drafter)?,
                draftLength: DraftLength, sampling: SamplingParameters, tracer: Tracer) {
        precondition(kv.blockSize == pool.blockSize, "SpeculativeDecoder: KV storage block size \(kv.blockSize) ≠ pool block size \(pool.blockSize)")
        self.target = target
        self.kv = kv
        self.pool = pool
        self.drafter = drafter
        self.draftLength = draftLength
        self.sampling = sampling
        self.tracer = tracer
        scratch = [Float](repeating: 0, count: target.config.vocabSize)
    }

    // MARK: - Whole runs (tests, bench)

    /// Prefills every sequence, then steps until all are finished, releasing their KV.
    public func run(_ sequences: inout [SpeculativeSequence]) {
        prefill(&sequences)
        while sequences.contains(where: { !$0.isFinished }) { decodeStep(&sequences) }
    }

    /// Feeds each unfinished sequence's whole context except nothing cached yet, producing its
    /// first output token (a traced `prefill` span; several passes if the prompts exceed the
    /// token budget). Precondition: the sequences hold no KV yet.
    public func prefill(_ sequences: inout [SpeculativeSequence]) {
        var start = 0
        while start < sequences.count {
            var end = start, tokens = 0
            while end < sequences.count && (end == start || tokens + sequences[end].tokens.count <= target.maxBatchTokens)
                && end - start < target.maxLogitRows {
                tokens += sequences[end].tokens.count
                end += 1
            }
            let begin = tracer.now()
            batch.removeAll()
            for i in start..<end {
                let n = sequences[i].tokens.count
                precondition(n <= target.maxBatchTokens, "SpeculativeDecoder.prefill: prompt of \(n) tokens exceeds maxBatchTokens \(target.maxBatchTokens)")
                precondition(pool.reserve(sequences[i].id, slots: n), "SpeculativeDecoder.prefill: KV pool full")
                batch.append(tokens: sequences[i].tokens, startPosition: 0, blockTable: pool.blockTable(sequences[i].id), logits: .last)
            }
            let logits = target.forward(batch, kv: kv)
            for (s, i) in (start..<end).enumerated() {
                let row = logits.row(logits.rows(ofSequence: s).lowerBound)
                let token = nextToken(row, rng: &sequences[i].rng)
                sequences[i].tokens.append(Int32(token))
            }
            let done = tracer.now()
            if tracer.isEnabled {
                tracer.record(.step(StepEvent(step: stepIndex, phase: .prefill, start: begin, duration: done - begin,
                                              batch: (start..<end).map { BatchEntry(request: sequences[$0].id, prefillTokens: Int32(sequences[$0].promptLength),
                                                                                    decodeTokens: 0, contextLength: 0) })))
                for i in start..<end {
                    tracer.record(.request(RequestEvent(request: sequences[i].id, kind: .firstToken, time: done, tokens: 1)))
                }
                tracer.stepCompleted()
            }
            for i in start..<end where sequences[i].isFinished { finish(&sequences[i], at: done) }
            stepIndex += 1
            start = end
        }
    }

    // MARK: - One step

    /// One decoding step over every unfinished sequence of `sequences`: draft, verify in one
    /// batched target forward, accept, roll back. Finished sequences release their KV and draft
    /// state. O(draft + target forward passes).
    public func decodeStep(_ sequences: inout [SpeculativeSequence]) {
        let active = sequences.indices.filter { !sequences[$0].isFinished }
        guard !active.isEmpty else { return }
        let maxSeqLen = target.config.maxSeqLen

        // 1. γ per sequence: the policy's, capped by what is left to generate and the context window.
        var gammas = active.map { i -> Int in
            guard drafter != nil else { return 0 }
            let s = sequences[i]
            let wanted: Int
            switch draftLength {
            case .fixed(let g): wanted = g
            case .adaptive(let m):
                if sequences[i].adaptive == nil { sequences[i].adaptive = AdaptiveDraftLength(maximum: m) }
                wanted = sequences[i].adaptive!.next(costRatio: runningCostRatio)
            }
            let remaining = s.maxNewTokens - (s.tokens.count - s.promptLength)
            return max(0, min(wanted, remaining - 1, maxSeqLen - s.tokens.count))
        }

        // 2. Draft round (batched across sequences).
        var requests: [DraftRequest] = []
        var drafts = [[Int32]](repeating: [], count: active.count)
        var draftDistributions = [[Float]](repeating: [], count: active.count)
        var draftDuration: TraceDuration = 0
        if let drafter, gammas.contains(where: { $0 > 0 }) {
            let slotsOfRequest = active.indices.filter { gammas[$0] > 0 }
            requests = slotsOfRequest.map { a in
                DraftRequest(sequence: sequences[active[a]].id, context: sequences[active[a]].tokens, count: gammas[a], rng: sequences[active[a]].rng)
            }
            let begin = tracer.now()
            drafter.propose(&requests, sampling: sampling)
            let end = tracer.now()
            draftDuration = end - begin
            for (r, a) in slotsOfRequest.enumerated() {
                sequences[active[a]].rng = requests[r].rng
                drafts[a] = requests[r].tokens
                draftDistributions[a] = requests[r].distributions
                gammas[a] = requests[r].tokens.count
            }
            let steps = gammas.max() ?? 0
            stats.draftRounds += 1
            stats.draftSteps += steps
            stats.draftNanos += draftDuration
            tracer.record(.step(StepEvent(step: stepIndex, phase: .draft, start: begin, duration: draftDuration,
                                          batch: slotsOfRequest.map { a in
                                              BatchEntry(request: sequences[active[a]].id, prefillTokens: 0, decodeTokens: Int32(gammas[a]),
                                                         contextLength: Int32(sequences[active[a]].tokens.count)) })))
        }

        // 3. KV room for the γ+1 verified positions (drop the draft of a sequence that does not fit).
        for (a, i) in active.enumerated() {
            let n = sequences[i].tokens.count
            if !pool.reserve(sequences[i].id, slots: n + gammas[a]) {
                gammas[a] = 0
                drafts[a] = []
                draftDistributions[a] = []
                precondition(pool.reserve(sequences[i].id, slots: n), "SpeculativeDecoder: KV pool full for sequence \(sequences[i].id)")
            }
        }

        // 4. One batched target forward over [last token] + draft for every sequence.
        let verifyBegin = tracer.now()
        batch.removeAll()
        for (a, i) in active.enumerated() {
            let n = sequences[i].tokens.count
            batch.append(tokens: CollectionOfOne(sequences[i].tokens[n - 1]) + drafts[a], startPosition: n - 1,
                         blockTable: pool.blockTable(sequences[i].id), logits: gammas[a] > 0 ? .all : .last)
        }
        let logits = target.forward(batch, kv: kv)

        // 5. Verify, accept, roll back.
        var outcomes: [VerificationOutcome] = []
        var delivered: [Int] = []
        var contexts: [Int] = []
        for (a, i) in active.enumerated() {
            let rows = logits.rows(ofSequence: a)
            let outcome = verify(draft: drafts[a], draftDistributions: draftDistributions[a], logits: logits, rows: rows,
                                 rng: &sequences[i].rng)
            outcomes.append(outcome)
            let n = sequences[i].tokens.count
            pool.rollback(sequences[i].id, slots: n + outcome.accepted)
            let remaining = sequences[i].maxNewTokens - (n - sequences[i].promptLength)
            sequences[i].tokens.append(contentsOf: outcome.tokens.prefix(remaining))
            delivered.append(min(remaining, outcome.tokens.count))
            contexts.append(n - 1)
        }
        let verifyEnd = tracer.now()
        let verifyDuration = verifyEnd - verifyBegin
        stats.targetSteps += 1
        stats.targetNanos += verifyDuration
        let speculating = gammas.contains { $0 > 0 }
        if speculating {
            let roundCost = Double(draftDuration) / Double(max(1, gammas.max()!)) / Double(max(1, verifyDuration))
            runningCostRatio = stats.draftRounds == 1 ? roundCost : 0.8 * runningCostRatio + 0.2 * roundCost
        }

        // 6. Counters and trace.
        var perRequest: [SpeculationCounters.PerRequest] = []
        for (a, i) in active.enumerated() {
            let emitted = delivered[a]
            stats.record(drafted: gammas[a], accepted: outcomes[a].accepted)
            stats.emittedTokens += emitted
            stats.sequenceSteps += 1
            sequences[i].stats.sequenceSteps += 1
            sequences[i].stats.record(drafted: gammas[a], accepted: outcomes[a].accepted)
            sequences[i].stats.emittedTokens += emitted
            sequences[i].adaptive?.record(drafted: gammas[a], accepted: outcomes[a].accepted)
            if gammas[a] > 0 {
                perRequest.append(.init(request: sequences[i].id, drafted: Int32(gammas[a]), accepted: Int32(outcomes[a].accepted)))
            }
        }
        if tracer.isEnabled {
            tracer.record(.step(StepEvent(step: stepIndex, phase: speculating ? .verify : .decode, start: verifyBegin, duration: verifyDuration,
                                          batch: active.enumerated().map { a, i in
                                              BatchEntry(request: sequences[i].id, prefillTokens: 0, decodeTokens: Int32(gammas[a] + 1),
                                                         contextLength: Int32(contexts[a])) })))
            if speculating {
                tracer.record(.speculation(SpeculationCounters(time: verifyEnd, step: stepIndex, draftLength: Int32(gammas.max()!),
                                                               drafted: Int32(perRequest.reduce(0) { $0 + Int($1.drafted) }),
                                                               accepted: Int32(perRequest.reduce(0) { $0 + Int($1.accepted) }),
                                                               perRequest: perRequest)))
            }
            for (a, i) in active.enumerated() {
                tracer.record(.request(RequestEvent(request: sequences[i].id, kind: .token, time: verifyEnd,
                                                    tokens: Int32(delivered[a]))))
            }
        }
        for i in active where sequences[i].isFinished { finish(&sequences[i], at: verifyEnd) }
        tracer.stepCompleted()
        stepIndex += 1
    }

    // MARK: - Helpers

    private func finish(_ sequence: inout SpeculativeSequence, at time: TraceTime) {
        pool.release(sequence.id)
        drafter?.release(sequence.id)
        tracer.record(.request(RequestEvent(request: sequence.id, kind: .finished, time: time,
                                            promptTokens: Int32(sequence.promptLength),
                                            tokens: Int32(sequence.tokens.count - sequence.promptLength))))
    }

    private func nextToken(_ row: UnsafeBufferPointer<Float>, rng: inout Xoshiro256) -> Int {
        guard sampling.temperature > 0 else { return Sampler.argmax(row) }
        return scratch.withUnsafeMutableBufferPointer { probs in
            SamplingDistribution.fill(row, sampling, into: probs)
            return SamplingDistribution.draw(UnsafeBufferPointer(probs), using: &rng)
        }
    }

    private func verify(draft: [Int32], draftDistributions: [Float], logits: Logits, rows: Range<Int>,
                        rng: inout Xoshiro256) -> VerificationOutcome {
        if sampling.temperature == 0 {
            return SpeculativeVerification.greedy(draft: draft, targetChoices: rows.map { Int32(Sampler.argmax(logits.row($0))) })
        }
        let v = target.config.vocabSize
        if targetProbabilities.count < rows.count * v { targetProbabilities = [Float](repeating: 0, count: rows.count * v) }
        return targetProbabilities.withUnsafeMutableBufferPointer { p in
            for (k, r) in rows.enumerated() {
                SamplingDistribution.fill(logits.row(r), sampling, into: UnsafeMutableBufferPointer(rebasing: p[(k * v)..<((k + 1) * v)]))
            }
            return scratch.withUnsafeMutableBufferPointer { scratch in
                draftDistributions.withUnsafeBufferPointer { q in
                    SpeculativeVerification.sample(draft: draft, target: UnsafeBufferPointer(rebasing: p[0..<(rows.count * v)]),
                                                   draftDistributions: draftDistributions.isEmpty ? nil : q,
                                                   vocabSize: v, scratch: scratch, using: &rng)
                }
            }
        }
    }
}
