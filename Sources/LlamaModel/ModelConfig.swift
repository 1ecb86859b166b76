import Kernels

/// The hyper-parameters of a Llama-architecture decoder.
public struct ModelConfig: Sendable, Equatable, Hashable {
    /// Hidden size d.
    public var dim: Int
    /// SwiGLU intermediate size d_ff.
    public var hiddenDim: Int
    /// Decoder layers L.
    public var layers: Int
    /// Query heads h.
    public var heads: Int
    /// Key/value heads h_kv (h must be a multiple).
    public var kvHeads: Int
    /// Vocabulary size V.
    public var vocabSize: Int
    /// Maximum context length (positions).
    public var maxSeqLen: Int
    /// RoPE base θ.
    public var ropeTheta: Float
    /// RMSNorm ε.
    public var normEpsilon: Float
    /// Whether the LM head reuses the token embedding matrix.
    public var tiedEmbeddings: Bool

    public init(dim: Int, hiddenDim: Int, layers: Int, heads: Int, kvHeads: Int, vocabSize: Int,
                maxSeqLen: Int, ropeTheta: Float = 10000, normEpsilon: Float = 1e-5, tiedEmbeddings: Bool = false) {
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabSize = vocabSize
        self.maxSeqLen = maxSeqLen
        self.ropeTheta = ropeTheta
        self.normEpsilon = normEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Head dimension d_h = d / h.
    public var headDim: Int { dim / heads }
    /// Width of K (and V) for one token in one layer: h_kv · d_h.
    public var kvDim: Int { kvHeads * headDim }
}

/// One decoder layer's weights. Norm weights are always f32 (converted at load when stored
/// otherwise; they are tiny).
public struct LayerWeights: @unchecked Sendable {
    /// RMSNorm before attention, `dim` floats.
    public var attentionNorm: UnsafePointer<Float>
    /// Q projection: (h·d_h) × d.
    public var wq: WeightMatrix
    /// K projection: (h_kv·d_h) × d.
    public var wk: WeightMatrix
    /// V projection: (h_kv·d_h) × d.
    public var wv: WeightMatrix
    /// Output projection: d × (h·d_h).
    public var wo: WeightMatrix
    /// RMSNorm before the MLP, `dim` floats.
    public var ffnNorm: UnsafePointer<Float>
    /// SwiGLU gate (w1): d_ff × d.
    public var gate: WeightMatrix
    /// SwiGLU up (w3): d_ff × d.
    public var up: WeightMatrix
    /// SwiGLU down (w2): d × d_ff.
    public var down: WeightMatrix

    public init(attentionNorm: UnsafePointer<Float>, wq: WeightMatrix, wk: WeightMatrix, wv: WeightMatrix,
                wo: WeightMatrix, ffnNorm: UnsafePointer<Float>, gate: WeightMatrix, up: WeightMatrix,
                down: WeightMatrix) {
        self.attentionNorm = attentionNorm
        self.wq = wq
        self.wk = wk
        self.wv = wv
        self.wo = wo
        self.ffnNorm = ffnNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// All weights of a model, as views into memory this object keeps alive (a memory-mapped file
/// or buffers it allocated). Immutable after load; safe to share between threads.
public final class ModelWeights: @unchecked Sendable {
    public let config: ModelConfig
    /// The storage type of the big matrices ("f32", "q8_0", …), for reports.
    public let weightType: TensorType
    /// Token embedding table: V × d.
    public let tokenEmbedding: WeightMatrix
    public let layers: [LayerWeights]
    /// Final RMSNorm, `dim` floats.
    public let finalNorm: UnsafePointer<Float>
    /// LM head: V × d (the embedding table itself when tied).
    public let output: WeightMatrix
    /// Whatever owns the memory behind the views (mapped file, allocations). Released with self.
    private let owners: [AnyObject]

    public init(config: ModelConfig, weightType: TensorType, tokenEmbedding: WeightMatrix, layers: [LayerWeights],
                finalNorm: UnsafePointer<Float>, output: WeightMatrix, owners: [AnyObject]) {
        self.config = config
        self.weightType = weightType
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.output = output
        self.owners = owners
    }
}
