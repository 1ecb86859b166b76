import TraceFormat

/// R4 — speculative decoding (methodology §3, §7.4).
/// Trigger: decode-bound; decode memory-bound; B·(γ+1) ≤ B_crit(c); α measured (trace counters or
/// the runtime's speculation probe); α > c; S(B) ≥ 1.2.
/// Gain: S(B) = τ·T_t(B,1)/(γ·c·T_t(B,1) + T_t(B,γ+1)) (§3.3), the step ratio from the probe's
/// measured verification cost when recorded, else from roofline step times.
public struct R4SpeculativeDecoding: Rule {
    public let id = "R4"
    public init() {}

    public func evaluate(_ f: Features) -> Recommendation {
        let a = f.assumptions
        // The trace's own speculation counters win; else the runtime's probe of the strategy this
        // rule would switch on (`probe.spec.*`, measured on the run's first prompts before it).
        let strategy = f.options["spec"] ?? "quant"
        let probe = f.alpha == nil && f.ownRuntime ? f.probedSpeculation.flatMap { $0.strategy == strategy ? $0 : nil } : nil
        let measured = (f.alpha != nil && f.draftCostRatio != nil) || probe != nil
        let alpha = f.alpha ?? probe?.alpha ?? a.alpha
        let gamma = f.gamma ?? a.gamma
        // InferScope's runtime can self-draft with its own weights re-quantized to q4_0 (`spec=quant`):
        // a memory-bound draft step then costs ≈ 0.5625/b_w of the target's.
        let quantDraft = f.ownRuntime && f.draftCostRatio == nil && probe == nil && f.model.bytesPerWeight > 0.5625
        let c = f.draftCostRatio ?? probe?.draftCostRatio ?? (quantDraft ? 0.5625 / f.model.bytesPerWeight : a.draftCostRatio)
        var r = Recommendation(id: id, key: "speculative-decoding",
                               title: f.speculationActive ? "Tune speculative decoding (γ = \(gamma))" : "Enable speculative decoding (γ = \(gamma))",
                               runtimeChange: ["spec": f.ownRuntime ? (f.options["spec"] ?? "quant") : "draft:MODEL", "gamma": String(gamma)],
                               literature: ["Leviathan et al.: 2-3x (T5-XXL)", "MagicDec: up to 2x at batch 32-256, long context", "SmartSpec/TurboSpec: slowdowns at high load"])
        r.disagreement = "§7.6(2): SmartSpec/TurboSpec report slowdowns at high request rates, MagicDec speedups at batch 32-256 for long contexts; the B·(γ+1) ≤ B_crit(c) condition reconciles them."
        guard let b = f.meanBatch, let ctx = f.meanContext, f.hardware != nil else {
            r.missing.append(f.hardware == nil ? "a hardware spec (roofline step times)" : "decode steps with batch composition (B, c)")
            r.decide(); return r
        }
        r.conditions.append(Evidence("workload decode-bound (1 = yes)", f.workload == .decodeBound ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("decode memory-bound (1 = yes)", f.decodeBound == .memoryBound ? 1 : 0, "≥", 1, unit: .flag))
        let bcrit = f.criticalBatch ?? .infinity
        r.conditions.append(Evidence("B·(γ+1) vs B_crit(c) (∞ = none)", b * Double(gamma + 1), "≤", bcrit))
        // An assumed α never ranks: the matrix (issue #14, agent-no-spec) measured ×0.10–×0.42 where
        // α = 0.7 was assumed and the self-draft's real α was 0.02. The gain below is still
        // computed (a what-if at the assumed α), but R4 fires only on an acceptance the trace
        // measured (speculation counters: InferScope's runtime, vLLM/SGLang accepted/drafted, mean
        // accepted length).
        let alphaKnown = f.alpha != nil || probe != nil
        r.conditions.append(Evidence("α measured, in the trace or by the speculation probe (1 = yes\(alphaKnown ? "" : "; else assumed \(fmt(alpha))"))",
                                     alphaKnown ? 1 : 0, "≥", 1, unit: .flag))
        r.conditions.append(Evidence("α vs c", alpha, ">", c))
        let t1 = f.decodeStepRoofline(batch: b, context: ctx)!
        let tv = f.decodeStepRoofline(batch: b, context: ctx, tokensPerSequence: gamma + 1)!
        let tau = Speculation.tau(alpha: alpha, gamma: gamma)
        // The verification step's cost in decode steps (a CPU's γ+1 rows cost far more than the
        // memory-bound roofline's ×1): best the probed step curve at B and B·(γ+1) rows (it sees
        // the kernels' batch behaviour); else the speculation probe's batch-1 points carried to B
        // linearly (``ProbedSpeculation/verifyStepRatio``); else the roofline.
        let curveRatio = f.decodeStepMeasured(batch: b, context: ctx, tokensPerSequence: gamma + 1)
            .flatMap { v in f.decodeStepMeasured(batch: b, context: ctx).map { v / $0 } }
        let verifyRatio = curveRatio ?? probe?.verifyStepRatio(batch: b, gamma: gamma) ?? tv / t1
        let s = Speculation.batchSpeedup(tau: tau, gamma: gamma, costRatio: c, targetStep: 1, verifyStep: verifyRatio)
        r.conditions.append(Evidence("predicted S(B)", s, "≥", f.thresholds.minSpeculationSpeedup))
        var inputs = ["alpha": alpha, "gamma": Double(gamma), "c": c, "tau": tau, "B": b, "ctx": ctx,
                      "T_t(B,γ+1)/T_t(B,1)": verifyRatio]
        if probe == nil && curveRatio == nil { inputs["T_t(B,1)_s"] = t1; inputs["T_t(B,γ+1)_s"] = tv }
        let ratioSource = curveRatio != nil ? "from the probed step curve" : probe != nil ? "measured by the speculation probe" : "from the roofline"
        let gain = Gain(s, "τ·T_t(B,1)/(γ·c·T_t(B,1) + T_t(B,γ+1)), τ = (1−α^(γ+1))/(1−α); step ratio " + ratioSource, inputs)
        r.gains[.tpot] = gain
        r.gains[.throughput] = f.decodeShare.map { Gain(amdahl(share: $0, factor: s), "Amdahl(decode share, S(B))", ["decode_share": $0, "S": s]) } ?? gain
        r.gains[.cost] = r.gains[.throughput]
        r.gains[.itl] = Gain(1 / (Double(gamma) * c + verifyRatio), "T_t(B,1)/(γ·c·T_t(B,1) + T_t(B,γ+1)): each chunk's gap grows; chunks carry τ tokens",
                             ["gamma": Double(gamma), "c": c, "T_t(B,γ+1)/T_t(B,1)": verifyRatio])
        let alphaSource = f.alpha != nil ? "measured" : probe.map { "probed on \($0.draftedTokens) draft tokens of the run's first prompts" } ?? "assumed"
        let cSource = f.draftCostRatio != nil ? "measured" : probe != nil ? "probed" : (quantDraft ? "q4_0 self-draft bytes ratio" : "assumed")
        r.evidence = ["α = \(fmt(alpha)) (\(alphaSource)), γ = \(gamma), c = \(fmt(c)) (\(cSource)), τ = \(fmt(tau))",
                      curveRatio != nil
                        ? "verify of \(gamma + 1) tokens × \(fmt(b)) sequences ≈ \(fmt(verifyRatio)) decode steps of \(fmt(b)) (probed step curve)"
                        : probe != nil
                        ? "verify of \(gamma + 1) tokens × \(fmt(b)) sequences ≈ \(fmt(verifyRatio)) plain decode steps (probe at batch 1: \(fmt(probe!.verifyCostRatio)) for \(probe!.gamma + 1) tokens)"
                        : "verify of \(gamma + 1) tokens × \(fmt(b)) sequences: roofline \(fmt(tv * 1e3)) ms vs decode \(fmt(t1 * 1e3)) ms"]
        r.confidence = f.alpha != nil && f.draftCostRatio != nil ? 1.0 : probe != nil ? 0.8 : 0.6
        r.caveats = ["per-chunk ITL does not improve (each chunk carries ≈τ tokens, the gap grows by ≈γ·c)", "prefill stalls remain"]
        if !measured { r.caveats.append("α and c are assumptions (draft model 0.6-0.8; n-gram drafts lower): measure them") }
        if f.alpha == nil && probe == nil {
            r.caveats.append("not advised until α is measured: profile a short run with --spec \(f.ownRuntime ? (f.options["spec"] ?? "quant") : "draft:MODEL") (or import a file with accepted/drafted counters) and analyze that")
        }
        if f.speculationActive {
            r.caveats.append("speculation is already enabled in this run; the gain is relative to no speculation")
        }
        r.decide()
        return r
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        g.speculationActive = true
        return g
    }
}
