/// R1 — continuous (iteration-level) batching (methodology §5, §7.4).
/// Trigger: request-level/static batching detected AND (U_slot < 0.8 OR formation delay > 20% of TTFT).
/// Gain: throughput ×1/U_slot (decode memory-bound, step time flat in B); TTFT minus the
/// formation (queueing) delay.
public struct R1ContinuousBatching: Rule {
    public let id = "R1"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "continuous-batching", title: "Use continuous (iteration-level) batching",
                               runtimeChange: ["scheduler": "continuous"],
                               literature: ["Orca 36.9x (GPT-3 175B)", "Anyscale up to 23x with vLLM memory management (OPT-13B), 8x batching alone", "Databricks 10-20x vs dynamic batching"])
        let t = f.thresholds
        r.conditions.append(Evidence("static batching detected (1 = yes)", f.staticBatching ? 1 : 0, "≥", 1, unit: .flag))
        guard f.staticBatching else { r.decide(); return r }
        guard let u = f.slotUtilisation else {
            r.missing.append("decode steps with batch composition (BatchEntry lists) to measure slot utilisation U_slot")
            r.decide(); return r
        }
        let slot = Evidence("decode slot utilisation U_slot", u, "<", t.slotUtilisation, unit: .share)
        let delay = Evidence("formation delay share of TTFT", f.formationDelayShare ?? 0, ">", t.formationDelayShare, unit: .share)
        r.conditions.append(Evidence("U_slot < \(fmt(t.slotUtilisation)) or formation delay > \(fmt(t.formationDelayShare)) of TTFT",
                                     (slot.holds || delay.holds) ? 1 : 0, "≥", 1, unit: .flag))
        r.evidence = ["U_slot = \(fmt(u))", "formation delay share of TTFT = \(fmt(f.formationDelayShare ?? 0))"]
        if let w = f.paddingWaste { r.evidence.append("prefill padding waste W_pad = \(fmt(w))") }
        let g = 1 / max(u, 1e-9)
        let throughput = Gain(g, "1/U_slot", ["U_slot": u])
        r.gains[.throughput] = throughput
        r.gains[.cost] = throughput
        if let ttft = f.meanTTFT, let q = f.meanQueue, ttft > q, q > 0 {
            r.gains[.ttft] = Self.ttftGain(ttft: ttft, queue: q, e2e: f.meanE2E, clients: f.closedLoopClients, slots: f.maxNumSeqs,
                                          requests: f.requestsArrived)
        }
        r.confidence = 1.0
        r.caveats = ["upper bound: assumes decode stays memory-bound and KV capacity allows the extra concurrent sequences"]
        r.decide()
        return r
    }

    /// TTFT gain on the mean. Continuous batching removes the batch-formation wait, not the wait
    /// for a free slot: with N closed-loop clients and K slots, N > K, Little's law at the slot
    /// bottleneck (throughput K/S, S = E2E − queue the per-request service time, step time flat in
    /// B while decode is memory-bound) leaves a wait of (N/K − 1)·S for each request that finds the
    /// slots taken — all but the first K of the run's R requests, a share (R − K)/R. Without N and
    /// K (open loop, foreign traces) the whole queueing delay counts as formation delay (an upper
    /// bound). O(1).
    static func ttftGain(ttft: Double, queue q: Double, e2e: Double?, clients: Int?, slots: Int?, requests: Int) -> Gain {
        if let e2e, let n = clients, let k = slots, k > 0, e2e > q, requests > 0 {
            let service = e2e - q
            let waiting = Double(max(0, requests - k)) / Double(requests)
            let residual = max(0, (Double(n) / Double(k) - 1) * service) * waiting
            return Gain(ttft / (ttft - q + min(q, residual)),
                        "TTFT/(TTFT − queue + queue_cb), queue_cb = max(0, (N/K − 1)·S)·(R − K)/R (slot wait left by continuous batching, Little's law)",
                        ["TTFT_mean_s": ttft, "queue_mean_s": q, "N_clients": Double(n), "K_slots": Double(k),
                         "S_service_s": service, "R_requests": Double(requests)])
        }
        return Gain(ttft / (ttft - q), "TTFT/(TTFT − formation delay), all queueing counted as formation delay (upper bound)",
                    ["TTFT_mean_s": ttft, "queue_mean_s": q])
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        g.staticBatching = false
        g.slotUtilisation = nil
        g.formationDelayShare = 0
        return g
    }
}
