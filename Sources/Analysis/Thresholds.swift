/// Every threshold and assumption the verdict and the rules compare against (methodology §7.3,
/// §7.4; all marked [heuristic] there). Defaults are the methodology's; the CLI exposes them.
public struct Thresholds: Sendable, Equatable {
    /// Workload is prefill-bound when prefill's share of busy time is ≥ this (0.5).
    public var prefillShare = 0.5
    /// Workload is load/overhead-bound when idle share of the timeline is ≥ this (0.3).
    public var idleShare = 0.3
    /// A phase is overhead-bound when max(MFU, MBU) < this (0.3).
    public var overheadUtilisation = 0.3
    /// KV usage counted as high (0.9).
    public var highKVUsage = 0.9
    /// Capacity-bound when time at high KV usage is ≥ this share (0.2)…
    public var capacityTimeShare = 0.2
    /// …or preemptions per completed request are ≥ this (0.01, "sustained preemption").
    public var preemptionsPerRequest = 0.01
    /// R1: slot utilisation below which static batching wastes (0.8); formation delay share (0.2).
    public var slotUtilisation = 0.8
    public var formationDelayShare = 0.2
    /// R2: token-state utilisation below which paging pays (0.8).
    public var tokenUtilisation = 0.8
    /// R3: KV byte share F5 at or above which KV quantization pays (0.3).
    public var kvByteShare = 0.3
    /// R4: minimum predicted speedup (1.2).
    public var minSpeculationSpeedup = 1.2
    /// R5: contaminated share of ITL violations (0.5), R_int (2).
    public var contaminatedViolationShare = 0.5
    public var interferenceRatio = 2.0
    /// R5: contaminated gaps must be at least this share of all gaps (0.01) — a handful of
    /// stalls is not a pattern [our heuristic].
    public var minContaminatedShare = 0.01
    /// R6: GPU prefill saturation length, tokens (1000, Dynamo on B200 for 70B), KV transfer ≤ 0.1·TTFT SLO.
    public var prefillSaturationTokens = 1000.0
    public var transferShareOfTTFT = 0.1
    /// R7/R8: reuse gap (0.2) and prefill share (0.2); R8 recompute/reload ratio (2).
    public var prefixReuseGap = 0.2
    public var prefixPrefillShare = 0.2
    public var offloadRatio = 2.0
    /// R9: weight share of step bytes (0.7) and MBU (0.6).
    public var weightByteShare = 0.7
    public var nearRoofMBU = 0.6
    /// R10: B_mean/B_crit below which more concurrency pays (0.5).
    public var decodeHeadroom = 0.5
    /// Request time is first-token-dominated (queueing + prefill) when TTFT's share of E2E is ≥
    /// this (0.5), decode-dominated otherwise [our heuristic].
    public var ttftShare = 0.5
    /// TTFT at or above this multiple of the prompt's roofline prefill time is called queueing,
    /// not slow prefill (10) [our heuristic: no engine runs a lone prefill at < 10% of its roof].
    public var queueingFloorRatio = 10.0
    /// R12: a TPOT is healthy when it is at most this multiple of the decode step's roofline time
    /// at the estimated batch (3) [our heuristic].
    public var healthyTPOTRatio = 3.0
    /// R13: requests wait in at least this share of scrape samples (0.2), with KV usage while they
    /// wait below `admissionLowKVUsage` (0.5), and running at its ceiling in ≥ `admissionCeilingShare` (0.5).
    public var admissionWaitingShare = 0.2
    public var admissionLowKVUsage = 0.5
    public var admissionCeilingShare = 0.5

    public init() {}
}

/// Assumed inputs used when the trace cannot measure them; every use lowers confidence to 0.6.
public struct Assumptions: Sendable, Equatable {
    /// Draft acceptance α for a draft model (methodology: 0.6–0.8) and draft length γ.
    public var alpha = 0.7
    public var gamma = 3
    /// Draft/target step-time ratio c.
    public var draftCostRatio = 0.05
    /// Prefill MFU used for b_p when the step-time fit is unavailable (0.5).
    public var prefillMFU = 0.5
    /// Host↔device link for offload/hand-off, bytes/s (PCIe Gen5 effective ≈ 55 GB/s).
    public var linkBandwidth = 55e9
    /// KV dtype byte ratio r for R3 (2 = FP8/INT8 from BF16).
    public var kvCompression = 2.0
    /// Weight byte ratio for R9 (0.5 = 8-bit from 16-bit).
    public var weightCompression = 0.5

    public init() {}
}
