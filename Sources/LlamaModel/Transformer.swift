import Kernels
import KVCache

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
    /// Attention scores per worker, [W × g × maxSeqLen] (g = h / h_kv query heads per KV head).
    let scores: UnsafeMutablePointer<Float>
    /// Normalized final hidden states of the rows that produce logits, [R × d].
    let logitInput: UnsafeMutablePointer<Float>
    /// Logits, [R × V].
    let logits: UnsafeMutablePointer<Float>
    /// Token index of each logit row, [R]; logit-row prefix offsets per sequence, [T + 1].
    let logitTokens: UnsafeMutablePointer<Int32>
    let logitOffsets: UnsafeMutablePointer<Int32>

    private var allocations: [UnsafeMutableRawPointer] = []

    /// Allocates every buffer. `maxBatchTokens` bounds the new tokens of one step (sum over
    /// sequences); `maxLogitRows` bounds its logit rows.
    public init(weights: ModelWeights, maxBatchTokens: Int, maxLogitRows: Int, pool: ThreadPool) {
        let c = weights.config
        precondition(maxBatchTokens > 0 && maxLogitRows > 0, "Transformer: maxBatchTokens and maxLogitRows must be > 0")
        precondition(c.heads % c.kvHeads == 0, "Transformer: heads \(c.heads) not a multiple of kvHeads \(c.kvHeads)")
        precondition(c.headDim % 2 == 0 && c.headDim <= KVCacheStorage.maxHeadDim,
                     "Transformer: head dimension \(c.headDim) must be even and ≤ \(KVCacheStorage.maxHeadDim)")
        self.weights = weights
        self.config = c
        self.maxBatchTokens = maxBatchTokens
        self.maxLogitRows = maxLogitRows
        self.pool = pool
        self.matmul = MatrixMultiplier(pool: pool)
        let t = maxBatchTokens, qDim = c.heads * c.headDim
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
        scores = floats(pool.threadCount * (c.heads / c.kvHeads) * c.maxSeqLen)
        logitInput = floats(maxLogitRows * c.dim)
        logits = floats(maxLogitRows * c.vocabSize)
        logitTokens = ints(maxLogitRows)
        logitOffsets = ints(t + 1)
        allocations = owned
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}
