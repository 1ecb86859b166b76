import Kernels

/// A built-in model shape whose weights are generated from a seed (see
/// ``ModelPreset/makeWeights(type:seed:)``), so benchmarks and tests need no downloaded files.
public struct ModelPreset: Sendable, Equatable {
    /// Command-line name, e.g. "stories15m".
    public var name: String
    public var config: ModelConfig
    /// The scales of the random weights (``SyntheticInitialization/standard`` unless the
    /// preset says otherwise).
    public var initialization: SyntheticInitialization

    public init(name: String, config: ModelConfig, initialization: SyntheticInitialization = .standard) {
        self.name = name
        self.config = config
        self.initialization = initialization
    }

    /// A few MB (≈ 0.3 M parameters): dim 64, 2 layers, 4 heads over 2 KV heads (exercises
    /// grouped-query attention), d_ff 192, vocab 512, untied LM head. For tests.
    public static let tiny = ModelPreset(name: "tiny", config: ModelConfig(
        dim: 64, hiddenDim: 192, layers: 2, heads: 4, kvHeads: 2, vocabSize: 512, maxSeqLen: 256))

    /// The shape of llama2.c's stories15M (shared classifier).
    public static let stories15m = ModelPreset(name: "stories15m", config: ModelConfig(
        dim: 288, hiddenDim: 768, layers: 6, heads: 6, kvHeads: 6, vocabSize: 32000, maxSeqLen: 256,
        tiedEmbeddings: true))

    /// stories15m's shape with an untied LM head and the ``SyntheticInitialization/peaked(layers:)``
    /// recipe (strong embedding, residual branches scaled by 1/√12): a peaked next-token
    /// distribution like a trained model's, so self-speculation (`quant`, `early-exit:K`) is
    /// accepted most of the time. Exists to exercise speculative decoding's high-α regime.
    public static let stories15mPeaked = ModelPreset(name: "stories15m-peaked", config: ModelConfig(
        dim: 288, hiddenDim: 768, layers: 6, heads: 6, kvHeads: 6, vocabSize: 32000, maxSeqLen: 256),
        initialization: .peaked(layers: 6))

    /// The shape of llama2.c's stories110M (shared classifier).
    public static let stories110m = ModelPreset(name: "stories110m", config: ModelConfig(
        dim: 768, hiddenDim: 2048, layers: 12, heads: 12, kvHeads: 12, vocabSize: 32000, maxSeqLen: 1024,
        tiedEmbeddings: true))

    /// A Llama-3.2-1B-like shape with a 32 000 vocabulary: 2048, 16 layers, 32 heads over 8 KV
    /// heads, d_ff 8192, separate LM head (≈ 1.1 G parameters).
    public static let llama1b = ModelPreset(name: "llama-1b", config: ModelConfig(
        dim: 2048, hiddenDim: 8192, layers: 16, heads: 32, kvHeads: 8, vocabSize: 32000, maxSeqLen: 2048))

    /// Every preset, smallest first.
    public static let all: [ModelPreset] = [.tiny, .stories15m, .stories15mPeaked, .stories110m, .llama1b]

    /// The preset called `name` (case-insensitive), or nil.
    public static func named(_ name: String) -> ModelPreset? {
        all.first { $0.name == name.lowercased() }
    }
}
