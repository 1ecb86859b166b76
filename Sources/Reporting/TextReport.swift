import Analysis
import TraceFormat

/// The human-readable report: verdict first, then the evidence, then the ranked recommendations,
/// then the what-if projection and what could not be concluded. Deterministic (fixed number
/// formats, sorted keys).
public enum TextReport {
    public static func render(_ r: AnalysisResult) -> String {
        var out: [String] = []
        let hw = r.hardware.map { "\($0.name) [\($0.origin)]" } ?? "unknown hardware"
        out.append("InferScope analysis: \(r.header.model.name) (\(r.header.model.weightType) weights, \(r.header.model.kvType) KV) on \(hw)")
        out.append("trace: \(r.header.producer), workload \(r.header.workload.name)")
        if let h = r.hardware { out.append("hardware peaks: \(h.source)") }
        out.append("")
        verdict(r, &out)
        evidence(r, &out)
        recommendations(r, &out)
        if let w = r.whatIf { whatIf(w, &out) }
        if let c = r.cost { out.append("COST"); cost(c, &out); out.append("") }
        if !r.cannotConclude.isEmpty {
            out.append("CANNOT CONCLUDE")
            for line in r.cannotConclude { out.append("  - \(line)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    // MARK: sections

    static func verdict(_ r: AnalysisResult, _ out: inout [String]) {
        let v = r.verdict
        out.append("VERDICT")
        out.append("  workload: \(v.workload.rawValue)\(evidenceList(v.workloadEvidence))")
        for p in v.phases {
            out.append("  \(p.phase.rawValue): \(p.bound.rawValue)\(evidenceList(p.evidence))")
            if let n = p.note { out.append("    note: \(n)") }
        }
        if v.phases.isEmpty { out.append("  phases: unknown (no hardware spec or no forward spans with cost)") }
        let cap = v.capacityBound.map { $0 ? "yes" : "no" } ?? "unknown"
        out.append("  capacity-bound: \(cap)\(evidenceList(v.capacityEvidence))")
        if let x = v.sloCrossCheck {
            out.append("  SLO: \(x)\(v.missedSLOs.isEmpty ? "" : " (missed at p99: \(v.missedSLOs.joined(separator: ", ")))")")
        }
        out.append("")
    }

    static func evidenceList(_ e: [Evidence]) -> String {
        guard !e.isEmpty else { return "" }
        return "  [" + e.map { "\($0.name) \(num($0.value)) \($0.holds ? $0.relation : negate($0.relation)) \(num($0.threshold))" }
            .joined(separator: "; ") + "]"
    }

    static func negate(_ relation: String) -> String {
        switch relation {
        case "≥": return "<"
        case ">": return "≤"
        case "<": return "≥"
        default: return ">"
        }
    }

    static func evidence(_ r: AnalysisResult, _ out: inout [String]) {
        let m = r.metrics
        out.append("EVIDENCE")
        out.append("  requests: \(m.requests.arrived) arrived, \(m.requests.completed) completed, \(m.requests.aborted) aborted over \(num(m.duration)) s")
        out.append("  latency (ms; percentiles by linear interpolation as numpy)")
        out.append("    " + pad("metric", 26) + pad("n", 8, right: true) + pad("mean", 10, right: true) + pad("p50", 10, right: true)
                   + pad("p90", 10, right: true) + pad("p95", 10, right: true) + pad("p99", 10, right: true))
        let rows: [(String, Distribution?)] = [("TTFT", m.ttft), ("TPOT (vLLM; AIPerf ITL)", m.tpot),
                                               ("ITL (vLLM, per chunk)", m.itl), ("E2E", m.e2e), ("queueing delay", m.queue)]
        for (name, d) in rows {
            guard let d else { out.append("    " + pad(name, 26) + "     n/a"); continue }
            out.append("    " + pad(name, 26) + pad(String(d.count), 8, right: true)
                       + [d.mean, d.p50, d.p90, d.p95, d.p99].map { pad(fixed($0 * 1e3, 2), 10, right: true) }.joined())
        }
        let t = m.throughput
        out.append("  throughput: \(fixed(t.outputTokensPerSecond, 1)) output tok/s, \(fixed(t.inputTokensPerSecond, 1)) input tok/s, \(fixed(t.totalTokensPerSecond, 1)) total tok/s, \(fixed(t.requestsPerSecond, 3)) req/s")
        if let g = m.goodput {
            out.append("  goodput: \(fixed(g.requestsPerSecond, 3)) req/s (\(g.goodRequests) good, attainment \(fixed(g.attainment * 100, 1))%)")
        }
        let p = m.phases
        let shares = Phase.allCases.filter { (p.seconds[$0] ?? 0) > 0 }.map { "\($0.rawValue) \(fixed(p.share($0) * 100, 1))%" }
        out.append("  time shares: " + (shares + ["gaps \(fixed(p.totalSeconds > 0 ? p.gapSeconds / p.totalSeconds * 100 : 0, 1))%"]).joined(separator: ", "))
        out.append("  busy time: prefill \(fixed(p.prefillShareOfBusy * 100, 1))%, decode \(fixed(p.decodeShareOfBusy * 100, 1))% (mixed split: \(p.mixedSplitMethod))")
        if let b = m.batch.sizes {
            out.append("  decode batch: mean \(fixed(m.batch.timeWeightedMean ?? b.mean, 1)) (time-weighted), p50 \(num(b.p50)), max \(num(b.max)); mean context \(fixed(m.batch.meanContext ?? 0, 0)) tokens")
        }
        for k in m.kv {
            var line = "  KV pool \(k.pool): usage mean \(pct(k.meanUsage)), p95 \(pct(k.p95Usage)), peak \(pct(k.peakUsage)), time ≥ \(pct(k.highUsageThreshold)) \(pct(k.timeAtHighUsage))"
            if let u = k.tokenUtilisation { line += "; token-state utilisation \(pct(u))" }
            if let s = k.lastBlockSlack { line += ", last-block slack \(pct(s))" }
            if let w = k.reservationWaste { line += ", reservation waste \(pct(w))" }
            out.append(line)
        }
        if m.preemptions.total > 0 || !m.preemptions.transfers.isEmpty {
            let reasons = m.preemptions.byReason.keys.sorted().map { "\($0) \(m.preemptions.byReason[$0]!)" }.joined(separator: ", ")
            out.append("  preemptions: \(m.preemptions.total) (\(reasons)), \(fixed(m.preemptions.perSecond, 3))/s")
            for kind in m.preemptions.transfers.keys.sorted() {
                let t = m.preemptions.transfers[kind]!
                out.append("    \(kind): \(t.count) transfers, \(t.bytes) bytes, \(num(t.seconds)) s")
            }
        }
        let pre = m.prefix
        out.append("  prefix cache: measured hit rate \(pre.measuredHitRate.map(pct) ?? "unknown"), potential \(pre.potentialHitRate.map(pct) ?? "unknown")\(pre.potentialSource.map { " (\($0))" } ?? "")")
        if let s = m.speculation {
            out.append("  speculation: γ \(s.gamma), α \(fixed(s.alpha, 3)), mean accepted length \(fixed(s.meanAcceptedLength, 3)), acceptance rate (vLLM) \(pct(s.acceptanceRate)), c \(s.costRatio.map { fixed($0, 3) } ?? "unknown")")
            if !s.perPosition.isEmpty {
                out.append("    per-position acceptance: " + s.perPosition.map { fixed($0, 3) }.joined(separator: " "))
            }
        }
        let i = m.interference
        if let c = i.cleanGaps {
            var line = "  interference: clean gap median \(fixed(c.p50 * 1e3, 2)) ms (n \(c.count))"
            if let d = i.contaminatedGaps { line += ", contaminated median \(fixed(d.p50 * 1e3, 2)) ms (n \(d.count))" }
            if let ratio = i.ratio { line += ", R_int \(fixed(ratio, 2))" }
            if let s = i.stallShare { line += ", stall share \(pct(s))" }
            out.append(line)
        }
        if m.staticBatching.detected {
            out.append("  static batching: \(m.staticBatching.formations) batches, slot utilisation \(m.staticBatching.slotUtilisation.map(pct) ?? "unknown"), padding waste \(m.staticBatching.paddingWaste.map(pct) ?? "unknown")")
        }
        if let roof = r.roofline {
            out.append("  roofline on \(roof.hardware.name): peak \(num(roof.peakFLOPS / 1e12)) TFLOP/s (\(roof.dtype)), \(num(roof.bandwidth / 1e9)) GB/s, ridge I* \(fixed(roof.ridge, 1)) FLOP/byte")
            out.append("    " + pad("phase", 10) + pad("steps", 8, right: true) + pad("mean ms", 10, right: true) + pad("AI", 10, right: true)
                       + pad("MFU", 8, right: true) + pad("MBU", 8, right: true) + pad("roof ms", 10, right: true) + "  cost from")
            for ph in roof.phases {
                let n = Double(max(1, ph.steps))
                out.append("    " + pad(ph.phase.rawValue, 10) + pad(String(ph.steps), 8, right: true)
                           + pad(fixed(ph.seconds / n * 1e3, 3), 10, right: true) + pad(fixed(ph.intensity, 1), 10, right: true)
                           + pad(fixed(ph.mfu, 3), 8, right: true) + pad(fixed(ph.mbu, 3), 8, right: true)
                           + pad(fixed(ph.rooflineSeconds / n * 1e3, 3), 10, right: true) + "  \(ph.costSource)")
            }
            var line = "    critical batch: weights-only \(fixed(roof.criticalBatchWeightsOnly, 1))"
            if let c = roof.meanContext {
                line += ", B_crit(c=\(fixed(c, 0))) " + (roof.criticalBatch.map { fixed($0, 1) } ?? "none (no batch reaches the compute roof)")
            }
            line += ", c* " + (roof.computeBoundContext.map { fixed($0, 0) + " tokens" } ?? "unbounded")
            out.append(line)
            if let f5 = roof.kvByteShare { out.append("    KV share of decode bytes F5 \(fixed(f5, 3))") }
            if let cap = roof.kvCapacityTokens { out.append("    KV capacity \(fixed(cap, 0)) tokens (\(roof.kvCapacitySource ?? ""))") }
        }
        out.append("")
    }

    static func recommendations(_ r: AnalysisResult, _ out: inout [String]) {
        let o = r.ranking.objective
        out.append("RECOMMENDATIONS for \(o.rawValue) (score = gain × confidence; greedy re-ranking, 3 rounds)")
        if r.ranking.entries.isEmpty { out.append("  none of R1–R11 predicts a gain on \(o.rawValue)") }
        let byID = Dictionary(uniqueKeysWithValues: r.recommendations.map { ($0.id, $0) })
        for e in r.ranking.entries {
            let rec = byID[e.id]!
            out.append("  \(e.rank). \(e.id) \(rec.title): ×\(fixed(e.gain.factor, 2)) \(o.rawValue), confidence \(fixed(e.confidence, 1)), score \(fixed(e.score, 2))\(e.round.map { " (round \($0))" } ?? "")")
            out.append("     gain: \(e.gain.formula)" + inputs(e.gain.inputs))
            for c in rec.conditions { out.append("     trigger: \(c.name) \(num(c.value)) \(c.holds ? c.relation : negate(c.relation)) \(num(c.threshold))") }
            for line in rec.evidence { out.append("     evidence: \(line)") }
            if let rc = rec.runtimeChange {
                out.append("     runtime: " + rc.keys.sorted().map { "\($0)=\(rc[$0]!)" }.joined(separator: " "))
            }
            for c in rec.caveats { out.append("     caveat: \(c)") }
            if let d = rec.disagreement { out.append("     literature disagrees: \(d)") }
        }
        let ranked = Set(r.ranking.entries.map(\.id))
        let otherTriggered = r.recommendations.filter { $0.status == .triggered && !ranked.contains($0.id) }
        if !otherTriggered.isEmpty {
            out.append("  also triggered, no predicted gain on \(o.rawValue): "
                       + otherTriggered.map { rec in
                           let best = rec.gains.keys.sorted { $0.rawValue < $1.rawValue }.filter { rec.gains[$0]!.factor > 1 }
                               .map { "\($0.rawValue) ×\(fixed(rec.gains[$0]!.factor, 2))" }
                           return "\(rec.id) (\(best.isEmpty ? "no gain" : best.joined(separator: ", ")))"
                       }.joined(separator: "; "))
        }
        let not = r.recommendations.filter { $0.status == .notTriggered }
        if !not.isEmpty {
            out.append("  not triggered:")
            for rec in not {
                let failed = rec.conditions.filter { !$0.holds }.map { "\($0.name) \(num($0.value)) \(negate($0.relation)) \(num($0.threshold))" }
                out.append("    \(rec.id) \(rec.key): " + (failed.first ?? "conditions not met"))
            }
        }
        let insufficient = r.recommendations.filter { $0.status == .insufficientData }
        if !insufficient.isEmpty {
            out.append("  insufficient data:")
            for rec in insufficient { out.append("    \(rec.id) \(rec.key): needs \(rec.missing.joined(separator: "; "))") }
        }
        out.append("")
    }

    static func whatIf(_ w: WhatIfProjection, _ out: inout [String]) {
        out.append("WHAT-IF on \(w.target.name) (roofline projection from \(w.source))")
        for p in w.phases {
            out.append("  \(pad(p.phase.rawValue, 8)) step \(fixed(p.measuredStep * 1e3, 3)) ms -> \(fixed(p.projectedStep * 1e3, 3)) ms (×\(fixed(p.scale, 3)))")
        }
        if let a = w.ttftMeasured, let b = w.ttftProjected { out.append("  TTFT mean \(fixed(a * 1e3, 2)) ms -> \(fixed(b * 1e3, 2)) ms") }
        if let a = w.tpotMeasured, let b = w.tpotProjected { out.append("  TPOT mean \(fixed(a * 1e3, 3)) ms -> \(fixed(b * 1e3, 3)) ms") }
        out.append("  output throughput \(fixed(w.outputTokensPerSecondMeasured, 1)) -> \(fixed(w.outputTokensPerSecondProjected, 1)) tok/s")
        if let c = w.cost { cost(c, &out) }
        for c in w.caveats { out.append("  caveat: \(c)") }
        out.append("")
    }

    static func cost(_ c: CostEstimate, _ out: inout [String]) {
        out.append("  at $\(fixed(c.pricePerHour, 2))/hour: $\(c.usdPerMillionInputTokens.map { fixed($0, 4) } ?? "n/a") per 1M input tokens, $\(c.usdPerMillionOutputTokens.map { fixed($0, 4) } ?? "n/a") per 1M output tokens, $\(c.usdPerMillionTokens.map { fixed($0, 4) } ?? "n/a") per 1M tokens (wall time split by prefill/decode busy share)")
    }

    // MARK: formatting

    static func fixed(_ x: Double, _ decimals: Int) -> String { NumberFormat.fixed(x, decimals: decimals) }
    static func pct(_ x: Double) -> String { NumberFormat.fixed(x * 100, decimals: 1) + "%" }
    static func num(_ x: Double) -> String {
        if x.isInfinite { return x > 0 ? "∞" : "-∞" }
        return NumberFormat.json(x)
    }
    static func inputs(_ d: [String: Double]) -> String {
        d.isEmpty ? "" : " with " + d.keys.sorted().map { "\($0)=\(num(d[$0]!))" }.joined(separator: ", ")
    }
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let n = s.count
        if n >= width { return right ? " " + s : s + " " }
        let space = String(repeating: " ", count: width - n)
        return right ? space + s : s + space
    }
}
