import TraceFormat

/// Roofline quantities derived from the shared cost model (methodology §1.4–1.5). Everything
/// here is built on ``ModelDescriptor/forwardCost(batch:logitRows:)`` and its parts; no FLOP or
/// byte formula is restated.
extension ModelDescriptor {
    /// Matmul weights used per decoded token, N_mm = N_act + V·d (active linear layers + LM head;
    /// N_act = N_lin for a dense model).
    public var matmulParameters: Double { activeLinearParameters + embeddingParameters }

    /// Attention FLOPs per query token per attended key, 4·L·h·d_h (read off the cost model).
    public var attentionFLOPsPerContextToken: Double {
        forwardFLOPs(newTokens: 1, cachedTokens: 1, logitRows: 0) - forwardFLOPs(newTokens: 1, cachedTokens: 0, logitRows: 0)
    }

    /// Weight bytes one decode step streams (linear layers and LM head; the embedding rows
    /// gathered are counted per token by the cost model, excluded here).
    public var streamedWeightBytes: Double { weightBytesPerForward(tokens: 0, logitRows: 1) }

    /// One uniform decode (or verify) step: `batch` sequences (any non-negative real number, for
    /// projections), each with `context` cached tokens and `tokensPerSequence` new positions (1 for
    /// decode, γ+1 for verify). The cost model is affine in the number of identical sequences, so
    /// this evaluates it for one and two sequences and extrapolates. O(1).
    public func decodeStepCost(batch: Double, context: Double, tokensPerSequence: Int = 1) -> (flops: Double, bytes: Double) {
        let m = Int32(clamping: tokensPerSequence)
        let ctx = Int32(clamping: Int(min(max(0, context.rounded()), Double(Int32.max))))
        let e = BatchEntry(request: 0, prefillTokens: 0, decodeTokens: m, contextLength: ctx)
        let one = forwardCost(batch: [e], logitRows: Int(m))
        let two = forwardCost(batch: [e, e], logitRows: 2 * Int(m))
        let b = max(0, batch)
        // MoE expert bytes grow sublinearly with the tokens (distinct experts touched): take them
        // out of the affine extrapolation and add them at the batch's token count.
        let m1 = Double(m), e1 = expertWeightBytes(tokens: m1), e2 = expertWeightBytes(tokens: 2 * m1)
        let bytes = (one.bytes - e1) + (b - 1) * ((two.bytes - e2) - (one.bytes - e1)) + expertWeightBytes(tokens: b * m1)
        return (one.flops + (b - 1) * (two.flops - one.flops), bytes)
    }

    /// Integer overload of ``decodeStepCost(batch:context:tokensPerSequence:)``.
    public func decodeStepCost(batch: Int, context: Int, tokensPerSequence: Int = 1) -> (flops: Double, bytes: Double) {
        decodeStepCost(batch: Double(batch), context: Double(context), tokensPerSequence: tokensPerSequence)
    }

    /// c* = 2·N_mm/(I*·kv − 4·L·h·d_h): contexts below it can become compute-bound at large batch
    /// (methodology §1.4). nil when the denominator is ≤ 0 (every context can).
    public func computeBoundContextLimit(ridge: Double) -> Double? {
        let denominator = ridge * kvBytesPerToken - attentionFLOPsPerContextToken
        return denominator > 0 ? 2 * matmulParameters / denominator : nil
    }

    /// B_crit(c) = I*·N·b_w/(2·N_mm + 4·L·h·d_h·c − I*·c·kv), exactly as methodology §1.5
    /// (N·b_w = all weight bytes; the cost model streams N_mm·b_w, 1.5% less for Llama 3.1 70B —
    /// see docs/methodology-notes.md). nil: no batch makes the decode step compute-bound at `c`.
    public func criticalBatch(ridge: Double, context c: Double) -> Double? {
        let denominator = 2 * matmulParameters + attentionFLOPsPerContextToken * c - ridge * c * kvBytesPerToken
        return denominator > 0 ? ridge * weightBytes / denominator : nil
    }

    /// Weights-only critical batch I*·b_w/2 (methodology §1.5).
    public func criticalBatchWeightsOnly(ridge: Double) -> Double { ridge * bytesPerWeight / 2 }
}

/// Roofline time of a span: max(F/P, bytes/BW), seconds (methodology §1.6 generalised, η = 1).
public func rooflineSeconds(flops: Double, bytes: Double, peakFLOPS: Double, bandwidth: Double) -> Double {
    max(flops / peakFLOPS, bytes / bandwidth)
}
