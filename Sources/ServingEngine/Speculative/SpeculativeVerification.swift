import LlamaModel

/// What verifying one sequence's draft produced.
public struct VerificationOutcome: Sendable, Equatable {
    /// Leading draft tokens the target accepted, 0…γ.
    public var accepted: Int
    /// Tokens to append to the sequence: the accepted draft tokens, then one token from the
    /// target (the correction at the first rejected position, or the bonus token after γ
    /// accepted ones). Always `accepted + 1` tokens.
    public var tokens: [Int32]

    public init(accepted: Int, tokens: [Int32]) {
        self.accepted = accepted
        self.tokens = tokens
    }
}

/// Lossless verification of a draft against the target, as pure functions of the draft tokens,
/// the target's γ+1 scored positions and (for sampling) the draft's distributions.
///
/// Row i of the target is its next-token distribution after the context plus draft tokens
/// 0..<i; row γ follows the whole draft.
public enum SpeculativeVerification {
    /// Greedy: accept while the target's argmax equals the draft token; then emit the target's
    /// argmax at the first mismatch (or after the last draft token). The output is the target's
    /// own greedy continuation, token for token. O(γ).
    /// - Parameter targetChoices: the target's argmax at each of the γ+1 positions.
    public static func greedy(draft: [Int32], targetChoices: [Int32]) -> VerificationOutcome {
        precondition(targetChoices.count == draft.count + 1,
                     "greedy verification: \(targetChoices.count) target positions for \(draft.count) draft tokens; expected γ+1")
        var accepted = 0
        while accepted < draft.count && draft[accepted] == targetChoices[accepted] { accepted += 1 }
        return VerificationOutcome(accepted: accepted, tokens: Array(draft[0..<accepted]) + [targetChoices[accepted]])
    }

    /// Speculative sampling (Leviathan et al. 2023, Algorithm 1; Chen et al. 2023): draft token
    /// x_i is accepted with probability min(1, p_i(x) / q_i(x)); at the first rejection the
    /// output token is drawn from normalize(max(0, p_i − q_i)); if all γ are accepted a bonus
    /// token is drawn from p_γ. The emitted tokens are distributed exactly as sampling from the
    /// target alone. Random draws, in order: one coin per examined position, then one draw for
    /// the final token. O(γ·V).
    ///
    /// - Parameters:
    ///   - target: (γ+1) × V probabilities, row-major (``SamplingDistribution`` of the target's
    ///     logits with the request's sampling parameters).
    ///   - draftDistributions: γ × V probabilities the draft tokens were drawn from, under the
    ///     same parameters; nil for a deterministic proposal (n-gram, greedy draft), i.e. q_i is
    ///     the one-hot of x_i.
    ///   - scratch: V floats of working space.
    public static func sample<G: RandomNumberGenerator>(
        draft: [Int32], target: UnsafeBufferPointer<Float>, draftDistributions: UnsafeBufferPointer<Float>?,
        vocabSize v: Int, scratch: UnsafeMutableBufferPointer<Float>, using rng: inout G
    ) -> VerificationOutcome {
        let gamma = draft.count
        precondition(target.count == (gamma + 1) * v, "sampling verification: \(target.count) target probabilities; expected (γ+1)·V = \((gamma + 1) * v)")
        precondition(draftDistributions == nil || draftDistributions!.count == gamma * v,
                     "sampling verification: \(draftDistributions!.count) draft probabilities; expected γ·V = \(gamma * v)")
        precondition(scratch.count >= v, "sampling verification: scratch of \(scratch.count) < V = \(v)")
        for i in 0..<gamma {
            let x = Int(draft[i])
            let p = target[i * v + x]
            let q = draftDistributions.map { $0[i * v + x] } ?? 1
            let coin = Float(rng.next() >> 40) * (1.0 / 16_777_216.0)
            if coin * q < p { continue }
            // Rejected: residual max(0, p − q) over the vocabulary.
            var total: Float = 0
            for t in 0..<v {
                let qt = draftDistributions.map { $0[i * v + t] } ?? (t == x ? 1 : 0)
                let r = max(0, target[i * v + t] - qt)
                scratch[t] = r
                total += r
            }
            let token: Int
            if total > 0 {
                token = SamplingDistribution.draw(UnsafeBufferPointer(rebasing: scratch[0..<v]), total: total, using: &rng)
            } else {
                // Only reachable through rounding (rejection implies q(x) > p(x), hence mass elsewhere).
                token = SamplingDistribution.draw(UnsafeBufferPointer(rebasing: target[(i * v)..<((i + 1) * v)]), using: &rng)
            }
            return VerificationOutcome(accepted: i, tokens: Array(draft[0..<i]) + [Int32(token)])
        }
        let bonus = SamplingDistribution.draw(UnsafeBufferPointer(rebasing: target[(gamma * v)..<((gamma + 1) * v)]), using: &rng)
        return VerificationOutcome(accepted: gamma, tokens: draft + [Int32(bonus)])
    }
}
