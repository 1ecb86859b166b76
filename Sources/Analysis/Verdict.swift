import Foundation
import TraceFormat

/// One comparison that decided (part of) a verdict: `value relation threshold` and whether it held.
public struct Evidence: Sendable, Equatable {
    public var name: String
    public var value: Double
    /// "≥", ">", "<", "≤".
    public var relation: String
    public var threshold: Double
    public var holds: Bool
    /// What `value` and `threshold` measure; decides how the text report prints them.
    public var unit: Quantity

    public init(_ name: String, _ value: Double, _ relation: String, _ threshold: Double, unit: Quantity = .number) {
        self.name = name
        self.unit = unit
        self.value = value
        self.relation = relation
        self.threshold = threshold
        switch relation {
        case "≥": holds = value >= threshold
        case ">": holds = value > threshold
        case "<": holds = value < threshold
        default: holds = value <= threshold
        }
    }
}

/// The kind of number an `Evidence` compares, so reports print it with its unit.
public enum Quantity: String, Sendable, Equatable {
    /// A dimensionless number (ratio, factor, batch size).
    case number
    /// A fraction in [0, 1]; printed as a percentage.
    case share
    /// A yes/no condition stored as 1/0.
    case flag
    /// A whole count.
    case count
    /// A duration in seconds.
    case seconds
    /// A number of tokens.
    case tokens
    /// Arithmetic intensity.
    case flopPerByte

    /// `x` printed in this unit under the report's number rule (`NumberFormat.significant`):
    /// shares as percentages, flags as yes/no, seconds as s/ms/µs, and the unit always named.
    public func format(_ x: Double) -> String {
        switch self {
        case .number: return NumberFormat.significant(x)
        case .share: return NumberFormat.percent(x)
        case .flag: return x >= 1 ? "yes" : "no"
        case .count: return NumberFormat.significant(x)
        case .seconds: return NumberFormat.duration(x)
        case .tokens: return NumberFormat.significant(x) + " tokens"
        case .flopPerByte: return NumberFormat.significant(x) + " FLOP/byte"
        }
    }
}

public enum WorkloadBound: String, Sendable, Equatable {
    case prefillBound = "prefill-bound"
    case decodeBound = "decode-bound"
    case loadOrOverheadBound = "load-or-overhead-bound"
    case unknown
}

public enum PhaseBound: String, Sendable, Equatable {
    case computeBound = "compute-bound"
    case memoryBound = "memory-bound"
    case overheadBound = "overhead-bound"
    case unknown
}

public struct PhaseVerdict: Sendable, Equatable {
    public var phase: Phase
    public var bound: PhaseBound
    public var evidence: [Evidence]
    /// A caveat, e.g. MFU/MBU disagree with the ridge side.
    public var note: String?
}

/// The level-1/level-2 classification of methodology §7.3 / §8, with the numbers that decided it.
public struct Verdict: Sendable, Equatable {
    public var workload: WorkloadBound
    public var workloadEvidence: [Evidence]
    public var phases: [PhaseVerdict]
    /// nil when the trace has no KV counters and no preemption events.
    public var capacityBound: Bool?
    public var capacityEvidence: [Evidence]
    /// SLOs whose p99 exceeds the target: "ttft", "tpot", "itl", "e2e".
    public var missedSLOs: [String]
    /// DistServe's cross-check: which side the failing SLOs point to.
    public var sloCrossCheck: String?
    /// What the verdict was derived from (nil: nothing to derive from).
    public var level: DerivationLevel? = nil
    /// Where a request's time goes (model- and hardware-free), nil without TTFT and E2E/TPOT.
    public var requestTime: RequestTimeSplit? = nil
    /// Set when a server scrape shows an admission cap (R13's conditions): running held at a
    /// ceiling while requests wait at low KV usage. Such a run is never capacity-bound.
    public var admissionCap: [Evidence]? = nil
    /// A GPU kernel profile's time split (Kineto files), nil for anything else.
    public var kernelTime: KernelTimeSplit? = nil
    /// When the workload is unknown and request time cannot be split: what the file lacks, in one line.
    public var workloadMissing: String? = nil

    public init(metrics m: TraceMetrics, roofline: RooflineAnalysis?, slo: ServiceLevelObjectives, thresholds t: Thresholds) {
        let p = m.phases
        if p.totalSeconds <= 0 {
            workload = .unknown
            workloadEvidence = []
        } else {
            let idle = Evidence("idle share of engine time", p.idleShare, "≥", t.idleShare, unit: .share)
            let pre = Evidence("prefill share of busy time", p.prefillShareOfBusy, "≥", t.prefillShare, unit: .share)
            workloadEvidence = [idle, pre]
            workload = idle.holds ? .loadOrOverheadBound : (pre.holds ? .prefillBound : .decodeBound)
        }

        var verdicts: [PhaseVerdict] = []
        if let r = roofline {
            for ph in r.phases where ph.phase != .draft && ph.stepsWithoutCost < ph.steps {
                verdicts.append(Verdict.classify(ph, ridge: r.ridge, thresholds: t))
            }
        }
        phases = verdicts

        var cap: [Evidence] = []
        if let pool = m.kv.max(by: { $0.timeAtHighUsage < $1.timeAtHighUsage }) {
            cap.append(Evidence("time share at KV usage ≥ \(fmt(t.highKVUsage)) (pool \(pool.pool))",
                                pool.timeAtHighUsage, "≥", t.capacityTimeShare, unit: .share))
        }
        // Requests waiting while slots are free: the pool, not the cap, holds admission back
        // (a contiguous pool is "full" well below 90% when each request reserves a whole context).
        // Static batching waits by design and is R1's finding, not a capacity limit.
        if let blocked = m.mainKVPool?.admission?.kvBlockedShare, !m.staticBatching.detected {
            cap.append(Evidence("share of samples with requests waiting for KV blocks (running below max_num_seqs, pool ≥ 50% used)",
                                blocked, "≥", t.capacityTimeShare, unit: .share))
        }
        if m.requests.completed > 0 && (!m.kv.isEmpty || m.preemptions.total > 0) {
            cap.append(Evidence("preemptions per completed request",
                                Double(m.preemptions.total) / Double(m.requests.completed), "≥", t.preemptionsPerRequest))
        }
        capacityEvidence = cap
        capacityBound = cap.isEmpty ? nil : cap.contains { $0.holds }

        var missed: [String] = []
        if let s = slo.ttft, let d = m.ttft, d.p99 > s { missed.append("ttft") }
        if let s = slo.tpot, let d = m.tpot, d.p99 > s { missed.append("tpot") }
        if let s = slo.itl, let d = m.itl, d.p99 > s { missed.append("itl") }
        if let s = slo.e2e, let d = m.e2e, d.p99 > s { missed.append("e2e") }
        missedSLOs = missed
        let prefillSide = missed.contains("ttft"), decodeSide = missed.contains("tpot") || missed.contains("itl")
        switch (prefillSide, decodeSide) {
        case (true, true): sloCrossCheck = "TTFT and TPOT/ITL targets both missed: both phases limit the SLO"
        case (true, false): sloCrossCheck = "only the TTFT target is missed: the prefill side limits the SLO"
        case (false, true): sloCrossCheck = "only TPOT/ITL targets are missed: the decode side limits the SLO"
        default: sloCrossCheck = slo.isEmpty ? nil : "all configured SLO targets met at p99"
        }
    }

    /// §7.3 phase rule: overhead-bound if max(MFU, MBU) < threshold; else compute-bound if AI ≥ I*,
    /// memory-bound if AI < I*. A disagreement between the ridge side and MFU-vs-MBU is noted.
    static func classify(_ ph: PhaseRoofline, ridge: Double, thresholds t: Thresholds) -> PhaseVerdict {
        let util = Evidence("max(MFU, MBU)", max(ph.mfu, ph.mbu), "<", t.overheadUtilisation, unit: .share)
        let ai = Evidence("arithmetic intensity (FLOP/byte) vs ridge I*", ph.intensity, "≥", ridge, unit: .flopPerByte)
        let balance = Evidence("MFU vs MBU", ph.mfu, "≥", ph.mbu, unit: .share)
        let bound: PhaseBound = util.holds ? .overheadBound : (ai.holds ? .computeBound : .memoryBound)
        var note: String?
        if !util.holds && ai.holds != balance.holds {
            note = "the ridge side (\(ai.holds ? "compute" : "memory")) and MFU-vs-MBU (\(balance.holds ? "compute" : "memory")) disagree; the ridge decides"
        }
        if max(ph.mfu, ph.mbu) > 1.05 {
            note = "utilisation above 100% (MFU \(fmt(ph.mfu)), MBU \(fmt(ph.mbu))): the hardware spec does not describe the machine that recorded the trace"
        }
        return PhaseVerdict(phase: ph.phase, bound: bound, evidence: [util, ai, balance], note: note)
    }

    public func phase(_ p: Phase) -> PhaseVerdict? { phases.first { $0.phase == p } }

    /// The decode verdict: decode, else verify, else mixed.
    public var decodePhase: PhaseVerdict? { phase(.decode) ?? phase(.verify) ?? phase(.mixed) }
    public var prefillPhase: PhaseVerdict? { phase(.prefill) ?? phase(.mixed) }
}

/// Numbers in messages and evidence strings: the report's rule, `NumberFormat.significant`
/// (3 significant digits). Deterministic.
func fmt(_ x: Double) -> String { NumberFormat.significant(x) }
