/// R11 — kernel / overhead work (methodology §1.7, §7.4).
/// Trigger: a phase is overhead-bound (max(MFU, MBU) < 0.3).
/// Gain: the phase speeds up to the [DB] prior of 60% of the roof, i.e. ×0.6/max(MFU, MBU)
/// (the methodology's bound min(1/MFU, 1/MBU) is shown as the ceiling); literature-level
/// confidence 0.4.
public struct R11KernelOverhead: Rule {
    public let id = "R11"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "kernel-overhead", title: "Cut kernel and host overhead (graphs, fused kernels, larger chunks)",
                               literature: ["Databricks: ~55-60% decode MBU reachable at batch 1"])
        guard f.decodeBound != nil || f.prefillBound != nil else {
            r.missing.append("forward spans with cost and a hardware spec (MFU/MBU)")
            r.decide(); return r
        }
        let decodeOver = f.decodeBound == .overheadBound, prefillOver = f.prefillBound == .overheadBound
        r.conditions.append(Evidence("a phase overhead-bound (1 = yes)", (decodeOver || prefillOver) ? 1 : 0, "≥", 1))
        let target = f.thresholds.nearRoofMBU
        if decodeOver, let mfu = f.decodeMFU, let mbu = f.decodeMBU {
            let u = max(mfu, mbu, 1e-9)
            let g = max(1, target / u)
            let gain = Gain(g, "0.6/max(MFU, MBU) (ceiling 1/max(MFU, MBU) = \(fmt(1 / u)))", ["MFU": mfu, "MBU": mbu])
            r.gains[.tpot] = gain
            r.gains[.itl] = gain
            if let s = f.decodeShare { r.gains[.throughput] = Gain(amdahl(share: s, factor: g), "Amdahl(decode share, phase gain)", ["decode_share": s, "phase_gain": g]) }
            r.evidence.append("decode: MFU \(fmt(mfu)), MBU \(fmt(mbu))")
        }
        if prefillOver, let mfu = f.prefillMFU, let mbu = f.prefillMBU {
            let u = max(mfu, mbu, 1e-9)
            let g = max(1, target / u)
            r.gains[.ttft] = Gain(g, "0.6/max(MFU, MBU) on the prefill part (ceiling \(fmt(1 / u)))", ["MFU": mfu, "MBU": mbu])
            if let s = f.prefillShare {
                let old = r.gains[.throughput]?.factor ?? 1
                let t = amdahl(share: s, factor: g)
                if t > old { r.gains[.throughput] = Gain(t, "Amdahl(prefill share, phase gain)", ["prefill_share": s, "phase_gain": g]) }
            }
            r.evidence.append("prefill: MFU \(fmt(mfu)), MBU \(fmt(mbu))")
        }
        r.gains[.cost] = r.gains[.throughput]
        r.confidence = 0.4
        r.caveats = ["the time not explained by the roofline may be launch/CPU/synchronisation or communication; profile the spans"]
        r.decide()
        return r
    }
}
