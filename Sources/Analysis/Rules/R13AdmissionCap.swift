/// R13 — admission cap (a server's max_num_seqs / max concurrency), not KV memory.
/// Trigger, on the main KV pool's scrape samples (at least 3): requests wait in ≥ 20% of samples, KV usage
/// while they wait is < 50% on average, and running sits within 1 of its ceiling in ≥ 50% of
/// samples. Advice: raise the cap to N_new = min(N·u_high/u_peak, N + peak waiting), where u_peak
/// is the peak KV usage while requests waited (KV grows about linearly with running sequences).
/// Gain (throughput): (N_new/N)·T(N)/T(N_new) with roofline decode steps when a model and
/// hardware are known (confidence 0.6), else N_new/N as an upper bound (confidence 0.4); TTFT
/// from the slot wait the new cap removes (``CapacityProjection``).
public struct R13AdmissionCap: Rule {
    public let id = "R13"
    public init() {}

    /// The admission-cap conditions on a trace's main KV pool; nil without running/waiting counters.
    /// Shared with the verdict, which never calls such a run capacity-bound.
    public static func admissionEvidence(_ m: TraceMetrics, _ t: Thresholds) -> [Evidence]? {
        guard let a = m.mainKVPool?.admission else { return nil }
        return conditions(a, t)
    }

    static func conditions(_ a: AdmissionStats, _ t: Thresholds) -> [Evidence] {
        [Evidence("scrape samples (a time series, not one snapshot)", Double(a.samples), "≥", t.admissionMinSamples, unit: .count),
         Evidence("share of scrape samples with requests waiting (mean \(fmt(a.meanWaiting)), peak \(a.peakWaiting))",
                  a.waitingShare, "≥", t.admissionWaitingShare, unit: .share),
         Evidence("mean KV usage while requests wait (peak \(NumberFormat.percent(a.peakUsageWhileWaiting)))",
                  a.meanUsageWhileWaiting, "<", t.admissionLowKVUsage, unit: .share),
         Evidence("share of samples with running at its ceiling of \(a.ceiling)", a.shareAtCeiling, "≥", t.admissionCeilingShare, unit: .share)]
    }

    public func evaluate(_ f: Features) -> Recommendation {
        let t = f.thresholds
        var r = Recommendation(id: id, key: "admission-cap", title: "Raise the admission cap (max_num_seqs / max concurrency): KV memory is not the limit",
                               literature: ["vLLM: max_num_seqs bounds running sequences independently of free KV blocks"])
        guard let a = f.admission else {
            r.missing.append("a server scrape with running/waiting counters and KV usage (e.g. vLLM /metrics)")
            r.decide(); return r
        }
        r.conditions = Self.conditions(a, t)
        let n = Double(a.ceiling)
        let usage = max(a.peakUsageWhileWaiting, 1e-3)
        let byKV = n * t.highKVUsage / usage
        let nNew = min(byKV, n + Double(a.peakWaiting)).rounded(.down)
        r.conditions.append(Evidence("new cap min(N·\(fmt(t.highKVUsage))/u_peak, N + peak waiting) vs current N = \(a.ceiling)", nNew, ">", n, unit: .count))
        r.evidence = ["running held at \(a.ceiling) while \(fmt(a.meanWaiting)) requests waited on average (peak \(a.peakWaiting))",
                      "KV usage while waiting: mean \(NumberFormat.percent(a.meanUsageWhileWaiting)), peak \(NumberFormat.percent(a.peakUsageWhileWaiting)): KV headroom for about \(fmt(byKV.rounded(.down))) sequences at \(NumberFormat.percent(t.highKVUsage)) usage"]
        r.runtimeChange = ["max_num_seqs": String(clampedInt(nNew))]
        if let c = f.meanContext ?? f.aggregateEstimate?.decodeContext,
           let t0 = f.decodeStepRoofline(batch: n, context: c), let t1 = f.decodeStepRoofline(batch: nNew, context: c), t1 > 0 {
            r.gains[.throughput] = Gain(nNew / n * t0 / t1, "(N_new/N)·T(N)/T(N_new), decode steps on the roofline",
                                        ["N": n, "N_new": nNew, "c": c, "T(N)_s": t0, "T(N_new)_s": t1])
            r.confidence = 0.6
        } else {
            r.gains[.throughput] = Gain(nNew / n, "N_new/N (upper bound: step time assumed flat, memory-bound decode)", ["N": n, "N_new": nNew])
            r.confidence = 0.4
        }
        r.gains[.cost] = r.gains[.throughput]
        if let ttft = CapacityProjection.project(f, cap: nNew, label: "N_new")?.ttft { r.gains[.ttft] = ttft }
        r.caveats = ["a client concurrency cap (benchmark --max-concurrency) can be the ceiling instead: raise whichever is lower",
                     "TPOT grows with the batch; KV usage must stay below \(NumberFormat.percent(t.highKVUsage)) or preemptions start"]
        r.decide()
        return r
    }
}
