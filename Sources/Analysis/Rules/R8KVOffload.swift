/// R8 — KV offload to CPU DRAM / SSD / remote (methodology §4.4, §7.4).
/// Trigger: prefix caching on, reuse lost to eviction h_pot − h ≥ 0.2 (h stands in for h_cap: the
/// trace has no replay with the real pool size), and R = 2·N·BW_link/(P·MFU·kv) ≥ 2.
/// Gain: recovered hits × prefill saving (literature-level confidence 0.4).
public struct R8KVOffload: Rule {
    public let id = "R8"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "kv-offload", title: "Offload evicted KV to host memory and reload on reuse",
                               literature: ["LMCache: 3-10x delay savings (multi-round QA/RAG)", "Mooncake: +75% requests", "Dynamo host offload: 40% TTFT"])
        guard let pot = f.prefixPotential, let h = f.prefixHitRate else {
            r.missing.append("the measured and potential prefix hit rates (h, h_pot)")
            r.decide(); return r
        }
        guard let p = f.peakFLOPS else {
            r.missing.append("a hardware spec (recompute time per token)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("prefix caching enabled (1 = yes)", f.prefixCacheEnabled == true ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("reuse lost to eviction h_pot − h (h stands in for h_cap)", pot - h, "≥", f.thresholds.prefixReuseGap, unit: .share))
        let mfu = f.prefillMFU.map { max($0, 0.05) } ?? f.assumptions.prefillMFU
        let ratio = 2 * f.model.parameterCount * f.assumptions.linkBandwidth / (p * mfu * f.model.kvBytesPerToken)
        r.conditions.append(Evidence("R = t_recompute/t_reload", ratio, "≥", f.thresholds.offloadRatio))
        if let share = f.prefillShare {
            let saved = h < 1 ? max(0, (pot - h) / (1 - h)) : 0
            let g = Gain(1 / (1 - share * saved), "1/(1 − prefill_share·recovered), recovered = (h_pot − h)/(1 − h)",
                         ["prefill_share": share, "h": h, "h_pot": pot, "R": ratio])
            r.gains[.throughput] = g
            r.gains[.cost] = g
            r.gains[.ttft] = g
        }
        r.confidence = 0.4
        r.caveats = ["h_cap (hit rate with the real pool size) needs a replay the trace does not allow; measured h used instead",
                     "BW_link assumed \(fmt(f.assumptions.linkBandwidth / 1e9)) GB/s; reload must overlap compute or it adds to TTFT"]
        r.decide()
        return r
    }
}
