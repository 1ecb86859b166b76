import TraceFormat

/// Everything the one streaming pass over a trace measures (methodology §2, §3.2, §4.2, §5, §6.4).
/// Durations are seconds, rates per second, shares in 0…1. Optional fields are nil when the
/// trace lacks the events they need; ``TraceMetrics/missing`` says which.
public struct TraceMetrics: Sendable, Equatable {
    public var requests: RequestCounts
    /// First arrival to last completion (the vLLM benchmark's `dur_s`), seconds.
    public var duration: Double
    /// TTFT = first token − arrival (includes queueing). Completed requests, request-weighted.
    public var ttft: Distribution?
    /// TPOT = (E2E − TTFT)/(output − 1), completed requests with > 1 output token (vLLM TPOT,
    /// AIPerf "ITL").
    public var tpot: Distribution?
    /// Pooled gaps between consecutive token chunks of each request (vLLM ITL, AIPerf ICL).
    public var itl: Distribution?
    /// E2E = last token (or finish) − arrival.
    public var e2e: Distribution?
    /// Queueing delay = first scheduled − arrival.
    public var queue: Distribution?
    /// Prompt tokens and uncached prompt tokens (prompt − cached) per completed request.
    public var promptTokens: Distribution?
    public var uncachedPromptTokens: Distribution?
    public var throughput: Throughput
    public var goodput: Goodput?
    public var phases: PhaseTimes
    public var batch: BatchStats
    public var kv: [KVPoolStats]
    /// The pool requests are admitted to: "kv" (colocated) or "kv.decode" (disaggregated), else
    /// the first one. The verdict, the features and R13 all read this one.
    public var mainKVPool: KVPoolStats? { kv.first { $0.pool == "kv" || $0.pool == "kv.decode" } ?? kv.first }
    public var preemptions: PreemptionStats
    public var prefix: PrefixStats
    public var speculation: SpeculationStats?
    public var interference: InterferenceStats
    public var staticBatching: StaticBatchingStats
    /// The fitted step-time model (methodology §6.2), if the trace allows a fit.
    public var stepModel: StepTimeModel?
    /// FLOPs, bytes and time per forward phase (filled from the trace or recomputed).
    public var work: [PhaseWork]
    /// What the trace lacks, in words, for the report's "cannot conclude" section.
    public var missing: [String]
    /// Request-level totals (for the estimate on traces without step spans).
    public var timeline: RequestTimeline? = nil
}

public struct RequestCounts: Sendable, Equatable {
    public var arrived: Int
    public var completed: Int
    public var aborted: Int
    public var inputTokens: Int
    public var outputTokens: Int
    /// Aborted requests by reason (the abort event's `reason`, "unspecified" without one).
    public var abortReasons: [String: Int] = [:]
}

/// Throughputs over ``TraceMetrics/duration``.
public struct Throughput: Sendable, Equatable {
    public var inputTokensPerSecond: Double
    public var outputTokensPerSecond: Double
    public var totalTokensPerSecond: Double
    public var requestsPerSecond: Double
}

/// vLLM-style goodput: completed requests meeting every configured SLO, per second of this run.
public struct Goodput: Sendable, Equatable {
    public var goodRequests: Int
    public var requestsPerSecond: Double
    /// good / completed (SLO attainment, a count fraction).
    public var attainment: Double
    /// Completed requests violating each SLO, keyed "ttft", "tpot", "e2e".
    public var violations: [String: Int]
}

/// Engine time per phase. Shares are of the sum of all span time plus gaps on each lane.
public struct PhaseTimes: Sendable, Equatable {
    /// Seconds per phase as recorded (mixed not split).
    public var seconds: [Phase: Double]
    /// Gaps between consecutive spans of a lane (seconds), counted as idle with explicit idle spans.
    public var gapSeconds: Double
    /// Mixed-step time attributed to prefill (regression split, §7.2 F1), seconds.
    public var mixedPrefillSeconds: Double
    /// How the mixed split was made: "regression", "flops" or "none".
    public var mixedSplitMethod: String
    /// Total = all spans + gaps, seconds.
    public var totalSeconds: Double {
        seconds.values.reduce(0, +) + gapSeconds
    }
    /// Idle time: explicit idle spans plus gaps, seconds.
    public var idleSeconds: Double { (seconds[.idle] ?? 0) + gapSeconds }
    /// Non-idle span time, seconds.
    public var busySeconds: Double { totalSeconds - idleSeconds }
    /// Prefill time including the prefill part of mixed steps, seconds.
    public var prefillSeconds: Double { (seconds[.prefill] ?? 0) + mixedPrefillSeconds }
    /// Decode time including the decode part of mixed steps, and draft+verify, seconds.
    public var decodeSeconds: Double {
        (seconds[.decode] ?? 0) + (seconds[.mixed] ?? 0) - mixedPrefillSeconds
            + (seconds[.draft] ?? 0) + (seconds[.verify] ?? 0)
    }
    /// Share of the whole timeline for `phase` (0 when the timeline is empty).
    public func share(_ phase: Phase) -> Double {
        let total = totalSeconds
        return total > 0 ? (seconds[phase] ?? 0) / total : 0
    }
    public var idleShare: Double { totalSeconds > 0 ? idleSeconds / totalSeconds : 0 }
    /// Prefill share of busy time (§7.3 workload rule).
    public var prefillShareOfBusy: Double { busySeconds > 0 ? prefillSeconds / busySeconds : 0 }
    public var decodeShareOfBusy: Double { busySeconds > 0 ? decodeSeconds / busySeconds : 0 }
}

/// Decode batch sizes: sequences generating tokens per decode-carrying forward step.
public struct BatchStats: Sendable, Equatable {
    /// Batch size → number of steps.
    public var histogram: [Int: Int]
    /// Step-weighted distribution.
    public var sizes: Distribution?
    /// Time-weighted mean over decode-carrying steps.
    public var timeWeightedMean: Double?
    /// Mean attended context of a decoding sequence (entry-weighted), tokens.
    public var meanContext: Double?
}

/// One KV pool's occupancy and fragmentation (methodology §4.2). Time-weighted means weight each
/// sample by the time until the pool's next sample; p95 and peak are over samples.
public struct KVPoolStats: Sendable, Equatable {
    public var pool: String
    public var samples: Int
    public var blocksTotal: Int
    public var blockSize: Int
    /// blocksUsed/blocksTotal (vLLM `kv_cache_usage_perc`).
    public var meanUsage: Double
    public var p95Usage: Double
    public var peakUsage: Double
    /// Share of sampled time with usage ≥ the high-usage threshold.
    public var timeAtHighUsage: Double
    public var highUsageThreshold: Double
    /// Token-state utilisation U_tok = tokensStored/(blockSize·blocksUsed), time-weighted.
    public var tokenUtilisation: Double?
    /// Internal fragmentation IF (last-block slack)/(blockSize·blocksUsed), time-weighted.
    public var lastBlockSlack: Double?
    /// Reservation waste RW = reserved/(blockSize·blocksUsed), time-weighted.
    public var reservationWaste: Double?
    /// Share of samples with waiting requests, and with none.
    public var waitingShare: Double
    public var peakSwappedBlocks: Int
    /// Running/waiting counters over the samples (admission-cap evidence for R13); nil when the
    /// source never reported running sequences.
    public var admission: AdmissionStats? = nil
}

/// What a pool's running/waiting counters say about admission (R13): the highest running count,
/// how often running sat at it, and KV usage while requests waited. Sample-weighted. O(samples).
public struct AdmissionStats: Sendable, Equatable {
    /// Scrape samples the figures cover.
    public var samples: Int
    /// Highest running count seen (the effective admission ceiling when it is held).
    public var ceiling: Int
    /// Share of samples with running within 1 of the ceiling.
    public var shareAtCeiling: Double
    /// Share of samples with waiting > 0.
    public var waitingShare: Double
    /// Mean and peak waiting count over samples with waiting > 0.
    public var meanWaiting: Double
    public var peakWaiting: Int
    /// Mean and peak KV usage over samples with waiting > 0 (0…1).
    public var meanUsageWhileWaiting: Double
    public var peakUsageWhileWaiting: Double
    /// Running count over samples with waiting > 0 (mean).
    public var meanRunningWhileWaiting: Double
    /// Mean of running + waiting over all samples: the concurrency the load offers (Little's L).
    public var meanInSystem: Double = 0
    /// Share of samples in which requests wait although running is below the sequence cap and
    /// the pool is at least half full (the complement of R13's low-usage test): admission held back
    /// by KV memory, not by the cap. nil when the cap is unknown.
    public var kvBlockedShare: Double? = nil

    /// nil when no sample reports a running sequence. `usages` (one per sample) and `cap` (the
    /// scheduler's max_num_seqs, when known) give ``kvBlockedShare``.
    init?(running: [Int], waiting: [Int], usageWhileWaiting: [Double], usages: [Double] = [], cap: Int? = nil) {
        guard let top = running.max(), top > 0, running.count == waiting.count else { return nil }
        samples = running.count
        ceiling = top
        shareAtCeiling = Double(running.filter { $0 >= top - 1 }.count) / Double(running.count)
        let waitingIdx = waiting.indices.filter { waiting[$0] > 0 }
        waitingShare = Double(waitingIdx.count) / Double(waiting.count)
        meanWaiting = waitingIdx.isEmpty ? 0 : Double(waitingIdx.map { waiting[$0] }.reduce(0, +)) / Double(waitingIdx.count)
        peakWaiting = waiting.max() ?? 0
        meanUsageWhileWaiting = usageWhileWaiting.isEmpty ? 0 : usageWhileWaiting.reduce(0, +) / Double(usageWhileWaiting.count)
        peakUsageWhileWaiting = usageWhileWaiting.max() ?? 0
        meanRunningWhileWaiting = waitingIdx.isEmpty ? 0 : Double(waitingIdx.map { running[$0] }.reduce(0, +)) / Double(waitingIdx.count)
        meanInSystem = Double(zip(running, waiting).reduce(0) { $0 + $1.0 + $1.1 }) / Double(running.count)
        if let cap, usages.count == running.count {
            let blocked = waitingIdx.filter { running[$0] < cap && usages[$0] >= 0.5 }.count
            kvBlockedShare = Double(blocked) / Double(running.count)
        }
    }
}

public struct PreemptionStats: Sendable, Equatable {
    /// Preemptions by reason ("recompute", "swap", "unspecified").
    public var byReason: [String: Int]
    public var total: Int { byReason.values.reduce(0, +) }
    public var perSecond: Double
    /// Transfers by kind: count, bytes, seconds.
    public var transfers: [String: TransferTotals]
}

public struct TransferTotals: Sendable, Equatable {
    public var count: Int
    public var bytes: Int64
    public var seconds: Double
}

/// Prefix-cache reuse (methodology §4.5).
public struct PrefixStats: Sendable, Equatable {
    /// Prompt tokens of scheduled requests.
    public var promptTokens: Int
    /// Prompt tokens served from cache, when the trace reports them.
    public var cachedTokens: Int?
    /// Measured hit rate h = cached/prompt tokens (nil when the trace does not say).
    public var measuredHitRate: Double?
    /// Potential hit rate h_pot with an unbounded cache, and how it was obtained.
    public var potentialHitRate: Double?
    public var potentialSource: String?
}

/// Speculative decoding (methodology §3.2).
public struct SpeculationStats: Sendable, Equatable {
    /// Number of drafts (sequence-steps that speculated).
    public var drafts: Int
    public var draftedTokens: Int
    public var acceptedTokens: Int
    /// γ: the most common draft length.
    public var gamma: Int
    /// vLLM "draft acceptance rate" = accepted/drafted.
    public var acceptanceRate: Double
    /// vLLM "mean acceptance length" = 1 + accepted/drafts (= Leviathan τ).
    public var meanAcceptedLength: Double
    /// α solving τ(α, γ) = mean accepted length (bisection).
    public var alpha: Double
    /// Per-position acceptance r_k = accepted at position k / drafts (k = 1…γ), when per-request
    /// detail exists.
    public var perPosition: [Double]
    /// α_k = r_k / r_{k−1}, r_0 = 1.
    public var alphaPerPosition: [Double]
    /// Draft time per drafted position / verify time per iteration (Leviathan c), when both
    /// draft and verify spans exist.
    public var costRatio: Double?
}

/// Prefill–decode interference (methodology §6.4).
public struct InterferenceStats: Sendable, Equatable {
    /// Token gaps with no prefill-carrying step inside them.
    public var cleanGaps: Distribution?
    /// Token gaps containing a prefill-carrying step.
    public var contaminatedGaps: Distribution?
    /// R_int = median(contaminated)/median(clean).
    public var ratio: Double?
    /// Share of all gap time in contaminated gaps above the clean median.
    public var stallShare: Double?
    /// Contaminated gaps longer than 3× the clean median.
    public var stalls: Int
    /// Share of ITL-SLO violations that are contaminated gaps (nil without an ITL SLO).
    public var contaminatedShareOfViolations: Double?
    /// Durations of pure decode steps and of mixed steps (seconds).
    public var decodeStepTimes: Distribution?
    public var mixedStepTimes: Distribution?
}

/// Request-level (static) batching waste (methodology §5).
public struct StaticBatchingStats: Sendable, Equatable {
    /// New requests that joined while others were mid-decode (0 under static batching).
    public var joinsWhileDecoding: Int
    /// Batch formations (steps admitting new requests with nothing decoding).
    public var formations: Int
    /// True if the header says scheduler=static or no request ever joined a running batch.
    public var detected: Bool
    /// Decode slot utilisation U_slot = Σ active / Σ formed-batch size over decode steps.
    public var slotUtilisation: Double?
    /// Prefill padding waste W_pad = 1 − Σ s_i/(B·S) over formations.
    public var paddingWaste: Double?
}

/// Fitted `t_iter = a + b_p·n_prefill + b_d·n_decode + b_c·Σctx` (seconds) over prefill, decode
/// and mixed steps; coefficients the fit could not identify are 0 and listed in `terms`.
public struct StepTimeModel: Sendable, Equatable {
    public var intercept: Double
    public var perPrefillToken: Double
    public var perDecodeToken: Double
    public var perContextToken: Double
    /// The regressors that were identifiable, e.g. ["1", "n_prefill"].
    public var terms: [String]
    public var samples: Int
}

/// Accumulated work of one forward phase.
public struct PhaseWork: Sendable, Equatable {
    public var phase: Phase
    public var steps: Int
    public var seconds: Double
    public var flops: Double
    public var bytes: Double
    /// Steps whose FLOPs/bytes came from the trace (the rest were recomputed with the cost model,
    /// or are unknown for draft steps).
    public var stepsWithTraceCost: Int
    /// Steps whose cost is unknown (draft spans without recorded cost).
    public var stepsWithoutCost: Int
    /// Σ over steps of decoding sequences, and of their contexts (for B and c means).
    public var sequences: Int
    public var contextTokens: Double
    public var prefillTokens: Int
    public var decodeTokens: Int
}
