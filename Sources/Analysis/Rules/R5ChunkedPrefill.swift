/// R5 — chunked prefill / token budget (methodology §6.2, §6.4, §7.4).
/// Trigger: (ITL SLO missed with contaminated share of violations ≥ 0.5) OR R_int ≥ 2.
/// Gain: p99 ITL down to ≈ clean median + b_p·chunk, chunk = (target − clean)/b_p (≥ I*).
public struct R5ChunkedPrefill: Rule {
    public let id = "R5"
    public init() {}

    /// b_p (seconds per prefill token): from the step-time fit, else 2·N_lin/(P·MFU_assumed).
    static func perPrefillToken(_ f: Features) -> (value: Double, measured: Bool)? {
        if let m = f.stepModel, m.perPrefillToken > 0 { return (m.perPrefillToken, true) }
        if let p = f.peakFLOPS { return (2 * f.model.activeLinearParameters / (p * f.assumptions.prefillMFU), false) }
        return nil
    }

    public func evaluate(_ f: Features) -> Recommendation {
        var r = Recommendation(id: id, key: "chunked-prefill", title: "Chunk prefills under a token budget (stall-free batching)",
                               literature: ["Sarathi-Serve: 2.6x capacity (Mistral-7B, A100), 3.7x (Yi-34B), up to 5.6x (Falcon-180B PP) at fixed P99 TBT"])
        r.disagreement = "§7.6(1): Sarathi-Serve argues chunked hybrid batches give low TBT and high throughput; DistServe argues residual interference and KV re-reads remain and prefers disaggregation; Dynamo finds disaggregation useless at low load. We try chunking first (R5 before R6)."
        guard let ratio = f.interferenceRatio, let clean = f.cleanMedianITL, let p99 = f.p99["itl"] else {
            r.missing.append("token events and prefill-carrying step spans on the decode lane (to label gaps clean/contaminated, R_int)")
            r.decide(); return r
        }
        let sloMiss = f.slo.itl.map { p99 > $0 } ?? false
        let share = f.contaminatedViolationShare ?? 0
        let a = Evidence("ITL SLO missed with contaminated share of violations ≥ \(fmt(f.thresholds.contaminatedViolationShare)) (1 = yes)",
                         (sloMiss && share >= f.thresholds.contaminatedViolationShare) ? 1 : 0, "≥", 1, unit: .flag)
        let b = Evidence("R_int = median contaminated gap / median clean gap", ratio, "≥", f.thresholds.interferenceRatio)
        r.conditions.append(Evidence("either of: \(a.name); R_int ≥ \(fmt(f.thresholds.interferenceRatio)) (1 = yes)",
                                     (a.holds || b.holds) ? 1 : 0, "≥", 1, unit: .flag))
        let total = f.cleanGapCount + f.contaminatedGapCount
        r.conditions.append(Evidence("contaminated share of token gaps", total > 0 ? Double(f.contaminatedGapCount) / Double(total) : 0,
                                     "≥", f.thresholds.minContaminatedShare, unit: .share))
        r.evidence = ["R_int = \(fmt(ratio))", "clean median gap \(fmt(clean * 1e3)) ms, p99 ITL \(fmt(p99 * 1e3)) ms"]
        if f.contaminatedViolationShare != nil { r.evidence.append("contaminated share of ITL-SLO violations = \(fmt(share))") }
        guard let fitted = Self.perPrefillToken(f) else {
            r.missing.append("a step-time fit or a hardware peak (to size the token budget)")
            r.decide(); return r
        }
        let bp = fitted.value
        let target = f.slo.itl ?? f.slo.tpot ?? 2 * clean
        var chunk = min(max(0, (target - clean) / bp), 1_048_576)
        var note: String?
        if let ridge = f.ridge, chunk < ridge {
            chunk = ridge
            note = "chunk raised to I* = \(fmt(ridge)) tokens so chunks stay compute-efficient; the target is then not met"
        }
        let batch = f.meanBatch ?? 0
        let budget = max(64, ((chunk + batch) / 64).rounded() * 64)
        // The runtime is told a budget rounded to 64 tokens, at least 64. Rounding to the nearest
        // multiple is unbiased; the 64-token floor is not: below it the prefill chunk actually run
        // is what the decodes leave of 64, so predict for that chunk.
        let runChunk = budget <= 64 ? max(chunk, budget - batch) : chunk
        let predicted = clean + bp * runChunk
        r.runtimeChange = ["scheduler": "chunked", "token_budget": String(clampedInt(budget))]
        let inputs = ["b_p_s_per_token": bp, "clean_median_s": clean, "target_s": target, "chunk_tokens": chunk,
                      "budget_tokens": budget, "decodes": batch, "p99_ITL_s": p99]
        r.gains[.itl] = Gain(p99 / predicted, "p99 ITL / (clean median + b_p·chunk_run), chunk = (target − clean)/b_p, chunk_run = max(chunk, 64 − decodes) at the 64-token budget floor", inputs)
        if let cm = f.cleanMeanITL, let dm = f.contaminatedMeanITL {
            let n = Double(f.cleanGapCount + f.contaminatedGapCount)
            let old = (Double(f.cleanGapCount) * cm + Double(f.contaminatedGapCount) * dm) / n
            let new = (Double(f.cleanGapCount) * cm + Double(f.contaminatedGapCount) * min(dm, predicted)) / n
            r.gains[.tpot] = Gain(old / new, "mean gap / mean gap with contaminated gaps capped at the predicted ITL",
                                  ["clean_mean_s": cm, "contaminated_mean_s": dm, "predicted_s": predicted])
        }
        r.evidence.append("token budget ≈ \(clampedInt(budget)) (chunk \(fmt(chunk)) + \(fmt(batch)) decodes; b_p = \(fmt(bp * 1e6)) µs/token, \(fitted.measured ? "fitted" : "assumed MFU \(fmt(f.assumptions.prefillMFU))"))")
        if let note { r.caveats.append(note) }
        r.confidence = fitted.measured ? 1.0 : 0.6
        r.caveats += ["TTFT rises: each prompt now takes several iterations", "throughput roughly unchanged; small chunks re-read weights and KV"]
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        if let gain = r.gains[.itl], let p = f.p99["itl"] { g.p99["itl"] = p / gain.factor }
        g.interferenceRatio = 1
        g.contaminatedViolationShare = 0
        g.contaminatedMeanITL = f.cleanMeanITL
        g.missedSLOs.removeAll { $0 == "itl" }
        return g
    }
}
