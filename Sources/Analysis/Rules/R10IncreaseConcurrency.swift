/// R10 — increase concurrency (methodology §1.4–1.6, §7.4).
/// Trigger: decode memory-bound, not capacity-bound, B_mean/B_crit < 0.5, queue empty at times,
/// no SLO missed. Gain: throughput (B_new/B)·T(B)/T(B_new) with roofline step times, B_new =
/// min(KV-limited concurrency, ½·B_crit).
public struct R10IncreaseConcurrency: Rule {
    public let id = "R10"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "increase-concurrency", title: "Run more sequences concurrently",
                               literature: ["roofline: decode step time grows only with KV bytes while memory-bound"])
        guard let b = f.meanBatch, let c = f.meanContext, f.hardware != nil else {
            r.missing.append(f.hardware == nil ? "a hardware spec" : "decode steps with batch composition (B, c)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("decode memory-bound (1 = yes)", f.decodeBound == .memoryBound ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("capacity-bound (1 = yes)", f.capacityBound == true ? 1 : 0, "<", 1, unit: .flag))
        let headroom = f.criticalBatch.map { b / $0 } ?? 0
        r.conditions.append(Evidence("B_mean/B_crit(c) (0 = no B_crit)", headroom, "<", f.thresholds.decodeHeadroom))
        r.conditions.append(Evidence("share of time with an empty queue", f.queueEmptyShare ?? (f.idleShare ?? 0 > 0 ? 1 : 0), ">", 0, unit: .share))
        r.conditions.append(Evidence("SLOs missed", Double(f.missedSLOs.count), "≤", 0, unit: .count))
        var limits: [Double] = []
        if let cap = f.kvCapacityTokens { limits.append(cap / max(c, 1)) }
        if let bc = f.criticalBatch { limits.append(0.5 * bc) }
        guard let bNew = limits.min(), bNew > b else {
            if limits.isEmpty { r.missing.append("KV capacity (KV counters or hardware memory) to bound the new concurrency") }
            r.evidence.append("no headroom: target concurrency ≤ current \(fmt(b))")
            r.conditions.append(Evidence("target concurrency B_new vs current B", limits.min() ?? 0, ">", b))
            r.decide(); return r
        }
        let t0 = f.decodeStepRoofline(batch: b, context: c)!, t1 = f.decodeStepRoofline(batch: bNew, context: c)!
        let g = bNew / b * t0 / t1
        r.gains[.throughput] = Gain(g, "(B_new/B)·T(B)/T(B_new), B_new = min(KV tokens/c, ½·B_crit)",
                                    ["B": b, "B_new": bNew, "c": c, "T(B)_s": t0, "T(B_new)_s": t1])
        r.gains[.cost] = r.gains[.throughput]
        r.gains[.tpot] = Gain(t0 / t1, "T(B)/T(B_new) (< 1: TPOT grows)", ["T(B)_s": t0, "T(B_new)_s": t1])
        r.runtimeChange = ["max_num_seqs": String(clampedInt(bNew.rounded(.down)))]
        r.confidence = 0.6
        r.caveats = ["needs the offered load: raise client concurrency or the request rate, not only the cap", "TPOT rises with the batch"]
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        if let bNew = r.gains[.throughput]?.inputs["B_new"] { g.meanBatch = bNew; g.refreshDecodeDerived() }
        return g
    }
}
