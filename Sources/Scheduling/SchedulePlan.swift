import KVCache

/// A request as the scheduler sees it: token ids in, a number of tokens out.
public struct ServingRequest: Sendable, Equatable {
    public var id: SequenceID
    public var prompt: [Int32]
    /// Tokens to generate (the sequence finishes after this many, or at EOS if configured).
    public var outputTokens: Int
    /// The output limit the client asked for (≥ `outputTokens`): what the contiguous layout
    /// reserves up front, since a server cannot know when generation will stop.
    public var maxOutputTokens: Int
    /// Per-request stop tokens (an online client's EOS unless it asked `ignore_eos`): sampling one
    /// of them as generated token `minTokens + 1` or later finishes the sequence with `.eos`. Empty offline.
    public var stopTokens: [Int32]
    /// Generated tokens before a stop token (or the configured EOS) may end the sequence.
    public var minTokens: Int

    public init(id: SequenceID, prompt: [Int32], outputTokens: Int, maxOutputTokens: Int? = nil,
                stopTokens: [Int32] = [], minTokens: Int = 0) {
        self.id = id
        self.prompt = prompt
        self.outputTokens = outputTokens
        self.maxOutputTokens = max(outputTokens, maxOutputTokens ?? outputTokens)
        self.stopTokens = stopTokens
        self.minTokens = minTokens
    }
}

/// One sequence's share of a step: the tokens to feed, where they go, whether to sample after.
public struct ScheduledSequence: Sendable, Equatable {
    public var id: SequenceID
    /// Input tokens for this step (a prompt chunk, or the last sampled token for a decode).
    public var tokens: [Int32]
    /// Position of `tokens[0]`; also the number of tokens already in the KV cache (the context).
    public var startPosition: Int
    /// Block table covering at least `startPosition + tokens.count` positions.
    public var blockTable: [Int32]
    /// Whether logits of the last position are needed (the chunk reaches the end of the known
    /// tokens, so a new token is sampled).
    public var needsLogits: Bool
    /// `true` for a one-token decode, `false` for a prompt (or recompute) chunk.
    public var isDecode: Bool
    /// `static` padding, computed and discarded (nothing is sampled or committed for it):
    /// - decode padding: a finished member of the batch in flight, computed like a decode (its
    ///   last token re-fed at its last position, rewriting the same KV) because a padded batch
    ///   computes every slot until its slowest request ends (`isDecode`, `needsLogits`);
    /// - prompt padding: S − s_i filler tokens at positions s_i..<S of a member whose prompt is
    ///   shorter than the batch's longest S, in the same step as its prompt (`!isDecode`, no
    ///   logits); those slots are overwritten by the member's own decodes.
    public var isPadding: Bool

    public init(id: SequenceID, tokens: [Int32], startPosition: Int, blockTable: [Int32], needsLogits: Bool,
                isDecode: Bool, isPadding: Bool = false) {
        self.isPadding = isPadding
        self.id = id
        self.tokens = tokens
        self.startPosition = startPosition
        self.blockTable = blockTable
        self.needsLogits = needsLogits
        self.isDecode = isDecode
    }
}

/// A sequence admitted into the running batch this step.
public struct AdmittedSequence: Sendable, Equatable {
    public var id: SequenceID
    /// Prompt tokens served from the prefix cache.
    public var cachedTokens: Int
    /// Admitted again after a recompute preemption.
    public var resumed: Bool
}

/// A sequence evicted this step.
public struct Preemption: Sendable, Equatable {
    public var id: SequenceID
    public var mode: PreemptionMode
    /// `.swap`: the blocks to copy out to the second tier, in table order, before anything else
    /// in this plan runs (they are already free in the pool). Empty for `.recompute`.
    public var blocks: [Int32]
}

/// A swapped (or handed-off) sequence brought back this step.
public struct SwapIn: Sendable, Equatable {
    public var id: SequenceID
    /// Destination blocks, in table order: copy the saved blocks into them before the forward pass.
    public var blocks: [Int32]
    /// The data comes from a disaggregated hand-off rather than this pool's own swap space.
    public var handoff: Bool
}

/// A request that can never run, with the reason.
public struct AbortedSequence: Sendable, Equatable {
    public var id: SequenceID
    public var reason: String
}

/// Everything the engine must do for one step, in this order: copy `preempted` swap-outs to the
/// second tier, perform `prefixTransfers` in order (prefix-block offloads, reloads, drops), copy
/// `swappedIn` blocks back, perform `copies` (copy-on-write), run one forward pass over
/// `sequences`, sample where `needsLogits`, then call `Scheduler.update`.
public struct SchedulePlan: Sendable, Equatable {
    public var step: Int64
    public var sequences: [ScheduledSequence] = []
    public var admitted: [AdmittedSequence] = []
    public var preempted: [Preemption] = []
    public var swappedIn: [SwapIn] = []
    public var copies: [BlockCopy] = []
    public var prefixTransfers: [PrefixTransfer] = []
    public var aborted: [AbortedSequence] = []

    public init(step: Int64) { self.step = step }

    /// Nothing to run (the engine is idle or everything waits on arrivals).
    public var isEmpty: Bool { sequences.isEmpty }
    /// Tokens fed to the forward pass.
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.tokens.count } }
    /// Decode padding rows (`static`): computed, output discarded.
    public var paddingCount: Int { sequences.reduce(0) { $0 + ($1.isPadding && $1.isDecode ? 1 : 0) } }
    /// Prompt padding tokens (`static`): computed, discarded.
    public var promptPaddingTokens: Int { sequences.reduce(0) { $0 + ($1.isPadding && !$1.isDecode ? $1.tokens.count : 0) } }
    /// Positions that need logits.
    public var logitRows: Int { sequences.reduce(0) { $0 + ($1.needsLogits ? 1 : 0) } }
    public var hasPrefill: Bool { sequences.contains { !$0.isDecode } }
    public var hasDecode: Bool { sequences.contains { $0.isDecode } }
}

/// What the model produced for one scheduled sequence.
public struct SequenceResult: Sendable, Equatable {
    public var id: SequenceID
    /// Tokens to append (one sampled token; several for an accepted speculative run).
    public var tokens: [Int32]
    /// Trailing fed positions whose KV is invalid and must be rolled back (rejected draft tokens).
    public var rejectedPositions: Int
    /// Draft tokens the engine fed after the scheduled tokens (speculative verification; they
    /// sit in the lookahead slots). Counted as fed before `rejectedPositions` is subtracted.
    public var draftPositions: Int

    public init(id: SequenceID, tokens: [Int32], rejectedPositions: Int = 0, draftPositions: Int = 0) {
        self.id = id
        self.tokens = tokens
        self.rejectedPositions = rejectedPositions
        self.draftPositions = draftPositions
    }
}

/// Why a sequence finished.
public enum FinishReason: String, Sendable, Equatable {
    /// Generated its output length.
    case length
    /// Sampled the end-of-sequence token.
    case eos
    /// Disaggregated prefill worker: prompt done, first token sampled, KV handed to the decode worker.
    case handoff
    /// Ended early by its client's stop condition (an online request's stop string), through
    /// ``Scheduler/finishEarly(_:)``.
    case stop
}

/// A sequence that left the scheduler this step.
public struct FinishedSequence: Sendable, Equatable {
    public var id: SequenceID
    public var reason: FinishReason
    public var promptTokens: Int
    /// Generated tokens, in order.
    public var output: [Int32]
    /// `.handoff`: the blocks holding its KV (already released in this pool: copy them out before
    /// the next plan runs) and the slots they hold.
    public var blocks: [Int32]
    public var slots: Int
}

/// What one `update` changed.
public struct StepOutcome: Sendable, Equatable {
    public struct Emitted: Sendable, Equatable {
        public var id: SequenceID
        public var tokens: [Int32]
        /// These include the sequence's first output token.
        public var first: Bool
    }
    public var emitted: [Emitted] = []
    public var finished: [FinishedSequence] = []
    public init() {}
}
