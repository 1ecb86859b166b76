import LlamaModel

/// One sequence's request for draft tokens, filled in by ``Drafter/propose(_:sampling:)``.
public struct DraftRequest: Sendable {
    /// The sequence (the engine's request id).
    public var sequence: UInt64
    /// Every token of the sequence so far (prompt and output); the draft continues it.
    public var context: [Int32]
    /// Tokens wanted (γ for this sequence this round). A drafter may return fewer.
    public var count: Int
    /// The sequence's own generator, advanced by the draws a sampling draft makes.
    public var rng: Xoshiro256
    /// Out: the proposed tokens.
    public var tokens: [Int32] = []
    /// Out: `tokens.count × V` probabilities each token was drawn from (sampling with a model
    /// draft); empty when the proposal is deterministic (q = one-hot of each token).
    public var distributions: [Float] = []

    public init(sequence: UInt64, context: [Int32], count: Int, rng: Xoshiro256) {
        self.sequence = sequence
        self.context = context
        self.count = count
        self.rng = rng
    }
}

/// A source of draft tokens for speculative decoding.
///
/// A drafter with a model keeps its own KV cache per sequence and keeps it in sync itself: on
/// each call it compares the context it is given with the tokens it has cached and rolls back
/// to their common prefix (the positions the target rejected), so callers never tell it what
/// was accepted. Not thread-safe: one call at a time.
public protocol Drafter: AnyObject {
    /// Display name, e.g. "early-exit:3".
    var name: String { get }
    /// Whether drafting runs a model forward pass (its time is the draft cost c).
    var runsModel: Bool { get }
    /// Proposes up to `count` tokens for every request, batched across requests.
    func propose(_ requests: inout [DraftRequest], sampling: SamplingParameters)
    /// Forgets a finished (or preempted) sequence and frees its draft state.
    func release(_ sequence: UInt64)
}
