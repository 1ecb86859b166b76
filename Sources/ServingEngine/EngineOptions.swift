import KVCache
import Scheduling

/// Where preempted sequences' blocks go when swapping.
public enum SwapTier: Sendable, Equatable, CustomStringConvertible {
    /// Host memory (a second buffer in this process).
    case host
    /// Files in a directory (one per swapped sequence, deleted when swapped back in).
    case disk(directory: String)

    public var description: String {
        switch self {
        case .host: return "host"
        case .disk: return "disk"
        }
    }
}

/// How big the KV pool is.
public enum KVCapacity: Sendable, Equatable, CustomStringConvertible {
    /// A number of blocks (whatever their byte size in the chosen dtype).
    case blocks(Int)
    /// A memory budget: as many blocks of the chosen dtype as fit (so int8 holds more tokens
    /// than f32 in the same bytes).
    case bytes(Int)

    public var description: String {
        switch self {
        case .blocks(let n): return "\(n) blocks"
        case .bytes(let n): return "\(n) bytes"
        }
    }
}

/// Every switch of a serving run. Recorded in full in the trace header so the run can be repeated.
public struct EngineOptions: Sendable, Equatable {
    public var policy: SchedulerPolicy = .continuous
    public var maxNumSeqs = 64
    /// `static`/`continuous`: prompt tokens per prefill step (`static`: of the padded batch).
    public var maxBatchedTokens = 2048
    /// `chunked`: tokens per step.
    public var tokenBudget = 256
    public var layout: KVLayout = .paged
    public var dtype: KVDType = .f32
    public var capacity: KVCapacity = .bytes(64 << 20)
    public var blockSize = 16
    public var preemption: PreemptionMode = .recompute
    public var swapTier: SwapTier = .host
    /// Second-tier capacity in blocks (default: as many as the pool).
    public var swapBlocks: Int?
    public var prefixCaching = false
    /// Blocks of host memory that keep evicted prefix-cache blocks for reloading (0 = none).
    public var prefixOffloadBlocks = 0
    public var disaggregated = false
    /// Compute threads (split between the two workers when disaggregated).
    public var threads = 2
    /// Seeds sampling (per request) and synthetic prompts.
    public var seed: UInt64 = 0
    /// 0 = greedy.
    public var temperature: Float = 0
    /// Stop at this token when sampled (nil: generate exactly the requested output lengths).
    public var eosToken: Int32?
    /// Speculative decoding (`--spec`, `--gamma`); nil = off. Colocated mode only.
    public var speculation: SpeculationConfig?

    public init() {}

    /// Checks combinations; the error names the option and what to use instead.
    public func validate() throws(EngineError) {
        if blockSize < 1 || blockSize > 1024 { throw EngineError.option("--block-size", "\(blockSize)", "1…1024 tokens") }
        if threads < 1 { throw EngineError.option("--threads", "\(threads)", "at least 1") }
        if disaggregated && threads < 2 {
            throw EngineError.option("--threads", "\(threads)", "at least 2 with --disaggregated (one per worker)")
        }
        if prefixCaching && layout == .contiguous {
            throw EngineError.option("--prefix-cache", "with --kv-layout contiguous",
                                     "the paged layout (the contiguous baseline cannot share blocks)")
        }
        if prefixOffloadBlocks < 0 || (prefixOffloadBlocks > 0 && !prefixCaching) {
            throw EngineError.option("--prefix-offload", "\(prefixOffloadBlocks)", "0 or more blocks, with --prefix-cache")
        }
        switch capacity {
        case .blocks(let n) where n < 1: throw EngineError.option("--kv-blocks", "\(n)", "at least 1")
        case .bytes(let n) where n < 1: throw EngineError.option("--kv-memory", "\(n)", "at least 1 byte")
        default: break
        }
        if temperature < 0 { throw EngineError.option("--temperature", "\(temperature)", "0 (greedy) or more") }
        if let spec = speculation, disaggregated {
            throw EngineError.option("--spec", spec.strategy.description, "colocated mode (speculation is not wired into --disaggregated)")
        }
        do {
            try SchedulerConfig(policy: policy, maxNumSeqs: maxNumSeqs, maxBatchedTokens: maxBatchedTokens,
                                tokenBudget: tokenBudget, maxModelLength: 2).validate()
        } catch {
            throw EngineError.option("--\(error.field)", error.value, error.expected)
        }
    }

    /// The trace header's `options` (docs/trace-format.md keys), complete and sorted by key.
    public func headerOptions(kvBlocks: Int) -> [String: String] {
        var o: [String: String] = [
            "scheduler": policy.rawValue, "kv_layout": layout.rawValue, "kv_dtype": dtype.rawValue,
            "block_size": "\(blockSize)", "kv_blocks": "\(kvBlocks)", "preempt": preemption.rawValue,
            "prefix_cache": prefixCaching ? "on" : "off", "disaggregated": disaggregated ? "on" : "off",
            "threads": "\(threads)", "seed": "\(seed)", "token_budget": "\(tokenBudget)",
            "max_num_seqs": "\(maxNumSeqs)", "max_batched_tokens": "\(maxBatchedTokens)",
            "swap_tier": swapTier.description, "temperature": formatNumber(Double(temperature)),
        ]
        if case .bytes(let b) = capacity { o["kv_memory"] = "\(b)" }
        if let s = swapBlocks { o["swap_blocks"] = "\(s)" }
        if let e = eosToken { o["eos_token"] = "\(e)" }
        if prefixOffloadBlocks > 0 { o["prefix_offload_blocks"] = "\(prefixOffloadBlocks)" }
        if let s = speculation { o["spec"] = s.strategy.description; o["gamma"] = s.draftLength.description }
        return o
    }
}

/// A serving run that cannot start or continue.
public struct EngineError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func option(_ name: String, _ value: String, _ expected: String) -> EngineError {
        EngineError("invalid option \(name) \(value): expected \(expected)")
    }
}
