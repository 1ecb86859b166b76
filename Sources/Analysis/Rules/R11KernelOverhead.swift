import TraceFormat

/// R11 — kernel / overhead work (methodology §1.7, §7.4).
/// Trigger: a forward phase is overhead-bound (max(MFU, MBU) < 0.3).
/// Gain: each such phase speeds up to the [DB] prior of 60% of the roof, ×0.6/max(MFU, MBU) (the
/// methodology's ceiling min(1/MFU, 1/MBU) is shown); whole-run gains by Amdahl over the phases'
/// busy-time shares. Literature-level confidence 0.4.
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
        r.conditions.append(Evidence("forward phases overhead-bound", Double(f.overheadPhases.count), "≥", 1, unit: .count))
        let target = f.thresholds.nearRoofMBU
        var inputs: [String: Double] = [:]
        var saved = 0.0          // share of busy time removed
        var phaseGain: [Phase: Double] = [:]
        for p in f.overheadPhases {
            let u = max(p.mfu, p.mbu, 1e-9)
            let g = max(1, target / u)
            saved += p.share * (1 - 1 / g)
            inputs["\(p.phase.rawValue)_MFU"] = p.mfu
            inputs["\(p.phase.rawValue)_MBU"] = p.mbu
            inputs["\(p.phase.rawValue)_share"] = p.share
            r.evidence.append("\(p.phase.rawValue): MFU \(fmt(p.mfu)), MBU \(fmt(p.mbu)), \(fmt(p.share * 100))% of busy time; phase gain ×\(fmt(g)) (ceiling ×\(fmt(1 / u)))")
            phaseGain[p.phase] = g
        }
        // The decode (prefill) objective follows the pure phase when it is overhead-bound, else mixed.
        let decodeGain = phaseGain[.decode] ?? phaseGain[.verify] ?? phaseGain[.mixed] ?? 1
        let prefillGain = phaseGain[.prefill] ?? phaseGain[.mixed] ?? 1
        if decodeGain > 1 {
            let g = Gain(decodeGain, "0.6/max(MFU, MBU) of the decode-carrying phase", inputs)
            r.gains[.tpot] = g
            r.gains[.itl] = g
        }
        if prefillGain > 1 { r.gains[.ttft] = Gain(prefillGain, "0.6/max(MFU, MBU) of the prefill-carrying phase", inputs) }
        if saved > 0 {
            let g = Gain(1 / (1 - saved), "1/(1 − Σ share·(1 − 1/phase gain))", inputs)
            r.gains[.throughput] = g
            r.gains[.cost] = g
        }
        r.confidence = 0.4
        r.caveats = ["the time not explained by the roofline may be launch/CPU/synchronisation or communication; profile the spans"]
        r.decide()
        return r
    }
}
