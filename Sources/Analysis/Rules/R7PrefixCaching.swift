/// R7 — prefix caching / cache-aware routing (methodology §4.5, §7.4).
/// Trigger: h_pot − h ≥ 0.2 AND prefill share ≥ 0.2.
/// Gain: prefill work × (1 − saved), saved = (h_pot − h)/(1 − h); throughput 1/(1 − share·saved);
/// TTFT prefill part × (1 − saved).
public struct R7PrefixCaching: Rule {
    public let id = "R7"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "prefix-caching", title: "Enable prefix caching (or cache-aware routing)",
                               runtimeChange: ["prefix_cache": "on"],
                               literature: ["SGLang RadixAttention: up to 6.4x on shared-prefix workloads", "Dynamo KV-aware routing: 3x TTFT"])
        guard let pot = f.prefixPotential else {
            r.missing.append("prompt token ids or block hashes (or workload parameter shared_prefix_tokens) to compute the potential hit rate h_pot")
            r.decide(); return r
        }
        guard let h = f.prefixHitRate else {
            r.missing.append("cached-token counts on scheduled events (measured hit rate h)")
            r.decide(); return r
        }
        guard let share = f.prefillShare else {
            r.missing.append("step spans (prefill share of busy time)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("h_pot − h", pot - h, "≥", f.thresholds.prefixReuseGap, unit: .share))
        r.conditions.append(Evidence("prefill share of busy time", share, "≥", f.thresholds.prefixPrefillShare, unit: .share))
        let saved = h < 1 ? max(0, (pot - h) / (1 - h)) : 0
        r.evidence = ["h = \(fmt(h)), h_pot = \(fmt(pot)), prefill share = \(fmt(share))"]
        let tp = Gain(1 / (1 - share * saved), "1/(1 − prefill_share·saved), saved = (h_pot − h)/(1 − h)",
                      ["prefill_share": share, "h": h, "h_pot": pot])
        r.gains[.throughput] = tp
        r.gains[.cost] = tp
        if let ttft = f.meanTTFT, let q = f.meanQueue, ttft > q {
            let prefillPart = ttft - q
            r.gains[.ttft] = Gain(ttft / (q + prefillPart * (1 - saved)), "TTFT/(queue + (TTFT − queue)·(1 − saved))",
                                  ["TTFT_mean_s": ttft, "queue_mean_s": q, "saved": saved])
        }
        r.evidence.append("prefill part of TTFT × \(fmt(1 - saved))")
        r.confidence = 1.0
        r.caveats = ["linear-layer part only: attention over the cached prefix is still computed", "does not help ITL/TPOT"]
        if f.prefixCacheEnabled == true { r.title = "Raise prefix-cache reuse (cache-aware routing, larger cache)" }
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        g.prefixHitRate = f.prefixPotential
        g.prefixCacheEnabled = true
        if let s = f.prefillShare, let inputs = r.gains[.throughput]?.inputs, let pot = inputs["h_pot"], let h = inputs["h"] {
            let saved = h < 1 ? max(0, (pot - h) / (1 - h)) : 0
            g.prefillShare = s * (1 - saved) / (1 - s * saved)
            g.decodeShare = f.decodeShare.map { $0 / (1 - s * saved) }
        }
        return g
    }
}
