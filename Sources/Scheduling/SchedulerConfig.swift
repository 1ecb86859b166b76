import KVCache

/// How requests are batched into engine steps.
public enum SchedulerPolicy: String, Sendable, CaseIterable, Codable {
    /// Baseline (HF `generate` on a padded batch): form a batch from the waiting queue, pad its
    /// prompts to the longest, run every slot until its slowest request finishes, then form the
    /// next one. Nobody joins a running batch.
    case `static`
    /// Iteration-level scheduling (Orca/vLLM v0): the batch is re-formed every step, FCFS; a step
    /// either prefills newly admitted prompts whole or decodes every running sequence.
    case continuous
    /// Continuous plus chunked prefill (Sarathi-Serve/vLLM v1): every step spends a token budget on
    /// all running decodes first, then on prompt chunks, mixed in one forward pass.
    case chunked
}

/// What happens to a sequence evicted because the KV pool is full.
public enum PreemptionMode: String, Sendable, CaseIterable, Codable {
    /// Free its blocks; recompute its KV (prompt and generated tokens) when it is readmitted.
    case recompute
    /// Copy its blocks to the second tier (host memory or disk) and copy them back later.
    /// Falls back to recompute when the second tier is full.
    case swap
}

/// The scheduler's limits and switches. All counts are in tokens or sequences.
public struct SchedulerConfig: Sendable, Equatable {
    public var policy: SchedulerPolicy
    /// Maximum sequences in the running batch (vLLM `max-num-seqs`).
    public var maxNumSeqs: Int
    /// `static`/`continuous`: maximum prompt tokens prefilled in one step (`max-num-batched-tokens`);
    /// a prompt longer than this can never be scheduled and is aborted. `static` counts the
    /// padded batch: members × the longest member prompt.
    public var maxBatchedTokens: Int
    /// `chunked`: tokens per step (decodes + prompt chunks), the Sarathi token budget.
    public var tokenBudget: Int
    public var preemption: PreemptionMode
    /// Second-tier capacity for swapped-out blocks (0 = swap always falls back to recompute).
    public var swapCapacityBlocks: Int
    /// Longest sequence (prompt + output) the model accepts.
    public var maxModelLength: Int
    /// Blocks an admission must leave free, so running sequences can grow without immediate
    /// preemption (vLLM's watermark); nil = 1% of the pool.
    public var watermarkBlocks: Int?
    /// Extra slots reserved ahead of each decode (speculative draft positions, γ).
    public var lookaheadSlots: Int
    /// Disaggregated prefill worker: a sequence finishes (`.handoff`) once its first token is sampled.
    public var stopAfterPrefill: Bool
    /// Stop a sequence early when it samples this token (nil: always generate the full output length).
    public var eosToken: Int32?

    public init(policy: SchedulerPolicy = .continuous, maxNumSeqs: Int = 64, maxBatchedTokens: Int = 2048,
                tokenBudget: Int = 256, preemption: PreemptionMode = .recompute, swapCapacityBlocks: Int = 0,
                maxModelLength: Int, watermarkBlocks: Int? = nil, lookaheadSlots: Int = 0,
                stopAfterPrefill: Bool = false, eosToken: Int32? = nil) {
        self.policy = policy
        self.maxNumSeqs = maxNumSeqs
        self.maxBatchedTokens = maxBatchedTokens
        self.tokenBudget = tokenBudget
        self.preemption = preemption
        self.swapCapacityBlocks = swapCapacityBlocks
        self.maxModelLength = maxModelLength
        self.watermarkBlocks = watermarkBlocks
        self.lookaheadSlots = lookaheadSlots
        self.stopAfterPrefill = stopAfterPrefill
        self.eosToken = eosToken
    }

    /// Checks the limits; the error names the field and the accepted range.
    public func validate() throws(SchedulerConfigError) {
        if maxNumSeqs < 1 { throw SchedulerConfigError(field: "max-num-seqs", value: "\(maxNumSeqs)", expected: "at least 1") }
        if maxBatchedTokens < 1 {
            throw SchedulerConfigError(field: "max-batched-tokens", value: "\(maxBatchedTokens)", expected: "at least 1")
        }
        if tokenBudget < 1 { throw SchedulerConfigError(field: "token-budget", value: "\(tokenBudget)", expected: "at least 1") }
        if swapCapacityBlocks < 0 {
            throw SchedulerConfigError(field: "swap capacity", value: "\(swapCapacityBlocks)", expected: "0 or more blocks")
        }
        if maxModelLength < 2 {
            throw SchedulerConfigError(field: "max model length", value: "\(maxModelLength)", expected: "at least 2 tokens")
        }
        if lookaheadSlots < 0 { throw SchedulerConfigError(field: "lookahead", value: "\(lookaheadSlots)", expected: "0 or more") }
    }
}

/// An invalid scheduler setting.
public struct SchedulerConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var field: String
    public var value: String
    public var expected: String
    public init(field: String, value: String, expected: String) {
        self.field = field
        self.value = value
        self.expected = expected
    }
    public var description: String { "invalid scheduler setting \(field) = \(value): expected \(expected)" }
}
