import Dispatch
import Kernels
import TraceFormat

extension ModelPreset {
    /// Standard deviation of the synthetic token embeddings. Small against the O(1) outputs
    /// of the attention and MLP branches (which see RMS-normalized inputs), so the residual
    /// stream is not dominated by the current token's own embedding — with a tied LM head a
    /// large embedding makes every model repeat its last token forever.
    public static let embeddingStd = SyntheticInitialization.standard.embeddingStd

    /// Gain on the Q and K projections: attention scores then have a standard deviation of
    /// about gain², so each position attends to a few others instead of averaging the whole
    /// context (averaging makes greedy decoding of random weights fall into repetition).
    public static let queryKeyGain = SyntheticInitialization.standard.queryKeyGain

    /// Generates this preset's weights from `seed`, stored as `type` (random f32 values are
    /// drawn first, then quantized row by row with ``Quantization``), in one 64-byte-aligned
    /// buffer with every tensor 64-byte aligned.
    ///
    /// Initialization (uniform distributions of the stated standard deviation) for the
    /// ``SyntheticInitialization/standard`` recipe (``initialization`` scales these): token
    /// embedding σ = ``embeddingStd`` (0.02); Q and K σ = ``queryKeyGain``/√d (2/√d); V, attention
    /// output, gate, up and down σ = 1/√fan_in (every branch adds an O(1) vector to the residual);
    /// LM head σ = 3/√d (logits of standard deviation ≈ 3); norm weights uniform in [0.9, 1.1].
    /// Chosen so that activations stay of order 1–10 and greedy decoding does not fall into
    /// repeating one token (checked on every preset: see docs/model-formats.md).
    ///
    /// Deterministic: each tensor is filled in fixed chunks of rows, each chunk from its own
    /// generator seeded by (seed, tensor, chunk), so the result does not depend on the number of
    /// threads. Chunks run in parallel on all cores; O(parameters).
    public func makeWeights(type: TensorType = .f32, seed: UInt64 = 0) -> ModelWeights {
        let c = config
        let d = Double(c.dim), f = Double(c.hiddenDim)
        let r = initialization
        var plan = SyntheticPlan(type: type)
        let embedding = plan.matrix(rows: c.vocabSize, cols: c.dim, std: r.embeddingStd)
        var layerSlots: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = []
        for _ in 0..<c.layers {
            layerSlots.append((
                plan.norm(c.dim),
                plan.matrix(rows: c.heads * c.headDim, cols: c.dim, std: r.queryKeyGain / d.squareRoot()),
                plan.matrix(rows: c.kvDim, cols: c.dim, std: r.queryKeyGain / d.squareRoot()),
                plan.matrix(rows: c.kvDim, cols: c.dim, std: 1 / d.squareRoot()),
                plan.matrix(rows: c.dim, cols: c.heads * c.headDim, std: r.residualBranchScale / d.squareRoot()),
                plan.norm(c.dim),
                plan.matrix(rows: c.hiddenDim, cols: c.dim, std: 1 / d.squareRoot()),
                plan.matrix(rows: c.hiddenDim, cols: c.dim, std: 1 / d.squareRoot()),
                plan.matrix(rows: c.dim, cols: c.hiddenDim, std: r.residualBranchScale / f.squareRoot())))
        }
        let finalNorm = plan.norm(c.dim)
        let output = c.tiedEmbeddings ? embedding : plan.matrix(rows: c.vocabSize, cols: c.dim, std: r.outputGain / d.squareRoot())

        let buffer = plan.fill(seed: seed)
        let layers = layerSlots.map { s in
            LayerWeights(attentionNorm: plan.normPointer(s.0, in: buffer), wq: plan.view(s.1, in: buffer),
                         wk: plan.view(s.2, in: buffer), wv: plan.view(s.3, in: buffer), wo: plan.view(s.4, in: buffer),
                         ffnNorm: plan.normPointer(s.5, in: buffer), gate: plan.view(s.6, in: buffer),
                         up: plan.view(s.7, in: buffer), down: plan.view(s.8, in: buffer))
        }
        return ModelWeights(config: c, weightType: type, tokenEmbedding: plan.view(embedding, in: buffer), layers: layers,
                            finalNorm: plan.normPointer(finalNorm, in: buffer), output: plan.view(output, in: buffer),
                            owners: [buffer])
    }
}

/// The layout and fill recipe of a synthetic model: a list of tensors with their offsets in
/// one buffer. Tensor `i` is filled from generators seeded by (seed, i, chunk).
private struct SyntheticPlan {
    struct Tensor {
        var rows: Int
        var cols: Int
        var type: TensorType
        var offset: Int
        /// nil for a norm vector (values in [0.9, 1.1]).
        var std: Double?
    }

    let type: TensorType
    var tensors: [Tensor] = []
    var byteCount = 0

    init(type: TensorType) { self.type = type }

    mutating func matrix(rows: Int, cols: Int, std: Double) -> Int {
        add(Tensor(rows: rows, cols: cols, type: type, offset: 0, std: std))
    }

    mutating func norm(_ count: Int) -> Int {
        add(Tensor(rows: 1, cols: count, type: .f32, offset: 0, std: nil))
    }

    private mutating func add(_ t: Tensor) -> Int {
        var t = t
        t.offset = byteCount
        byteCount += (t.type.rowBytes(cols: t.cols) * t.rows + 63) / 64 * 64
        tensors.append(t)
        return tensors.count - 1
    }

    func view(_ i: Int, in buffer: WeightBuffer) -> WeightMatrix {
        let t = tensors[i]
        return WeightMatrix(type: t.type, rows: t.rows, cols: t.cols, base: UnsafeRawPointer(buffer.base + t.offset))
    }

    func normPointer(_ i: Int, in buffer: WeightBuffer) -> UnsafePointer<Float> {
        UnsafePointer((buffer.base + tensors[i].offset).assumingMemoryBound(to: Float.self))
    }

    /// Rows per work item: about 256 K weights, so big models split into thousands of items.
    private func rowsPerChunk(_ t: Tensor) -> Int { max(1, (1 << 18) / t.cols) }

    func fill(seed: UInt64) -> WeightBuffer {
        let buffer = WeightBuffer(byteCount: byteCount)
        let items: [(tensor: Int, chunk: Int)] = tensors.indices.flatMap { i in
            (0..<(tensors[i].rows + rowsPerChunk(tensors[i]) - 1) / rowsPerChunk(tensors[i])).map { (i, $0) }
        }
        DispatchQueue.concurrentPerform(iterations: items.count) { n in
            fillChunk(tensor: items[n].tensor, chunk: items[n].chunk, seed: seed, base: buffer.base)
        }
        return buffer
    }

    private func fillChunk(tensor i: Int, chunk k: Int, seed: UInt64, base: UnsafeMutableRawPointer) {
        let t = tensors[i]
        var rng = Xoshiro256(seed: SplitMix64.mix(seed, UInt64(i), UInt64(k)))
        let firstRow = k * rowsPerChunk(t)
        let lastRow = min(t.rows, firstRow + rowsPerChunk(t))
        let rowBytes = t.type.rowBytes(cols: t.cols)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: t.cols)
        defer { scratch.deallocate() }
        // Uniform on [-a, a] has standard deviation a/√3.
        let (scale, shift): (Float, Float) = t.std.map { (Float($0 * 3.0.squareRoot() * 2), -Float($0 * 3.0.squareRoot())) } ?? (0.2, 0.9)
        for r in firstRow..<lastRow {
            for j in 0..<t.cols { scratch[j] = rng.nextUnitFloat() * scale + shift }
            Quantization.quantize(scratch, count: t.cols, to: t.type, into: base + t.offset + r * rowBytes)
        }
    }
}
