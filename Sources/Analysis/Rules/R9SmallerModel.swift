/// R9 — smaller model or weight quantization (methodology §1.6(c), §7.4).
/// Trigger: decode memory-bound, weight share of step bytes ≥ 0.7, TPOT SLO missed, MBU ≥ 0.6.
/// Gain: TPOT × (W·q + K)/(W + K) with q the weight byte ratio (0.5 = 8-bit from 16-bit).
public struct R9SmallerModel: Rule {
    public let id = "R9"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        let q = f.assumptions.weightCompression
        var r = Recommendation(id: id, key: "smaller-or-quantized-model", title: "Quantize weights (or use a smaller model)",
                               literature: ["Databricks: decode time tracks bytes moved (MBU)"])
        guard let w = f.decodeWeightBytes, let k = f.decodeKVBytes, let mbu = f.decodeMBU else {
            r.missing.append("decode steps with batch composition and a hardware spec (weight share, MBU)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("decode memory-bound (1 = yes)", f.decodeBound == .memoryBound ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("weight share of decode bytes", w / (w + k), "≥", f.thresholds.weightByteShare, unit: .share))
        if f.slo.tpot == nil { r.missing.append("a TPOT SLO (--slo tpot=…)"); r.decide(); return r }
        r.conditions.append(Evidence("TPOT SLO missed at p99 (1 = yes)", f.missedSLOs.contains("tpot") ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("decode MBU", mbu, "≥", f.thresholds.nearRoofMBU, unit: .share))
        let g = (w + k) / (w * q + k)
        let gain = Gain(g, "(W+K)/(W·q+K)", ["W_bytes": w, "K_bytes": k, "q": q])
        r.gains[.tpot] = gain
        r.gains[.itl] = gain
        r.gains[.throughput] = f.decodeShare.map { Gain(amdahl(share: $0, factor: g), "Amdahl(decode share, (W+K)/(W·q+K))", ["decode_share": $0, "step_speedup": g]) } ?? gain
        r.gains[.cost] = r.gains[.throughput]
        r.confidence = 0.6
        r.caveats = ["quality must be re-evaluated", "needs a different weight file (no runtime switch)"]
        r.decide()
        return r
    }
}
