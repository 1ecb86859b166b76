import Kernels
import KVCache
import LlamaModel
import Scheduling
import TraceFormat
import Tracing

/// Speculative decoding inside the serving engine's continuous-batching step (the
/// `EngineWorker` calls it at three points; everything else stays the engine's):
///
/// 1. ``draft(_:step:)`` before the forward pass: one batched draft round for the step's decode
///    sequences (γ ≤ the scheduler's lookahead slots, which the scheduler already reserved in
///    the KV pool); traced as a `draft` span.
/// 2. The engine feeds `[last token] + draft` for each of them with logits `.all`, in the same
///    forward pass as every other sequence (prefill chunks, plain decodes), and asks
///    ``verify(_:logits:rows:sampling:)`` for the tokens to deliver: it reports them with
///    `draftPositions` = γ and `rejectedPositions` = γ − accepted, so the scheduler rolls the
///    sequence's KV back to the accepted length (freeing blocks past it).
/// 3. ``finishStep(_:step:time:)`` after the scheduler's update: counters, the
///    ``SpeculationCounters`` event, and the per-sequence token log the drafter continues from.
final class SpeculationHook {
    let drafter: any Drafter
    let draftLength: DraftLength
    let lookahead: Int
    let maxSeqLen: Int
    let vocabSize: Int
    let tracer: Tracer
    let lane: Int32
    let seed: UInt64
    /// Run-wide counters.
    private(set) var stats = SpeculationStats()
    private var contexts: [UInt64: [Int32]] = [:]
    private var remaining: [UInt64: Int] = [:]
    private var adaptive: [UInt64: AdaptiveDraftLength] = [:]
    private var rngs: [UInt64: Xoshiro256] = [:]
    private var runningCostRatio = 0.0
    /// This step's drafts by sequence (tokens, q distributions).
    private(set) var drafts: [UInt64: (tokens: [Int32], distributions: [Float])] = [:]
    private var outcomes: [UInt64: Int] = [:]
    /// Time of this step's draft round (0 if nobody drafted).
    private(set) var draftDuration: TraceDuration = 0
    private var probabilities: [Float] = []
    private var scratch: [Float]

    init(drafter: any Drafter, draftLength: DraftLength, maxSeqLen: Int, vocabSize: Int, tracer: Tracer, lane: Int32, seed: UInt64) {
        self.drafter = drafter
        self.draftLength = draftLength
        self.lookahead = draftLength.maximum
        self.maxSeqLen = maxSeqLen
        self.vocabSize = vocabSize
        self.tracer = tracer
        self.lane = lane
        self.seed = seed
        scratch = [Float](repeating: 0, count: vocabSize)
    }

    /// Remembers a request's prompt and output budget (called when it arrives).
    func track(_ request: ServingRequest) {
        contexts[request.id] = request.prompt
        remaining[request.id] = request.outputTokens
    }

    /// Drafts for the decode sequences of `sequences`; returns the drafts by sequence id.
    func draft(_ sequences: [ScheduledSequence], step: Int64) -> [UInt64: (tokens: [Int32], distributions: [Float])] {
        drafts.removeAll(keepingCapacity: true)
        outcomes.removeAll(keepingCapacity: true)
        draftDuration = 0
        var requests: [DraftRequest] = []
        for s in sequences where s.isDecode {
            guard let context = contexts[s.id], let left = remaining[s.id] else { continue }
            let wanted: Int
            switch draftLength {
            case .fixed(let g): wanted = g
            case .adaptive(let m):
                if adaptive[s.id] == nil { adaptive[s.id] = AdaptiveDraftLength(maximum: m) }
                wanted = adaptive[s.id]!.next(costRatio: runningCostRatio)
            }
            // Within the reserved lookahead, the output budget and the context window.
            let gamma = min(wanted, lookahead, left - 1, maxSeqLen - (s.startPosition + 1))
            guard gamma > 0, context.count == s.startPosition + 1 else { continue }
            requests.append(DraftRequest(sequence: s.id, context: context, count: gamma,
                                         rng: rngs[s.id] ?? Xoshiro256(seed: SplitMix64.mix(seed, s.id, 0x5BEC))))
        }
        guard !requests.isEmpty else { return drafts }
        let begin = tracer.now()
        drafter.propose(&requests, sampling: currentSampling)
        let end = tracer.now()
        draftDuration = end - begin
        for r in requests {
            rngs[r.sequence] = r.rng
            if !r.tokens.isEmpty { drafts[r.sequence] = (r.tokens, r.distributions) }
        }
        stats.draftRounds += 1
        stats.draftSteps += requests.map(\.tokens.count).max() ?? 0
        stats.draftNanos += draftDuration
        tracer.record(.step(StepEvent(step: step, phase: .draft, start: begin, duration: draftDuration, lane: lane,
                                      batch: requests.map { BatchEntry(request: $0.sequence, prefillTokens: 0, decodeTokens: Int32($0.tokens.count),
                                                                      contextLength: Int32($0.context.count)) })))
        return drafts
    }

    /// Sampling parameters of the run (set by the worker).
    var currentSampling = SamplingParameters.greedy

    /// Verifies sequence `id`'s draft against its γ+1 logit rows; returns the result for the
    /// scheduler (tokens = accepted + 1; γ draft positions fed; γ − accepted rejected).
    func verify(_ id: UInt64, logits: Logits, rows: Range<Int>, sampling: SamplingParameters) -> SequenceResult {
        let draft = drafts[id]!
        let outcome: VerificationOutcome
        if sampling.temperature == 0 {
            outcome = SpeculativeVerification.greedy(draft: draft.tokens, targetChoices: rows.map { Int32(Sampler.argmax(logits.row($0))) })
        } else {
            let v = vocabSize
            if probabilities.count < rows.count * v { probabilities = [Float](repeating: 0, count: rows.count * v) }
            var rng = rngs[id] ?? Xoshiro256(seed: SplitMix64.mix(seed, id, 0x5BEC))
            outcome = probabilities.withUnsafeMutableBufferPointer { p in
                for (k, r) in rows.enumerated() {
                    SamplingDistribution.fill(logits.row(r), sampling, into: UnsafeMutableBufferPointer(rebasing: p[(k * v)..<((k + 1) * v)]))
                }
                return scratch.withUnsafeMutableBufferPointer { scratch in
                    draft.distributions.withUnsafeBufferPointer { q in
                        SpeculativeVerification.sample(draft: draft.tokens, target: UnsafeBufferPointer(rebasing: p[0..<(rows.count * v)]),
                                                       draftDistributions: draft.distributions.isEmpty ? nil : q,
                                                       vocabSize: v, scratch: scratch, using: &rng)
                    }
                }
            }
            rngs[id] = rng
        }
        outcomes[id] = outcome.accepted
        return SequenceResult(id: id, tokens: outcome.tokens, rejectedPositions: draft.tokens.count - outcome.accepted,
                              draftPositions: draft.tokens.count)
    }

    /// After the scheduler's update: logs delivered tokens, forgets finished sequences, records
    /// the step's counters. `targetDuration` is the forward + verification time.
    func finishStep(_ outcome: StepOutcome, step: Int64, time: TraceTime, targetDuration: TraceDuration) {
        for e in outcome.emitted {
            contexts[e.id, default: []].append(contentsOf: e.tokens)
            remaining[e.id, default: 0] -= e.tokens.count
        }
        for f in outcome.finished { forget(f.id) }
        guard !drafts.isEmpty else { return }
        var perRequest: [SpeculationCounters.PerRequest] = []
        for (id, draft) in drafts.sorted(by: { $0.key < $1.key }) {
            let accepted = outcomes[id] ?? 0
            stats.record(drafted: draft.tokens.count, accepted: accepted)
            stats.sequenceSteps += 1
            stats.emittedTokens += accepted + 1
            adaptive[id]?.record(drafted: draft.tokens.count, accepted: accepted)
            perRequest.append(.init(request: id, drafted: Int32(draft.tokens.count), accepted: Int32(accepted)))
        }
        stats.targetSteps += 1
        stats.targetNanos += targetDuration
        let roundCost = Double(draftDuration) / Double(max(1, perRequest.map(\.drafted).max().map(Int.init) ?? 1)) / Double(max(1, targetDuration))
        runningCostRatio = stats.draftRounds <= 1 ? roundCost : 0.8 * runningCostRatio + 0.2 * roundCost
        tracer.record(.speculation(SpeculationCounters(time: time, step: step, draftLength: perRequest.map(\.drafted).max() ?? 0,
                                                       drafted: perRequest.reduce(0) { $0 + $1.drafted },
                                                       accepted: perRequest.reduce(0) { $0 + $1.accepted }, perRequest: perRequest)))
    }

    /// Drops a sequence's state (finished or aborted).
    func forget(_ id: UInt64) {
        contexts[id] = nil
        remaining[id] = nil
        adaptive[id] = nil
        rngs[id] = nil
        drafter.release(id)
    }
}
