import TraceFormat

/// Per-sequence adaptive draft length.
///
/// Rule: keep an exponentially decayed estimate of the per-token acceptance probability α from
/// the Bernoulli trials each round reveals (each accepted draft token is a success; the first
/// rejected one, if any, a failure; positions after it are unobserved), with a Beta(1,1) prior:
/// `α̂ = (s + 1) / (t + 2)`, where s and t decay by `decay` per round. Then draft the γ in
/// 1…`maximum` that maximizes the predicted speedup τ(α̂, γ) / (γ·c + 1) for the current cost
/// ratio c (draft time per token / verify time). γ never drops below 1, so α keeps being measured.
/// O(maximum) per round.
public struct AdaptiveDraftLength: Sendable, Equatable {
    public var maximum: Int
    public var decay: Double
    public private(set) var successes = 0.0
    public private(set) var trials = 0.0

    public init(maximum: Int, decay: Double = 0.8) {
        precondition(maximum >= 1 && decay > 0 && decay <= 1, "AdaptiveDraftLength: maximum ≥ 1 and decay in (0, 1]")
        self.maximum = maximum
        self.decay = decay
    }

    /// The current acceptance estimate α̂.
    public var alpha: Double { (successes + 1) / (trials + 2) }

    /// Folds in one round: `accepted` of `drafted` tokens.
    public mutating func record(drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        successes = successes * decay + Double(accepted)
        trials = trials * decay + Double(accepted) + (accepted < drafted ? 1 : 0)
    }

    /// The γ to draft next, for cost ratio `costRatio`.
    public func next(costRatio: Double) -> Int {
        var best = 1, bestSpeedup = -1.0
        for gamma in 1...maximum {
            let s = Speculation.speedup(alpha: alpha, gamma: gamma, costRatio: costRatio)
            if s > bestSpeedup + 1e-12 {
                best = gamma
                bestSpeedup = s
            }
        }
        return best
    }
}
