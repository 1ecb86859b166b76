import Analysis
import TraceFormat

/// The human-readable report: verdict first, then the evidence, then the ranked recommendations,
/// then the what-if projection and what could not be concluded. Deterministic (sorted keys) with one
/// number rule: prose numbers have 3 significant digits (`NumberFormat.significant`), shares print
/// as percentages, durations and rates carry their unit; table columns keep fixed decimals so they
/// align. JSON (`AnalysisJSON`) keeps full precision.
public enum TextReport {
    public static func render(_ r: AnalysisResult) -> String {
        var out: [String] = []
        if let f = r.failures, f.mostFailed { out.append("FAILED: " + f.headline) }
        let hw = r.hardware.map { "\($0.name) [\($0.origin)]" } ?? "unknown hardware"
        out.append("InferScope analysis: \(r.header.model.name) (\(r.header.model.weightType) weights, \(r.header.model.kvType) KV) on \(hw)")
        out.append("trace: \(r.header.producer), workload \(r.header.workload.name)")
        if let file = r.header.options["import.source_file"] {
            out.append("imported from \(file)\(r.estimate == nil && r.aggregateEstimate == nil ? "" : "; numbers marked 'estimated' come from the file's request timings or aggregates and the catalog model/hardware, not from measured steps")")
        }
        if let h = r.hardware { out.append("hardware peaks: \(h.source)") }
        out.append("")
        verdict(r, &out)
        evidence(r, &out)
        recommendations(r, &out)
        if let w = r.whatIf { whatIf(w, &out) }
        if let c = r.cost { out.append("COST"); cost(c, &out); out.append("") }
        reported(r, &out)
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
        out.append("VERDICT" + (v.level.map { " (\($0.rawValue))" } ?? ""))
        let estimated = v.level.map { $0 == .measured ? "" : " (\($0.rawValue))" } ?? ""
        if let f = r.failures, !f.mostFailed { out.append("  failures: " + f.headline) }
        if v.workload != .unknown || v.requestTime == nil {
            out.append("  workload: \(v.workload.rawValue)\(estimated)\(evidenceList(v.workloadEvidence))"
                       + (v.workloadMissing.map { " — \($0)" } ?? ""))
        }
        if let k = v.kernelTime {
            let steps = k.steps.map { $0 > 0 ? ", \($0) profiler steps" : "" } ?? ""
            out.append("  GPU time: \(k.lead.rawValue) (measured kernel times, window \(NumberFormat.duration(k.windowSeconds))\(steps))\(evidenceList(k.evidence))")
            out.append("    " + k.shares.map { "\($0.name) \(pct($0.share))" }.joined(separator: ", "))
            out.append("    reading: \(k.reading)")
        }
        if let t = v.requestTime {
            out.append("  request time: \(t.dominant.rawValue) (\(t.level.rawValue))\(evidenceList(t.evidence))")
        }
        if let e = r.aggregateEstimate {
            out.append("  TTFT: \(e.ttftReading) (\(e.inputs.level.rawValue))")
            if let c = e.concurrency {
                out.append("  concurrency: \(num(c)) requests in flight (\(e.concurrencySource))" + (e.decodeBatch.map { "; decode batch \(num($0))" } ?? ""))
            }
        }
        for p in v.phases {
            out.append("  \(p.phase.rawValue): \(p.bound.rawValue)\(estimated)\(evidenceList(p.evidence))")
            if let n = p.note { out.append("    note: \(n)") }
        }
        if v.phases.isEmpty { out.append("  phases: unknown (no hardware spec or no forward spans with cost)") }
        let cap = v.capacityBound.map { $0 ? "yes" : "no" } ?? "unknown"
        out.append("  capacity-bound: \(cap)\(evidenceList(v.capacityEvidence))")
        if let a = v.admissionCap {
            out.append("  admission-capped: yes, the limit is max_num_seqs / max concurrency, not KV memory\(evidenceList(a))")
        }
        if let x = v.sloCrossCheck {
            out.append("  SLO: \(x)\(v.missedSLOs.isEmpty ? "" : " (missed at p99: \(v.missedSLOs.joined(separator: ", ")))")")
        }
        out.append("")
    }

    static func evidenceList(_ e: [Evidence]) -> String {
        guard !e.isEmpty else { return "" }
        return "  [" + e.map(comparison).joined(separator: "; ") + "]"
    }

    /// One evidence item with its unit: "idle share of engine time 0.533% < 30.0%"; a flag prints
    /// as "static batching detected: no (needs yes)".
    static func comparison(_ e: Evidence) -> String {
        if e.unit == .flag {
            var name = e.name
            if name.hasSuffix(" (1 = yes)") { name.removeLast(" (1 = yes)".count) }
            let wanted = e.relation == "<" || e.relation == "≤" ? "no" : "yes"
            return "\(name): \(e.unit.format(e.value))" + (e.holds ? "" : " (needs \(wanted))")
        }
        return "\(e.name) \(e.unit.format(e.value)) \(e.holds ? e.relation : negate(e.relation)) \(e.unit.format(e.threshold))"
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
        if m.requests.arrived == 0 {
            out.append("  requests: none in the trace (no latency percentiles or throughput)")
            if let line = aggregatesLine(r.aggregates) { out.append(line) }
        } else {
            out.append("  requests: \(m.requests.arrived) arrived, \(m.requests.completed) completed, \(m.requests.aborted) aborted over \(NumberFormat.duration(m.duration))")
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
            if r.header.options["import.arrivals"]?.hasPrefix("synthesized") == true {
                out.append("  throughput: not measured (the importer synthesized the arrival times)")
            } else {
                out.append("  throughput: \(num(t.outputTokensPerSecond)) output tok/s, \(num(t.inputTokensPerSecond)) input tok/s, \(num(t.totalTokensPerSecond)) total tok/s, \(num(t.requestsPerSecond)) req/s")
            }
            if let g = m.goodput {
                out.append("  goodput: \(num(g.requestsPerSecond)) req/s (\(g.goodRequests) good, attainment \(pct(g.attainment)))")
            }
        }
        let p = m.phases
        let shares = Phase.allCases.filter { (p.seconds[$0] ?? 0) > 0 }.map { "\($0.rawValue) \(pct(p.share($0)))" }
        if p.totalSeconds > 0 {
            out.append("  time shares: " + (shares + ["gaps \(pct(p.gapSeconds / p.totalSeconds))"]).joined(separator: ", "))
            out.append("  busy time: prefill \(pct(p.prefillShareOfBusy)), decode \(pct(p.decodeShareOfBusy)) (mixed split: \(p.mixedSplitMethod))")
        } else {
            out.append("  time shares: not measured (no step spans)")
        }
        if let b = m.batch.sizes {
            out.append("  decode batch: mean \(num(m.batch.timeWeightedMean ?? b.mean)) (time-weighted), p50 \(num(b.p50)), max \(num(b.max)); mean context \(num((m.batch.meanContext ?? 0).rounded())) tokens")
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
            out.append("  preemptions: \(m.preemptions.total) (\(reasons)), \(num(m.preemptions.perSecond))/s")
            for kind in m.preemptions.transfers.keys.sorted() {
                let t = m.preemptions.transfers[kind]!
                out.append("    \(kind): \(t.count) transfers, \(t.bytes) bytes, \(NumberFormat.duration(t.seconds))")
            }
        }
        let pre = m.prefix
        out.append("  prefix cache: measured hit rate \(pre.measuredHitRate.map(pct) ?? "unknown"), potential \(pre.potentialHitRate.map(pct) ?? "unknown")\(pre.potentialSource.map { " (\($0))" } ?? "")")
        if let s = m.speculation {
            out.append("  speculation: γ \(s.gamma), α \(num(s.alpha)), mean accepted length \(num(s.meanAcceptedLength)), acceptance rate (vLLM) \(pct(s.acceptanceRate)), c \(s.costRatio.map(num) ?? "unknown")")
            if !s.perPosition.isEmpty {
                out.append("    per-position acceptance: " + s.perPosition.map(num).joined(separator: " "))
            }
        }
        let i = m.interference
        if let c = i.cleanGaps, p.totalSeconds > 0 {
            var line = "  interference: clean gap median \(NumberFormat.duration(c.p50)) (n \(c.count))"
            if let d = i.contaminatedGaps { line += ", contaminated median \(NumberFormat.duration(d.p50)) (n \(d.count))" }
            if let ratio = i.ratio { line += ", R_int \(num(ratio))" }
            if let s = i.stallShare { line += ", stall share \(pct(s))" }
            out.append(line)
        }
        if m.staticBatching.detected {
            out.append("  static batching: \(m.staticBatching.formations) batches, slot utilisation \(m.staticBatching.slotUtilisation.map(pct) ?? "unknown"), padding waste \(m.staticBatching.paddingWaste.map(pct) ?? "unknown")")
        }
        if let e = r.estimate {
            out.append("  request-level estimate: decode batch \(num(e.meanDecodeBatch)) (Little's law: Σ decode time / duration), context \(num(e.meanContext.rounded())) tokens, step \(NumberFormat.duration(e.decodeStepSeconds)) (mean TPOT), idle \(pct(e.idleShare)) (no request in flight)")
        }
        if let roof = r.roofline {
            out.append("  roofline on \(roof.hardware.name): peak \(NumberFormat.si(roof.peakFLOPS, "FLOP/s")) (\(roof.dtype)), \(NumberFormat.si(roof.bandwidth, "B/s")), ridge I* \(num(roof.ridge)) FLOP/byte")
            if !roof.phases.isEmpty {
            out.append("    " + pad("phase", 10) + pad("steps", 8, right: true) + pad("mean ms", 10, right: true) + pad("AI", 10, right: true)
                       + pad("MFU", 8, right: true) + pad("MBU", 8, right: true) + pad("roof ms", 10, right: true) + "  cost from")
            for ph in roof.phases {
                let n = Double(max(1, ph.steps))
                out.append("    " + pad(ph.phase.rawValue, 10) + pad(String(ph.steps), 8, right: true)
                           + pad(fixed(ph.seconds / n * 1e3, 3), 10, right: true) + pad(fixed(ph.intensity, 1), 10, right: true)
                           + pad(pct(ph.mfu), 8, right: true) + pad(pct(ph.mbu), 8, right: true)
                           + pad(fixed(ph.rooflineSeconds / n * 1e3, 3), 10, right: true) + "  \(ph.costSource)")
            }
            }
            var line = "    critical batch: weights-only \(num(roof.criticalBatchWeightsOnly))"
            if let c = roof.meanContext {
                line += ", B_crit(c=\(fixed(c, 0))) " + (roof.criticalBatch.map(num) ?? "none (no batch reaches the compute roof)")
            }
            line += ", c* " + (roof.computeBoundContext.map { fixed($0, 0) + " tokens" } ?? "unbounded")
            out.append(line)
            if let f5 = roof.kvByteShare { out.append("    KV share of decode bytes F5 \(pct(f5))") }
            if let cap = roof.kvCapacityTokens { out.append("    KV capacity \(fixed(cap, 0)) tokens (\(roof.kvCapacitySource ?? ""))") }
        }
        out.append("")
    }

    /// The file's own aggregates the verdict used (`aggregate.*`), in one line; nil when none.
    static func aggregatesLine(_ a: AggregateSummary) -> String? {
        guard !a.isEmpty else { return nil }
        var parts: [String] = []
        func stat(_ name: String, _ s: AggregateSummary.Stat) {
            guard let c = s.central else { return }
            parts.append("\(name) \(s.mean != nil ? "mean" : "median") \(NumberFormat.duration(c))" + (s.p99.map { ", p99 \(NumberFormat.duration($0))" } ?? ""))
        }
        stat("TTFT", a.ttft); stat("TPOT", a.tpot); stat("ITL", a.itl); stat("E2E", a.e2e)
        if let x = a.inputTokensMean { parts.append("input \(num(x)) tokens") }
        if let x = a.outputTokensMean { parts.append("output \(num(x)) tokens") }
        if let n = a.completed { parts.append("\(n) completed") }
        if let n = a.failed, n > 0 { parts.append("\(n) failed") }
        if let d = a.durationSeconds { parts.append("duration \(NumberFormat.duration(d))") }
        if let x = a.requestThroughput { parts.append("\(num(x)) req/s") }
        if let x = a.outputThroughput { parts.append("\(num(x)) output tok/s") }
        if let x = a.requestRate { parts.append("request rate \(x.isInfinite ? "inf (all sent at t = 0)" : num(x))") }
        if let x = a.maxConcurrency { parts.append("max concurrency \(num(x))") }
        if let p = a.prefillWorkers, let d = a.decodeWorkers { parts.append("P:D \(p):\(d)") }
        guard !parts.isEmpty else { return nil }
        return "  aggregates (the file's own, used by the verdict): " + parts.joined(separator: "; ")
    }

    /// The imported file's own aggregates (header workload parameters `reported.<key>`), as the
    /// tool wrote them: shown, not recomputed, so a file with aggregates only still says something.
    static func reported(_ r: AnalysisResult, _ out: inout [String]) {
        let params = r.header.workload.parameters
        let keys = params.keys.filter { $0.hasPrefix("reported.") }.sorted()
        guard !keys.isEmpty else { return }
        out.append("AS REPORTED BY THE SOURCE FILE (its own aggregates and units; not recomputed)")
        var line = " "
        for k in keys {
            let item = " \(k.dropFirst("reported.".count))=\(params[k]!)"
            if line.count + item.count > 110 { out.append(line); line = " " }
            line += item
        }
        out.append(line)
        out.append("")
    }

    static func recommendations(_ r: AnalysisResult, _ out: inout [String]) {
        let o = r.ranking.objective
        out.append("RECOMMENDATIONS for \(o.rawValue) (score = gain × confidence; greedy re-ranking, 3 rounds)")
        if r.ranking.entries.isEmpty { out.append("  none of R1–R13 predicts a gain on \(o.rawValue)") }
        let byID = Dictionary(uniqueKeysWithValues: r.recommendations.map { ($0.id, $0) })
        for e in r.ranking.entries {
            let rec = byID[e.id]!
            out.append("  \(e.rank). \(e.id) \(rec.title): ×\(num(e.gain.factor)) \(o.rawValue), confidence \(num(e.confidence)), score \(num(e.score))\(e.round.map { " (round \($0))" } ?? "")")
            out.append("     gain: \(e.gain.formula)" + inputs(e.gain.inputs))
            for c in rec.conditions { out.append("     trigger: \(comparison(c))") }
            for line in rec.evidence { out.append("     evidence: \(line)") }
            if let rc = rec.runtimeChange {
                out.append("     runtime: " + rc.keys.sorted().map { "\($0)=\(rc[$0]!)" }.joined(separator: " "))
            }
            for c in rec.caveats { out.append("     caveat: \(c)") }
            if let d = rec.disagreement { out.append("     literature disagrees: \(d)") }
        }
        let ranked = Set(r.ranking.entries.map(\.id))
        let unranked = r.recommendations.filter { $0.status == .triggered && !ranked.contains($0.id) }
        // A fired rule with its own gain on the objective that the greedy re-ranking left out:
        // a pick above took the same headroom (R2 after R3 freed the KV pool).
        let superseded = unranked.filter { ($0.gains[o]?.factor ?? 0) > 1 }
        if !superseded.isEmpty {
            out.append("  also triggered, superseded by a pick above (no gain left once it is applied): "
                       + superseded.map { "\($0.id) (\(o.rawValue) ×\(num($0.gains[o]!.factor)) alone)" }.joined(separator: "; "))
        }
        let otherTriggered = unranked.filter { !(($0.gains[o]?.factor ?? 0) > 1) }
        if !otherTriggered.isEmpty {
            out.append("  also triggered, no predicted gain on \(o.rawValue): "
                       + otherTriggered.map { rec in
                           let best = rec.gains.keys.sorted { $0.rawValue < $1.rawValue }.filter { rec.gains[$0]!.factor > 1 }
                               .map { "\($0.rawValue) ×\(num(rec.gains[$0]!.factor))" }
                           return "\(rec.id) (\(best.isEmpty ? "no gain" : best.joined(separator: ", ")))"
                       }.joined(separator: "; "))
        }
        let not = r.recommendations.filter { $0.status == .notTriggered }
        if !not.isEmpty {
            out.append("  not triggered:")
            for rec in not {
                let failed = rec.conditions.filter { !$0.holds }.map(comparison)
                // A predicted loss on the objective is worth saying: it is why not to try it.
                let loss = rec.gains[o].flatMap { $0.isLoss ? "; predicted \(o.rawValue) ×\(num($0.factor)) (a loss)" : nil } ?? ""
                out.append("    \(rec.id) \(rec.key): " + (failed.first ?? "conditions not met") + loss)
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
            out.append("  \(pad(p.phase.rawValue, 8)) step \(NumberFormat.duration(p.measuredStep)) -> \(NumberFormat.duration(p.projectedStep)) (×\(num(p.scale)))")
        }
        if let a = w.ttftMeasured, let b = w.ttftProjected { out.append("  TTFT mean \(NumberFormat.duration(a)) -> \(NumberFormat.duration(b))") }
        if let a = w.tpotMeasured, let b = w.tpotProjected { out.append("  TPOT mean \(NumberFormat.duration(a)) -> \(NumberFormat.duration(b))") }
        out.append("  output throughput \(num(w.outputTokensPerSecondMeasured)) -> \(num(w.outputTokensPerSecondProjected)) tok/s")
        if let c = w.cost { cost(c, &out) }
        for c in w.caveats { out.append("  caveat: \(c)") }
        out.append("")
    }

    static func cost(_ c: CostEstimate, _ out: inout [String]) {
        out.append("  at $\(fixed(c.pricePerHour, 2))/hour: $\(c.usdPerMillionInputTokens.map { fixed($0, 4) } ?? "n/a") per 1M input tokens, $\(c.usdPerMillionOutputTokens.map { fixed($0, 4) } ?? "n/a") per 1M output tokens, $\(c.usdPerMillionTokens.map { fixed($0, 4) } ?? "n/a") per 1M tokens (wall time split by prefill/decode busy share)")
    }

    // MARK: formatting

    static func fixed(_ x: Double, _ decimals: Int) -> String { NumberFormat.fixed(x, decimals: decimals) }
    /// Shares as percentages, 3 significant digits (the report's one rule, `NumberFormat.significant`).
    static func pct(_ x: Double) -> String { NumberFormat.percent(x) }
    /// Any other printed number: 3 significant digits; JSON keeps full precision.
    static func num(_ x: Double) -> String { NumberFormat.significant(x) }
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
