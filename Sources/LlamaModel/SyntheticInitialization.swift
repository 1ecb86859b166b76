/// The scales from which a preset's random weights are drawn (see
/// ``ModelPreset/makeWeights(type:seed:)``). Every standard deviation is of a uniform
/// distribution; `d` is the model dimension, fan_in the input width of a matrix.
public struct SyntheticInitialization: Sendable, Equatable {
    /// Standard deviation of the token embeddings.
    public var embeddingStd: Double
    /// Q and K are drawn with σ = gain/√d.
    public var queryKeyGain: Double
    /// Factor on σ = 1/√fan_in of the two matrices that write into the residual stream
    /// (attention output and MLP down projection). 1 = every branch adds an O(1) vector.
    public var residualBranchScale: Double
    /// A separate LM head is drawn with σ = gain/√d (logits of standard deviation ≈ gain·‖x‖/√d
    /// after the final RMS norm). Unused when the embeddings are tied.
    public var outputGain: Double

    public init(embeddingStd: Double, queryKeyGain: Double, residualBranchScale: Double, outputGain: Double) {
        self.embeddingStd = embeddingStd
        self.queryKeyGain = queryKeyGain
        self.residualBranchScale = residualBranchScale
        self.outputGain = outputGain
    }

    /// The recipe of `tiny`, `stories15m`, `stories110m` and `llama-1b`: a small embedding
    /// (0.02) under unscaled branches, so the residual stream is the sum of O(1) branch outputs
    /// and the next-token distribution of random weights is nearly flat — any perturbation
    /// (4-bit weights, dropped layers) flips its argmax.
    public static let standard = SyntheticInitialization(embeddingStd: 0.02, queryKeyGain: 2, residualBranchScale: 1, outputGain: 3)

    /// The recipe of the `-peaked` presets, built to exercise speculative decoding's high-α
    /// regime: an O(1) token embedding (σ 1) carries the signal, and each of the 2L residual
    /// branches is scaled by ``peakedBranchFactor``/√(2L) (GPT-2's 1/√(2L) residual-projection
    /// scaling, times 0.3), so the layers bend the stream without drowning it and the hidden
    /// state at the LM head moves little when the weights are rounded to 4 bits or the last
    /// layers are skipped. The LM head must be untied (a tied head with a large embedding would
    /// just repeat the last token) and keeps the standard gain of 3. The next token still
    /// depends on the context through attention, so greedy output is neither constant nor a
    /// function of the last token alone.
    public static func peaked(layers: Int) -> SyntheticInitialization {
        SyntheticInitialization(embeddingStd: 1, queryKeyGain: 2,
                                residualBranchScale: peakedBranchFactor / Double(2 * layers).squareRoot(), outputGain: 3)
    }

    /// Extra factor on GPT-2's 1/√(2L) for ``peaked(layers:)``. With 1 (plain GPT-2 scaling)
    /// stories15m-peaked measured α ≈ 0.68 for `quant` but only ≈ 0.35 for `early-exit:2`; with
    /// 0.3, ≈ 0.8 and ≈ 0.7 (greedy, γ 3, see docs/speculative.md).
    public static let peakedBranchFactor = 0.3
}
