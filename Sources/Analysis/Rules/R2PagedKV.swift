/// R2 — PagedAttention / paged KV (methodology §4.2, §7.4).
/// Trigger: contiguous or max-length reservation AND token-state utilisation U_tok < 0.8.
/// Gain: concurrency ×1/U_tok; on a capacity-bound run throughput, TTFT and TPOT follow the
/// larger batch (``CapacityProjection``).
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
        if f.capacityBound == true, let p = CapacityProjection.project(f, ratio: concurrency, label: "B/U_tok") {
            r.gains[.throughput] = p.throughput
            r.gains[.cost] = p.throughput
            if let t = p.ttft { r.gains[.ttft] = t }
            if f.preemptions == 0 { r.gains[.tpot] = p.tpot; r.gains[.itl] = p.tpot }
            r.evidence.append("capacity-bound: ×\(fmt(concurrency)) sequences fit, mean decode batch \(fmt(p.batch)) → \(fmt(p.newBatch)) (offered \(fmt(p.offered)))")
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
