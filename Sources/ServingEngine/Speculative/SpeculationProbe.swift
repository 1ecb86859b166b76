import TraceFormat
import Tracing

/// What speculative decoding would cost and win on this model and host, measured before the user
/// turns it on: a short draft-vs-target run on the workload's own first prompts (issue #14: an
/// assumed acceptance α = 0.7 predicted ×1.4–×1.8 where the runtime's self-draft measured
/// ×0.1–×0.4). Recorded in the trace header as `probe.spec.*` so the analyzer can price
/// speculation (rule R4) on measured numbers instead of assumptions.
public struct SpeculationProbeResult: Sendable, Equatable {
    /// The draft strategy probed (`--spec` spelling) and its fixed draft length γ.
    public var strategy: String
    public var gamma: Int
    /// Per-token acceptance α: accepted / (accepted + first rejections) (``SpeculationStats/alpha``).
    public var alpha: Double
    /// Draft tokens proposed (the sample size behind α).
    public var draftedTokens: Int
    /// One draft step over one plain decode step (forward + sampling), both at batch 1: c.
    public var draftCostRatio: Double
    /// One verification step (γ + 1 tokens of one sequence, forward + verification) over one plain
    /// decode step, at batch 1.
    public var verifyCostRatio: Double
    /// A plain decode step at batch 1, seconds.
    public var decodeStepSeconds: Double

    public init(strategy: String, gamma: Int, alpha: Double, draftedTokens: Int, draftCostRatio: Double,
                verifyCostRatio: Double, decodeStepSeconds: Double) {
        self.strategy = strategy
        self.gamma = gamma
        self.alpha = alpha
        self.draftedTokens = draftedTokens
        self.draftCostRatio = draftCostRatio
        self.verifyCostRatio = verifyCostRatio
        self.decodeStepSeconds = decodeStepSeconds
    }

    /// The header options this result is recorded as (`probe.spec.*`, 4 significant digits).
    public var headerOptions: [String: String] {
        func g(_ v: Double) -> String { formatNumber((v * 1e4).rounded() / 1e4) }
        return ["probe.spec.strategy": strategy, "probe.spec.gamma": String(gamma), "probe.spec.alpha": g(alpha),
                "probe.spec.drafted_tokens": String(draftedTokens), "probe.spec.draft_cost_ratio": g(draftCostRatio),
                "probe.spec.verify_cost_ratio": g(verifyCostRatio),
                "probe.spec.decode_step_us": formatNumber((decodeStepSeconds * 1e7).rounded() / 10)]
    }
}

extension ServingEngine {
    /// Runs the speculation probe and keeps its result for the header (``speculationProbe``):
    /// the first `requests` requests of `workload` (prompts cut to `promptTokens`, outputs to
    /// `outputTokens`), one at a time, once without and once with `strategy` at draft length
    /// `gamma`, untraced, on this engine's model, threads and sampling. Skipped (nil) when this
    /// run already speculates, runs disaggregated (no speculation there), or the drafter cannot
    /// be built. Cost ≈ 2 × requests × outputTokens decode steps plus the draft rounds:
    /// ≈ 0.3 s for stories15m, ≈ 3 s for stories110m on 2 cores.
    @discardableResult
    public func probeSpeculation(_ workload: Workload, strategy: DraftStrategy = .quantized, gamma: Int = 3,
                                 requests: Int = 2, promptTokens: Int = 64, outputTokens: Int = 24) -> SpeculationProbeResult? {
        guard options.speculation == nil, !options.disaggregated, !workload.requests.isEmpty else { return nil }
        let c = model.weights.config
        var picked: [WorkloadRequest] = []
        for r in workload.requests.prefix(requests) {
            var p = WorkloadRequest(promptTokens: r.promptTokens.map { Array($0.prefix(promptTokens)) },
                                    promptLength: min(r.promptLength, promptTokens), text: r.text,
                                    outputTokens: min(r.outputTokens, outputTokens), prefixGroup: r.prefixGroup,
                                    prefixLength: min(r.prefixLength, promptTokens))
            p.outputTokens = max(p.outputTokens, gamma + 2)
            p.maxOutputTokens = p.outputTokens
            picked.append(p)
        }
        let probeWorkload = Workload(name: workload.name, requests: picked, arrival: .closedLoop(concurrency: 1),
                                     parameters: workload.parameters)
        var base = options
        base.policy = .continuous
        base.layout = .paged
        base.prefixCaching = false
        base.maxNumSeqs = 1
        base.preemption = .recompute
        let perSequence = (promptTokens + outputTokens + gamma + 64) / base.blockSize + 2
        base.capacity = .blocks(min(perSequence, max(2, c.maxSeqLen / base.blockSize + 2)))
        var spec = base
        spec.speculation = SpeculationConfig(strategy: strategy, draftLength: .fixed(gamma))
        let plain: RunResult, speculative: RunResult
        do {
            plain = try ServingEngine(model: model, options: base, tracer: .disabled).run(probeWorkload)
            speculative = try ServingEngine(model: model, options: spec, tracer: .disabled).run(probeWorkload)
        } catch {
            return nil
        }
        guard let stats = speculative.speculation, stats.draftSteps > 0, stats.draftedTokens > 0,
              let decodeSteps = plain.forwardStepsByPhase[.decode], decodeSteps > 0,
              let verifySteps = speculative.forwardStepsByPhase[.verify], verifySteps > 0 else { return nil }
        // Sampling time is charged per forward step to both step kinds.
        func perStep(_ r: RunResult, _ phase: Phase, _ steps: Int) -> Double {
            let sample = Double(r.phaseTime[.sample] ?? 0) / Double(max(1, r.forwardSteps))
            return (Double(r.phaseTime[phase] ?? 0) / Double(steps) + sample) / 1e9
        }
        let decode = perStep(plain, .decode, decodeSteps)
        let verify = perStep(speculative, .verify, verifySteps)
        let draft = Double(stats.draftNanos) / Double(stats.draftSteps) / 1e9
        guard decode > 0 else { return nil }
        let result = SpeculationProbeResult(strategy: strategy.description, gamma: gamma, alpha: stats.alpha,
                                            draftedTokens: stats.draftedTokens, draftCostRatio: draft / decode,
                                            verifyCostRatio: verify / decode, decodeStepSeconds: decode)
        speculationProbe = result
        return result
    }
}
