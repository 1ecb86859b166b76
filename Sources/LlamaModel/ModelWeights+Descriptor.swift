import Kernels
import TraceFormat

extension ModelWeights {
    /// The trace's description of this model (methodology §1): shapes from ``config``, the
    /// storage type of the big matrices and its bytes per weight including block scales.
    /// - Parameters:
    ///   - name: display name, e.g. the preset name or the file's base name.
    ///   - source: "preset:NAME" or the file path.
    ///   - kvType: the KV cache element type name ("f32", "f16", …).
    ///   - bytesPerKVElement: bytes per KV element of that type.
    public func descriptor(name: String, source: String, kvType: String = "f32",
                           bytesPerKVElement: Double = 4) -> ModelDescriptor {
        ModelDescriptor(name: name, source: source, architecture: "llama", dim: config.dim, layers: config.layers,
                        heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim,
                        ffnDim: config.hiddenDim, vocabSize: config.vocabSize, maxContext: config.maxSeqLen,
                        tiedEmbeddings: config.tiedEmbeddings, weightType: weightType.description,
                        bytesPerWeight: weightType.bytesPerWeight, kvType: kvType,
                        bytesPerKVElement: bytesPerKVElement)
    }
}
