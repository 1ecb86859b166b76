/// R10 — increase concurrency (methodology §1.4–1.6, §7.4).
/// Trigger: decode memory-bound, not capacity-bound, B_mean/B_crit < 0.5, queue empty at times,
/// no SLO missed, and the cap (not the offered load) sets concurrency. Gain: throughput
/// (B_new/B)·T(B)/T(B_new) with roofline step times, B_new = min(KV-limited concurrency, ½·B_crit,
/// closed-loop clients); the advised cap is never below the current one.
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
        // Who sets the concurrency: the cap (max_num_seqs) or the offered load? A closed loop of N
        // clients never has more than N in flight; an open loop whose batch stays well under the
        // cap is not held back by it. Raising the cap then changes nothing (the default profile,
        // issue #14: advised max_num_seqs = 7 for a run capped at 64, measured ×0.83).
        let cap = f.maxNumSeqs.map(Double.init)
        let clients = f.closedLoopClients.map(Double.init)
        let loadBound: Bool = {
            guard let cap else { return false }
            if let clients { return clients <= cap }
            return b < 0.8 * cap
        }()
        r.conditions.append(Evidence("the cap, not the offered load, sets concurrency (1 = yes)", loadBound ? 0 : 1, "≥", 1, unit: .flag))
        guard let target = limits.min() else {
            r.missing.append("KV capacity (KV counters or hardware memory) to bound the new concurrency")
            r.decide(); return r
        }
        // The batch the change would reach: the target, but never more than the clients offer.
        let reach = min(target, clients ?? .infinity)
        if loadBound {
            let n = clients.map { "\(clampedInt($0)) clients" } ?? "mean batch \(fmt(b))"
            r.evidence.append("the offered load sets concurrency (\(n), cap \(clampedInt(cap ?? 0))): raising max_num_seqs changes nothing")
            if target > b, let t0 = f.decodeStepRoofline(batch: b, context: c), let t1 = f.decodeStepRoofline(batch: target, context: c) {
                r.evidence.append("offer more load instead (clients or request rate) to reach B ≈ \(fmt(target)): roofline throughput ×\(fmt(target / b * t0 / t1))")
            }
            // What the cap switch itself would do: nothing.
            r.gains[.throughput] = Gain(1, "cap does not bind: throughput unchanged", ["B": b, "cap": cap ?? 0])
            r.gains[.cost] = r.gains[.throughput]
            r.decide(); return r
        }
        let newCap = reach.rounded(.down)
        guard newCap > max(b, cap ?? 0) else {
            // Never advise a cap at or below the current one.
            r.evidence.append("no headroom: target concurrency \(fmt(reach)) ≤ current \(fmt(max(b, cap ?? 0)))")
            r.conditions.append(Evidence("target concurrency B_new vs current cap", reach, ">", max(b, cap ?? 0)))
            r.decide(); return r
        }
        let t0 = f.decodeStepRoofline(batch: b, context: c)!, t1 = f.decodeStepRoofline(batch: reach, context: c)!
        let g = reach / b * t0 / t1
        r.gains[.throughput] = Gain(g, "(B_new/B)·T(B)/T(B_new), B_new = min(KV tokens/c, ½·B_crit, clients)",
                                    ["B": b, "B_new": reach, "c": c, "T(B)_s": t0, "T(B_new)_s": t1])
        r.gains[.cost] = r.gains[.throughput]
        r.gains[.tpot] = Gain(t0 / t1, "T(B)/T(B_new) (< 1: TPOT grows)", ["T(B)_s": t0, "T(B_new)_s": t1])
        if let ttft = CapacityProjection.project(f, cap: reach, label: "the new cap")?.ttft { r.gains[.ttft] = ttft }
        r.runtimeChange = ["max_num_seqs": String(clampedInt(newCap))]
        r.confidence = 0.6
        r.caveats = ["TPOT rises with the batch"]
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        if let bNew = r.gains[.throughput]?.inputs["B_new"] { g.meanBatch = bNew; g.refreshDecodeDerived() }
        return g
    }
}
