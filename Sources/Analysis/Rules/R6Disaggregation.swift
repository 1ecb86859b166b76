/// R6 — prefill/decode disaggregation (methodology §6.3, §7.4).
/// Trigger: TTFT and TPOT/ITL SLOs set and missed after R5 (R5 not firing); not capacity-bound;
/// not idle-dominated; median uncached prompt ≥ prefill saturation length; KV transfer
/// s·kv/BW_link ≤ 0.1·TTFT SLO. Gain: on InferScope's own runtime, where `--disaggregated` splits
/// the same threads into a prefill and a decode worker, a split model on the probe's measured
/// slowdowns (``splitProjection(_:)``; a what-if computed even without SLOs); elsewhere literature
/// only (confidence 0.4).
public struct R6Disaggregation: Rule {
    public let id = "R6"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        let t = f.thresholds
        var r = Recommendation(id: id, key: "disaggregation", title: "Disaggregate prefill and decode",
                               runtimeChange: ["disaggregated": "on"],
                               literature: ["DistServe: 2.0-4.6x per-GPU goodput vs vLLM (chatbot)", "Dynamo: +30% single node, >2x two nodes", "Splitwise: 1.4x throughput at 20% lower cost"])
        r.disagreement = "§7.6(1): chunked prefill (Sarathi-Serve) vs disaggregation (DistServe); Dynamo: no benefit at low load, minimise prefill engines when KV-capacity-bound. Also §7.6(3): DistServe's headline numbers differ between arXiv v1 (4.48x/10.2x) and the published version (7.4x/12.6x)."
        let split = Self.splitProjection(f)
        if let split { r.gains = split }
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
        if split == nil {
            let g = Gain(1.3, "literature: Dynamo +30% throughput/GPU on one node (lower end of 1.3-4.6x)", [:])
            r.gains[.throughput] = g
            r.gains[.cost] = g
            r.gains[.ttft] = g
            r.gains[.itl] = g
            r.gains[.tpot] = g
            r.confidence = 0.4
            r.caveats = ["needs a second device or worker; predict properly with DistServe's M/D/1 + roofline simulator",
                         "BW_link assumed \(fmt(f.assumptions.linkBandwidth / 1e9)) GB/s"]
        } else {
            r.confidence = f.probedStepCurve != nil ? 0.7 : 0.5
            r.caveats = ["the split model leaves out the hand-off wait when the decode pool is full (it lands in TPOT)"]
        }
        r.decide()
        return r
    }

    /// InferScope's runtime disaggregates by splitting the run's threads: a prefill worker on
    /// ⌊t/2⌋, a decode worker on the rest, each with a KV pool of the run's size. Each phase then
    /// runs s times slower — from the probed step curve at each worker's threads (decode at the
    /// run's mean batch, prefill at 64 rows), else t/threads (compute scaling with threads) — but
    /// the two overlap and decode steps no longer carry prompts:
    /// - throughput: busy time becomes busy·(p·s_p + (1 − p)·s_d) (p the prefill share of busy):
    ///   no credit for the two workers overlapping. A closed loop gains or loses by that factor, an
    ///   open loop can only lose (its arrivals set the rate). Perfect overlap, busy·max(…), said
    ///   ×1.22 on a stories15m rag run (6 clients) that measured ×0.67: there the prefill worker
    ///   was busy 51% and the decode worker 70% of the time, the two sharing one memory bus, and
    ///   each phase slowed beyond its one-thread probe;
    /// - TPOT: a pure decode step on the decode worker, T_decode·s_d, against the measured TPOT;
    /// - TTFT: the request's own prefill on the prefill worker, (TTFT − queue)·s_p, with no wait for
    ///   a slot or KV in the colocated queue (means, applied to the percentiles).
    /// nil for other producers (disaggregation adds devices there), runs already disaggregated, or
    /// one thread. O(1).
    static func splitProjection(_ f: Features) -> [Objective: Gain]? {
        guard f.ownRuntime, let t = f.threads, t >= 2,
              !["on", "true", "1", "yes"].contains(f.options["disaggregated"]?.lowercased() ?? "") else { return nil }
        let tp = t / 2, td = t - t / 2
        var sp = Double(t) / Double(tp), sd = Double(t) / Double(td)
        var source = "slowdowns assumed t/threads"
        if let curve = f.probedStepCurve, let b = f.meanBatch, let c = f.meanContext,
           let dNow = f.decodeStepMeasured(batch: b, context: c, threads: t),
           let dSplit = f.decodeStepMeasured(batch: b, context: c, threads: td),
           let pNow = curve.seconds(rows: 64, threads: t), let pSplit = curve.seconds(rows: 64, threads: tp) {
            sd = dSplit / dNow
            sp = pSplit / pNow
            source = "slowdowns from the probed step curve"
        }
        var gains: [Objective: Gain] = [:]
        if let p = f.prefillShare, let idle = f.idleShare {
            let busy = 1 - idle
            let demand = busy * (p * sp + (1 - p) * sd)
            if demand > 0 {
                let closed = f.closedLoopClients != nil
                let g = closed ? 1 / demand : min(1, 1 / demand)
                gains[.throughput] = Gain(g, (closed ? "1/D" : "min(1, 1/D)") + ", D = busy·(p·s_p + (1 − p)·s_d) (\(source))",
                                          ["busy": busy, "p_prefill_share": p, "s_p": sp, "s_d": sd, "D": demand])
                gains[.cost] = gains[.throughput]
            }
        }
        if let tpot = f.meanTPOT, let step = f.decodeStepSeconds, step > 0 {
            gains[.tpot] = Gain(tpot / (step * sd), "TPOT/(T_decode·s_d) (\(source))", ["TPOT_mean_s": tpot, "T_decode_s": step, "s_d": sd])
            gains[.itl] = gains[.tpot]
        }
        if let ttft = f.meanTTFT, let q = f.meanQueue, ttft > q {
            gains[.ttft] = Gain(ttft / ((ttft - q) * sp), "TTFT/((TTFT − queue)·s_p) (\(source))", ["TTFT_mean_s": ttft, "queue_mean_s": q, "s_p": sp])
        }
        return gains.isEmpty ? nil : gains
    }
}
