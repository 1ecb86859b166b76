import TraceFormat

/// The verdict's numbers for a trace with requests but no step spans (an imported vLLM, SGLang,
/// AIPerf, LLMPerf or OTel file), estimated from the request timings and the catalog model and
/// hardware. Every figure says how it was obtained; nothing per-step is invented.
///
/// - Idle share (measured): 1 − (time with any request in flight)/duration.
/// - Mean decode batch B (Little's law, measured): Σ(E2E − TTFT)/duration.
/// - Mean decode context c (measured): decode-time-weighted mean of prompt + output/2.
/// - Decode step time (measured): mean TPOT; under continuous batching each running sequence
///   gains one token per engine step, so TPOT ≈ the step time (prefill interference included).
/// - Decode FLOPs/bytes per step: the shared cost model at (B, c) → MFU, MBU, intensity.
/// - Prefill FLOPs/bytes: the cost model per completed prompt (cached tokens attended, not
///   recomputed). Σ TTFT ≥ the prefill time (TTFT includes queueing), so prefill MFU is a lower bound.
/// - Prefill share of busy time (estimated): prefill roofline time / (prefill + decode roofline
///   time), both phases at their roofs — the one figure that assumes equal efficiency.
public struct RequestLevelEstimate: Sendable, Equatable {
    public var idleShare: Double
    public var meanDecodeBatch: Double
    public var meanContext: Double
    /// Mean TPOT, seconds.
    public var decodeStepSeconds: Double
    /// Decode steps = tokens after the first / B.
    public var decodeSteps: Double
    public var decode: PhaseRoofline
    public var prefill: PhaseRoofline
    /// Prefill roofline time / (prefill + decode roofline time).
    public var prefillShare: Double

    /// nil when the trace has no completed request with a first token and > 1 output token.
    public init?(metrics m: TraceMetrics, model: ModelDescriptor, hardware: HardwareSpec) {
        guard let t = m.timeline, m.duration > 0, t.decodeSeconds > 0, t.decodeTokens > 0, let tpot = m.tpot else { return nil }
        let peak = hardware.peak(for: model).flops, bw = hardware.memoryBandwidth
        idleShare = max(0, min(1, 1 - t.busySeconds / m.duration))
        meanDecodeBatch = t.decodeSeconds / m.duration
        meanContext = t.decodeContextSeconds / t.decodeSeconds
        decodeStepSeconds = tpot.mean
        decodeSteps = Double(t.decodeTokens) / max(meanDecodeBatch, 1e-12)
        let step = model.decodeStepCost(batch: meanDecodeBatch, context: meanContext)
        let stepRoof = rooflineSeconds(flops: step.flops, bytes: step.bytes, peakFLOPS: peak, bandwidth: bw)
        decode = PhaseRoofline(
            phase: .decode, steps: clampedInt(decodeSteps), seconds: decodeSteps * tpot.mean,
            flops: decodeSteps * step.flops, bytes: decodeSteps * step.bytes,
            intensity: step.bytes > 0 ? step.flops / step.bytes : 0,
            mfu: step.flops / (tpot.mean * peak), mbu: step.bytes / (tpot.mean * bw),
            rooflineSeconds: decodeSteps * stepRoof, stepsWithoutCost: 0,
            costSource: "estimate: steps at mean TPOT, B from Little's law")
        var flops = 0.0, bytes = 0.0, roof = 0.0
        for p in t.prefills where p.uncached > 0 {
            let c = model.forwardCost(batch: [BatchEntry(request: 0, prefillTokens: clamp32(p.uncached), decodeTokens: 0,
                                                         contextLength: clamp32(p.cached))], logitRows: 1)
            flops += c.flops
            bytes += c.bytes
            roof += rooflineSeconds(flops: c.flops, bytes: c.bytes, peakFLOPS: peak, bandwidth: bw)
        }
        prefill = PhaseRoofline(
            phase: .prefill, steps: t.prefills.count, seconds: t.ttftSeconds, flops: flops, bytes: bytes,
            intensity: bytes > 0 ? flops / bytes : 0,
            mfu: t.ttftSeconds > 0 ? flops / (t.ttftSeconds * peak) : 0, mbu: t.ttftSeconds > 0 ? bytes / (t.ttftSeconds * bw) : 0,
            rooflineSeconds: roof, stepsWithoutCost: 0,
            costSource: "estimate: one prompt per step, time = TTFT (upper bound)")
        let total = roof + decode.rooflineSeconds
        prefillShare = total > 0 ? roof / total : 0
    }

    /// The level-1 verdict from the estimate (methodology §7.3 thresholds).
    func workload(_ t: Thresholds) -> (WorkloadBound, [Evidence]) {
        let idle = Evidence("idle share of run time (no request in flight; measured)", idleShare, "≥", t.idleShare, unit: .share)
        let pre = Evidence("prefill share of roofline work (estimated: catalog model and hardware)", prefillShare, "≥",
                           t.prefillShare, unit: .share)
        return (idle.holds ? .loadOrOverheadBound : (pre.holds ? .prefillBound : .decodeBound), [idle, pre])
    }

    /// The phase verdicts: decode by the usual rule on the estimated step; prefill by its side of
    /// the ridge only (its MFU is a lower bound, so overhead-bound cannot be told apart).
    func phaseVerdicts(ridge: Double, _ t: Thresholds) -> [PhaseVerdict] {
        var d = Verdict.classify(decode, ridge: ridge, thresholds: t)
        d.note = (d.note.map { $0 + "; " } ?? "") + "estimated: no step spans; step = mean TPOT, batch \(fmt(meanDecodeBatch)) and context \(fmt(meanContext.rounded())) tokens from the request timings, bytes/FLOPs from the catalog model"
        let ai = Evidence("arithmetic intensity (FLOP/byte) vs ridge I*", prefill.intensity, "≥", ridge, unit: .flopPerByte)
        let mfu = Evidence("MFU lower bound (time = Σ TTFT, which includes queueing)", prefill.mfu, "≥", t.overheadUtilisation, unit: .share)
        let p = PhaseVerdict(phase: .prefill, bound: ai.holds ? .computeBound : .memoryBound, evidence: [ai, mfu],
                             note: "estimated: no step spans; FLOPs/bytes of each prompt from the catalog model; the ridge side decides")
        return [p, d]
    }
}

@inline(__always) private func clamp32(_ x: Int) -> Int32 { Int32(clamping: x) }
