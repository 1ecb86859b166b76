/// R12 — prefill/decode rebalance of a disaggregated run (P prefill and D decode workers).
///
/// Trigger (add prefill): TTFT ≥ 50% of request time, TTFT ≥ 10× the prompt's roofline prefill
/// time (queueing, not slow prefill), TPOT healthy (≤ 3× the decode step's roofline at the
/// estimated batch). The reverse (add decode): TPOT above that bound while TTFT is not queueing.
///
/// New split: the roofline work per request of each side, W_P = prefill floor of the mean prompt
/// and W_D = (output − 1)·T_step(B)/B, shared over the same N = P + D workers:
/// P_new = clamp(round(N·W_P/(W_P + W_D)), 1, N − 1); when that does not move toward the starved
/// side, one worker is added to it. Gain (throughput): min(P_new/W_P, D_new/W_D)/min(P/W_P, D/W_D)
/// (capacity of the slower side); TTFT (add prefill): P_new/P, the queueing share shrinking at
/// least in proportion to prefill capacity. Confidence 0.6 (roofline work, assumed equal efficiency).
public struct R12PrefillDecodeRebalance: Rule {
    public let id = "R12"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        let t = f.thresholds
        var r = Recommendation(id: id, key: "prefill-decode-rebalance", title: "Rebalance prefill and decode workers (P:D)",
                               literature: ["DistServe: size prefill and decode instances separately to each phase's SLO", "Dynamo: planner adjusts P:D to TTFT/ITL"])
        guard let p = f.prefillWorkers, let d = f.decodeWorkers, p > 0, d > 0 else {
            r.conditions.append(Evidence("disaggregated run: P and D worker counts known (file or --prefill-workers/--decode-workers)", 0, "≥", 1, unit: .flag))
            r.decide(); return r
        }
        guard let split = f.requestTime else {
            r.missing.append("mean TTFT and E2E (or TPOT with output length)")
            r.decide(); return r
        }
        guard let e = f.aggregateEstimate, let tpot = e.inputs.tpot, let b = e.decodeBatch, b > 0, let stepRoof = e.decodeStepRoofline,
              let out = e.inputs.outputTokens, out > 1 else {
            r.missing.append("a catalog model and hardware (--model, --hardware), a TPOT and the run's throughput or concurrency, for the roofline of each side")
            r.decide(); return r
        }
        let wP = e.prefillFloorSeconds, wD = (out - 1) * stepRoof / b
        let tpotRatio = tpot / stepRoof
        let prefillStarved = split.ttftShare >= t.ttftShare && e.ttftIsQueueing && tpotRatio <= t.healthyTPOTRatio
        let decodeStarved = tpotRatio > t.healthyTPOTRatio && !e.ttftIsQueueing
        r.evidence = ["P:D = \(p):\(d)", "mean TTFT \(NumberFormat.duration(e.inputs.ttft)) = \(fmt(e.ttftOverFloor))× its roofline prefill \(NumberFormat.duration(wP))",
                      "mean TPOT \(NumberFormat.duration(tpot)) = \(fmt(tpotRatio))× the roofline decode step \(NumberFormat.duration(stepRoof)) at batch \(fmt(b)) per decode worker",
                      "roofline work per request: prefill W_P \(NumberFormat.duration(wP)), decode W_D \(NumberFormat.duration(wD))"]
        if decodeStarved {
            r.title = "Add decode capacity (P:D): TPOT is far above its roofline while TTFT is not queueing"
            r.conditions.append(Evidence("mean TPOT / roofline decode step", tpotRatio, ">", t.healthyTPOTRatio))
            r.conditions.append(Evidence("mean TTFT / roofline prefill", e.ttftOverFloor, "<", t.queueingFloorRatio))
        } else {
            r.conditions.append(Evidence("TTFT share of request time", split.ttftShare, "≥", t.ttftShare, unit: .share))
            r.conditions.append(Evidence("mean TTFT / roofline prefill (queueing when ≥)", e.ttftOverFloor, "≥", t.queueingFloorRatio))
            r.conditions.append(Evidence("mean TPOT / roofline decode step (healthy when ≤)", tpotRatio, "≤", t.healthyTPOTRatio))
        }
        guard prefillStarved || decodeStarved else { r.decide(); return r }
        let n = p + d
        let balanced = n >= 2 ? min(max(Int((Double(n) * wP / (wP + wD)).rounded()), 1), n - 1) : p
        var pNew = p, dNew = d
        if prefillStarved {
            if balanced > p { pNew = balanced; dNew = n - balanced } else { pNew = p + 1 }
        } else {
            if n - balanced > d { pNew = balanced; dNew = n - balanced } else { dNew = d + 1 }
        }
        let capacity = { (pp: Int, dd: Int) in min(Double(pp) / wP, Double(dd) / wD) }
        let g = capacity(pNew, dNew) / capacity(p, d)
        r.evidence.append("balanced split of \(n) workers by roofline work: \(balanced):\(n - balanced); advised \(pNew):\(dNew)\(pNew + dNew > n ? " (one more worker: rebalancing alone does not move toward the starved side)" : "")")
        let inputs: [String: Double] = ["P": Double(p), "D": Double(d), "P_new": Double(pNew), "D_new": Double(dNew), "W_P_s": wP, "W_D_s": wD]
        r.gains[.throughput] = Gain(g, "min(P_new/W_P, D_new/W_D)/min(P/W_P, D/W_D)", inputs)
        r.gains[.cost] = Gain(g * Double(n) / Double(pNew + dNew), "throughput gain × N/(P_new + D_new)", inputs)
        if prefillStarved {
            r.gains[.ttft] = Gain(Double(pNew) / Double(p), "P_new/P (queueing shrinks at least with prefill capacity)", inputs)
        } else {
            r.gains[.tpot] = Gain(Double(dNew) / Double(d), "D_new/D (decode batch per worker shrinks)", inputs)
            r.gains[.itl] = r.gains[.tpot]
        }
        r.runtimeChange = ["prefill_workers": String(pNew), "decode_workers": String(dNew)]
        r.confidence = 0.6
        r.caveats = ["roofline work assumes both sides reach the same share of their roof",
                     "a KV hand-off link slower than prefill can cap the gain (see R6's transfer check)"]
        r.decide()
        return r
    }
}
