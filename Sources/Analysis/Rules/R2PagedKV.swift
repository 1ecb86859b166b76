/// R2 — PagedAttention / paged KV (methodology §4.2, §7.4).
/// Trigger: contiguous or max-length reservation AND token-state utilisation U_tok < 0.8.
/// Gain: concurrency ×1/U_tok; throughput follows while decode is memory-bound and the run is
/// capacity-bound (step time re-projected by the roofline).
public struct R2PagedKV: Rule {
    public let id = "R2"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "paged-kv", title: "Use a paged KV cache (PagedAttention)",
                               runtimeChange: ["kv_layout": "paged"],
                               literature: ["vLLM: 96.3% token states vs 20.4-38.2% in Orca variants; 2-4x throughput"])
        r.conditions.append(Evidence("contiguous/reserving KV layout (1 = yes)", f.contiguousLayout ? 1 : 0, "≥", 1, unit: .flag))
        guard let u = f.tokenUtilisation else {
            r.missing.append("KV counters with tokensStored/blocksUsed to measure token-state utilisation U_tok")
            r.decide(); return r
        }
        r.conditions.append(Evidence("token-state utilisation U_tok", u, "<", f.thresholds.tokenUtilisation, unit: .share))
        r.evidence = ["U_tok = \(fmt(u))"]
        if let rw = f.reservationWaste { r.evidence.append("reservation waste RW = \(fmt(rw))") }
        let concurrency = 1 / max(u, 1e-9)
        if f.capacityBound == true, let b = f.meanBatch, let c = f.meanContext,
           let t0 = f.decodeStepRoofline(batch: b, context: c), let t1 = f.decodeStepRoofline(batch: b * concurrency, context: c) {
            let g = concurrency * t0 / t1
            r.gains[.throughput] = Gain(g, "(1/U_tok)·T(B)/T(B/U_tok) (roofline step times)",
                                        ["U_tok": u, "B": b, "c": c, "T(B)_s": t0, "T(B/U_tok)_s": t1])
            r.gains[.cost] = r.gains[.throughput]
            r.confidence = 0.6
        } else {
            r.caveats.append("the run is not capacity-bound: the memory freed (×\(fmt(concurrency)) concurrency) raises throughput only if more requests are offered")
            r.confidence = 0.6
        }
        r.caveats.append("the paged attention kernel costs 20-26% attention-kernel latency (vLLM paper)")
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        g.contiguousLayout = false
        g.tokenUtilisation = 0.96
        if f.capacityBound == true { g.capacityBound = false }
        return g
    }
}
