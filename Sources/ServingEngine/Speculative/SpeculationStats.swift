/// Speculative-decoding counters accumulated over a run (or one request), in the units vLLM
/// uses, plus the draft and verify times that give the cost ratio c (methodology §3.2).
public struct SpeculationStats: Sendable, Equatable {
    /// Sequence-rounds that drafted at least one token (vLLM `num_drafts`).
    public var drafts = 0
    /// Draft tokens proposed (vLLM `num_draft_tokens`).
    public var draftedTokens = 0
    /// Draft tokens accepted (vLLM `num_accepted_tokens`).
    public var acceptedTokens = 0
    /// Index k: drafts whose position k was accepted (vLLM `num_accepted_tokens_per_pos[k]`).
    public var acceptedPerPosition: [Int] = []
    /// Index k: drafts that proposed a token at position k (≤ drafts when γ varies).
    public var draftedPerPosition: [Int] = []
    /// Tokens delivered by verification and plain decode steps (accepted + one per sequence-round).
    public var emittedTokens = 0
    /// Sequence-rounds of target steps, with or without a draft (each delivers ≥ 1 token).
    public var sequenceSteps = 0
    /// Target forward passes (verify or plain decode steps) and their total time, ns.
    public var targetSteps = 0
    public var targetNanos: Int64 = 0
    /// Draft rounds (one batched `propose` each), their draft steps (the largest γ drafted in
    /// the round: a model drafter runs one forward pass per step) and their total time, ns.
    public var draftRounds = 0
    public var draftSteps = 0
    public var draftNanos: Int64 = 0

    public init() {}

    /// Folds in one sequence's verification of `drafted` tokens, `accepted` of them accepted.
    public mutating func record(drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        drafts += 1
        draftedTokens += drafted
        acceptedTokens += accepted
        while draftedPerPosition.count < drafted { draftedPerPosition.append(0); acceptedPerPosition.append(0) }
        for k in 0..<drafted { draftedPerPosition[k] += 1 }
        for k in 0..<accepted { acceptedPerPosition[k] += 1 }
        if accepted < drafted { rejectedDrafts += 1 }
    }

    /// vLLM's "draft acceptance rate": accepted / drafted tokens. Not α (see docs/speculative.md).
    public var acceptanceRate: Double { draftedTokens == 0 ? 0 : Double(acceptedTokens) / Double(draftedTokens) }
    /// vLLM's "mean acceptance length": 1 + accepted / drafts (the +1 is the target's own token);
    /// the measured τ, tokens per verification.
    public var meanAcceptanceLength: Double { drafts == 0 ? 1 : 1 + Double(acceptedTokens) / Double(drafts) }
    /// Tokens per sequence per target step over all rounds, drafted or not (equals
    /// ``meanAcceptanceLength`` when every round drafted; lower when some found no draft).
    public var tokensPerSequenceStep: Double { sequenceSteps == 0 ? 1 : Double(emittedTokens) / Double(sequenceSteps) }
    /// Per-position acceptance α_k = r_k / r_{k−1}, with r_k = acceptedPerPosition[k] /
    /// draftedPerPosition[k] and r_{−1} = 1 (methodology §3.2).
    public var perPositionAlpha: [Double] {
        var out: [Double] = []
        var previous = 1.0
        for k in acceptedPerPosition.indices where draftedPerPosition[k] > 0 {
            let r = Double(acceptedPerPosition[k]) / Double(draftedPerPosition[k])
            out.append(previous > 0 ? r / previous : 0)
            previous = r
        }
        return out
    }
    /// α as the MLE of an i.i.d. acceptance: accepted / (accepted + first rejections).
    public var alpha: Double {
        let trials = acceptedTokens + rejectedDrafts
        return trials == 0 ? 0 : Double(acceptedTokens) / Double(trials)
    }
    /// Drafts that ended with a rejected token (the rest were accepted in full).
    public var rejectedDrafts = 0
    /// c: mean time of one draft step over the mean time of one target step (verify or decode).
    /// For n-gram lookup the "draft step" is host time, so c ≈ 0.
    public var costRatio: Double {
        guard draftSteps > 0, targetSteps > 0, targetNanos > 0 else { return 0 }
        return (Double(draftNanos) / Double(draftSteps)) / (Double(targetNanos) / Double(targetSteps))
    }
}
