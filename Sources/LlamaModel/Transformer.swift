import Kernels
import KVCache

/// The phases of a forward step, in order, for profiling.
public enum ForwardPhase: Int, CaseIterable, Sendable, CustomStringConvertible {
    case embedding, attentionNorm, qkvProjection, ropeAndCacheWrite, attention, outputProjection, ffnNorm,
         gateUpProjection, swiglu, downProjection, residual, lmHead

    public var description: String {
        switch self {
        case .embedding: return "embedding"
        case .attentionNorm: return "attention norm"
        case .qkvProjection: return "q/k/v projection"
        case .ropeAndCacheWrite: return "rope + kv write"
        case .attention: return "attention"
        case .outputProjection: return "output projection"
        case .ffnNorm: return "residual + ffn norm"
        case .gateUpProjection: return "gate/up projection"
        case .swiglu: return "swiglu"
        case .downProjection: return "down projection"
        case .residual: return "residual"
        case .lmHead: return "final norm + lm head"
        }
    }
}

/// A Llama-architecture decoder ready to run batched forward steps: the weights, a thread
/// pool, and every activation buffer a step needs, allocated once here for at most
/// `maxBatchTokens` new tokens and `maxLogitRows` logit rows per step. The pass itself is in
/// Transformer+Forward.swift.
///
/// Not thread-safe: one step at a time (the step itself uses all of the pool's threads).
public final class Transformer: @unchecked Sendable {
    public let weights: ModelWeights
    public let config: ModelConfig
    public let maxBatchTokens: Int
    public let maxLogitRows: Int
    /// Longest sequence (cached + new positions) a step accepts; `config.maxSeqLen` unless
    /// given (a synthetic preset can run past its nominal context).
    public let maxContext: Int
    public let pool: ThreadPool
    let matmul: MatrixMultiplier

    // Activation buffers; T = maxBatchTokens, R = maxLogitRows, W = pool.threadCount.
    /// Residual stream, [T × d].
    let x: UnsafeMutablePointer<Float>
    /// Normalized input of a sub-block, [T × d].
    let xb: UnsafeMutablePointer<Float>
    /// Output of a sub-block before the residual add, [T × d].
    let xb2: UnsafeMutablePointer<Float>
    /// Queries, [T × h·d_h].
    let q: UnsafeMutablePointer<Float>
    /// New keys and values, [T × kvDim] each.
    let k: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    /// Attention output (heads concatenated), [T × h·d_h].
    let attention: UnsafeMutablePointer<Float>
    /// SwiGLU gate and up projections, [T × d_ff] each.
    let gate: UnsafeMutablePointer<Float>
    let up: UnsafeMutablePointer<Float>
    /// RoPE cos/sin per new token, [T × d_h].
    let rope: UnsafeMutablePointer<Float>
    /// Per new token: its position and its sequence index, [T] each.
    let positions: UnsafeMutablePointer<Int32>
    let sequenceOf: UnsafeMutablePointer<Int32>
    /// Attention scores per worker, [W × g × maxContext] (g = h / h_kv query heads per KV head).
    let scores: UnsafeMutablePointer<Float>
    /// Attention scratch per worker (used when d_h % 16 == 0; P = maxContext rounded up to 16):
    /// packed keys and values of one KV head [P × d_h] each, scores [max(6, g) × (P + 16)], gathered queries
    /// and outputs [6 × d_h] each.
    let packedKeys: UnsafeMutablePointer<Float>
    let packedValues: UnsafeMutablePointer<Float>
    let tileScores: UnsafeMutablePointer<Float>
    let tileQueries: UnsafeMutablePointer<Float>
    let tileOutputs: UnsafeMutablePointer<Float>
    /// Per worker: 6 row lengths, then the (step, layer, sequence, KV head) its packed K/V hold.
    let workerState: UnsafeMutablePointer<Int>
    /// Attention work items (query tiles) before each sequence, [T + 1].
    let tilePrefix: UnsafeMutablePointer<Int32>
    /// Counts forward calls, to tell a worker's packed K/V of this step from a stale one.
    var stepCounter = 0
    /// Padded context of the attention scratch.
    let paddedContext: Int
    /// Row stride of the attention scores: the padded context plus 16 floats, so the rows of a
    /// tile do not alias in L1 when the context is a multiple of 1024.
    var scoreStride: Int { paddedContext + 16 }
    /// Normalized final hidden states of the rows that produce logits, [R × d].
    let logitInput: UnsafeMutablePointer<Float>
    /// Logits, [R × V].
    let logits: UnsafeMutablePointer<Float>
    /// Token index of each logit row, [R]; logit-row prefix offsets per sequence, [T + 1].
    let logitTokens: UnsafeMutablePointer<Int32>
    let logitOffsets: UnsafeMutablePointer<Int32>

    private var allocations: [UnsafeMutableRawPointer] = []

    /// When true, `forward` adds the wall time of each phase to ``phaseSeconds`` (a clock
    /// read per phase; off by default).
    public var profiling = false
    /// Seconds spent per ``ForwardPhase`` since the last ``resetProfile()``.
    public private(set) var phaseSeconds = [Double](repeating: 0, count: ForwardPhase.allCases.count)
    var phaseStart = 0.0

    public func resetProfile() {
        for i in phaseSeconds.indices { phaseSeconds[i] = 0 }
    }

    /// Ends the current phase (when profiling): charges the time since the previous mark.
    @inline(__always)
    func mark(_ phase: ForwardPhase) {
        guard profiling else { return }
        let now = HostProbe.now()
        phaseSeconds[phase.rawValue] += now - phaseStart
        phaseStart = now
    }

    /// Allocates every buffer. `maxBatchTokens` bounds the new tokens of one step (sum over
    /// sequences); `maxLogitRows` bounds its logit rows; `maxContext` the positions of one
    /// sequence (default `config.maxSeqLen`).
    public init(weights: ModelWeights, maxBatchTokens: Int, maxLogitRows: Int, maxContext: Int? = nil, pool: ThreadPool) {
        let c = weights.config
        precondition(maxBatchTokens > 0 && maxLogitRows > 0, "Transformer: maxBatchTokens and maxLogitRows must be > 0")
        precondition(c.heads % c.kvHeads == 0, "Transformer: heads \(c.heads) not a multiple of kvHeads \(c.kvHeads)")
        precondition(c.headDim % 2 == 0 && c.headDim <= KVCacheStorage.maxHeadDim,
                     "Transformer: head dimension \(c.headDim) must be even and ≤ \(KVCacheStorage.maxHeadDim)")
        self.weights = weights
        self.config = c
        self.maxBatchTokens = maxBatchTokens
        self.maxLogitRows = maxLogitRows
        self.maxContext = maxContext ?? c.maxSeqLen
        self.pool = pool
        let t = maxBatchTokens, qDim = c.heads * c.headDim
        self.matmul = MatrixMultiplier(pool: pool, maxRows: maxBatchTokens, maxInputs: max(c.dim, c.hiddenDim, qDim))
        var owned: [UnsafeMutableRawPointer] = []
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            owned.append(raw)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 16))
        }
        func ints(_ count: Int) -> UnsafeMutablePointer<Int32> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            owned.append(raw)
            return raw.initializeMemory(as: Int32.self, repeating: 0, count: max(count, 16))
        }
        x = floats(t * c.dim)
        xb = floats(t * max(c.dim, qDim))
        xb2 = floats(t * c.dim)
        q = floats(t * qDim)
        k = floats(t * c.kvDim)
        v = floats(t * c.kvDim)
        attention = floats(t * qDim)
        gate = floats(t * c.hiddenDim)
        up = floats(t * c.hiddenDim)
        rope = floats(t * c.headDim)
        positions = ints(t)
        sequenceOf = ints(t)
        scores = floats(pool.threadCount * (c.heads / c.kvHeads) * self.maxContext)
        let w = pool.threadCount
        paddedContext = KVCacheStorage.paddedLength(self.maxContext)
        let packed = c.headDim % 16 == 0 ? paddedContext * c.headDim : 0
        packedKeys = floats(w * packed)
        packedValues = floats(w * packed)
        tileScores = floats(w * max(6, c.heads / c.kvHeads) * (paddedContext + 16))
        tileQueries = floats(w * 6 * c.headDim)
        tileOutputs = floats(w * 6 * c.headDim)
        let stateRaw = UnsafeMutableRawPointer.allocate(byteCount: w * Transformer.workerStateStride * 8, alignment: 64)
        owned.append(stateRaw)
        workerState = stateRaw.initializeMemory(as: Int.self, repeating: -1, count: w * Transformer.workerStateStride)
        tilePrefix = ints(t + 1)
        logitInput = floats(maxLogitRows * c.dim)
        logits = floats(maxLogitRows * c.vocabSize)
        logitTokens = ints(maxLogitRows)
        logitOffsets = ints(t + 1)
        allocations = owned
    }

    /// Ints per worker in `workerState`: 6 lengths + 4 tag fields (+ padding to a cache line).
    static let workerStateStride = 16

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}
