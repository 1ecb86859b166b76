/// R6 — prefill/decode disaggregation (methodology §6.3, §7.4).
/// Trigger: TTFT and TPOT/ITL SLOs set and missed after R5 (R5 not firing); not capacity-bound;
/// not idle-dominated; median uncached prompt ≥ prefill saturation length; KV transfer
/// s·kv/BW_link ≤ 0.1·TTFT SLO. Gain: literature only (confidence 0.4).
public struct R6Disaggregation: Rule {
    public let id = "R6"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        let t = f.thresholds
        var r = Recommendation(id: id, key: "disaggregation", title: "Disaggregate prefill and decode",
                               runtimeChange: ["disaggregated": "on"],
                               literature: ["DistServe: 2.0-4.6x per-GPU goodput vs vLLM (chatbot)", "Dynamo: +30% single node, >2x two nodes", "Splitwise: 1.4x throughput at 20% lower cost"])
        r.disagreement = "§7.6(1): chunked prefill (Sarathi-Serve) vs disaggregation (DistServe); Dynamo: no benefit at low load, minimise prefill engines when KV-capacity-bound. Also §7.6(3): DistServe's headline numbers differ between arXiv v1 (4.48x/10.2x) and the published version (7.4x/12.6x)."
        guard let ttftSLO = f.slo.ttft, f.slo.tpot != nil || f.slo.itl != nil else {
            r.missing.append("both a TTFT SLO and a TPOT or ITL SLO (--slo ttft=…,tpot=…)")
            r.decide(); return r
        }
        let r5 = R5ChunkedPrefill().evaluate(f)
        let bothMissed = f.missedSLOs.contains("ttft") && (f.missedSLOs.contains("tpot") || f.missedSLOs.contains("itl"))
        r.conditions.append(Evidence("TTFT and TPOT/ITL SLOs both missed (1 = yes)", bothMissed ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("chunked prefill (R5) already exhausted (1 = R5 not firing)", r5.status == .triggered ? 0 : 1, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("capacity-bound (1 = yes)", f.capacityBound == true ? 1 : 0, "<", 1, unit: .flag))
        r.conditions.append(Evidence("idle share", f.idleShare ?? 0, "<", t.idleShare, unit: .share))
        guard let s = f.medianUncachedPrompt else {
            r.missing.append("prompt lengths per request (arrival events with promptTokens)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("median uncached prompt (tokens) vs prefill saturation length", s, "≥", t.prefillSaturationTokens, unit: .tokens))
        let transfer = s * f.model.kvBytesPerToken / f.assumptions.linkBandwidth
        r.conditions.append(Evidence("KV hand-off time s·kv/BW_link (s) vs \(fmt(t.transferShareOfTTFT))·TTFT SLO", transfer, "≤", t.transferShareOfTTFT * ttftSLO, unit: .seconds))
        let g = Gain(1.3, "literature: Dynamo +30% throughput/GPU on one node (lower end of 1.3-4.6x)", [:])
        r.gains[.throughput] = g
        r.gains[.cost] = g
        r.gains[.ttft] = g
        r.gains[.itl] = g
        r.gains[.tpot] = g
        r.confidence = 0.4
        r.caveats = ["needs a second device or worker; predict properly with DistServe's M/D/1 + roofline simulator",
                     "BW_link assumed \(fmt(f.assumptions.linkBandwidth / 1e9)) GB/s"]
        r.decide()
        return r
    }
}
