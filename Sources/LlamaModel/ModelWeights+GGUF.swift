import Kernels

extension ModelWeights {
    /// One tensor of the model under its GGUF name, viewed in place.
    public struct NamedTensor {
        public var name: String
        /// GGML dimensions, fastest-varying first: `[cols, rows]`, or `[count]` for norms.
        public var dimensions: [Int]
        public var type: TensorType
        public var data: UnsafeRawBufferPointer
    }

    /// Every tensor under its llama.cpp name, in llama.cpp's order: `token_embd.weight`,
    /// `output_norm.weight`, `output.weight` (absent when tied), then per layer N
    /// `blk.N.attn_norm`, `attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_norm`, `ffn_gate`,
    /// `ffn_down`, `ffn_up` (`.weight`).
    public var namedTensors: [NamedTensor] {
        func matrix(_ name: String, _ m: WeightMatrix) -> NamedTensor {
            NamedTensor(name: name, dimensions: [m.cols, m.rows], type: m.type,
                        data: UnsafeRawBufferPointer(start: m.base, count: m.byteCount))
        }
        func norm(_ name: String, _ p: UnsafePointer<Float>) -> NamedTensor {
            NamedTensor(name: name, dimensions: [config.dim], type: .f32,
                        data: UnsafeRawBufferPointer(start: p, count: config.dim * 4))
        }
        var list = [matrix("token_embd.weight", tokenEmbedding), norm("output_norm.weight", finalNorm)]
        if !config.tiedEmbeddings { list.append(matrix("output.weight", output)) }
        for (i, l) in layers.enumerated() {
            let p = "blk.\(i)."
            list += [norm(p + "attn_norm.weight", l.attentionNorm), matrix(p + "attn_q.weight", l.wq),
                     matrix(p + "attn_k.weight", l.wk), matrix(p + "attn_v.weight", l.wv),
                     matrix(p + "attn_output.weight", l.wo), norm(p + "ffn_norm.weight", l.ffnNorm),
                     matrix(p + "ffn_gate.weight", l.gate), matrix(p + "ffn_down.weight", l.down),
                     matrix(p + "ffn_up.weight", l.up)]
        }
        return list
    }

    /// `general.*` and `llama.*` metadata for llama.cpp (general.file_type from ``weightType``).
    public func ggufMetadata(name: String) -> [(String, GGUFValue)] {
        let fileType: UInt32 = switch weightType {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q8_0: 7
        }
        let c = config
        return [("general.architecture", .string("llama")), ("general.name", .string(name)),
                ("general.file_type", .uint32(fileType)),
                ("llama.context_length", .uint32(UInt32(c.maxSeqLen))),
                ("llama.embedding_length", .uint32(UInt32(c.dim))),
                ("llama.block_count", .uint32(UInt32(c.layers))),
                ("llama.feed_forward_length", .uint32(UInt32(c.hiddenDim))),
                ("llama.rope.dimension_count", .uint32(UInt32(c.headDim))),
                ("llama.attention.head_count", .uint32(UInt32(c.heads))),
                ("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeads))),
                ("llama.attention.layer_norm_rms_epsilon", .float32(c.normEpsilon)),
                ("llama.rope.freq_base", .float32(c.ropeTheta)),
                ("llama.vocab_size", .uint32(UInt32(c.vocabSize)))]
    }

    /// Writes this model and `vocabulary` as a GGUF v3 file llama.cpp can load (architecture
    /// "llama", SentencePiece tokenizer, tensors in place, alignment 32). The tensor bytes are
    /// copied verbatim, so ``ModelWeights/load(gguf:)`` gives back identical weights.
    public func writeGGUF(to path: String, name: String, vocabulary: Vocabulary) throws(ModelLoadError) {
        precondition(vocabulary.count == config.vocabSize, "vocabulary has \(vocabulary.count) tokens, model \(config.vocabSize)")
        let tensors = namedTensors.map { GGUFWriter.Tensor(name: $0.name, dimensions: $0.dimensions, type: $0.type, data: $0.data) }
        try GGUFWriter(metadata: ggufMetadata(name: name) + vocabulary.ggufMetadata, tensors: tensors).write(to: path)
    }

    /// Builds the model from a parsed GGUF file with `general.architecture` = "llama", viewing
    /// the tensors in place (f32 norms are used in place; f16 norms are converted). Checks every
    /// hyper-parameter and every tensor's presence, shape and type; throws ``ModelLoadError``
    /// naming the key or tensor. O(layers) plus the size of the norms.
    public static func load(gguf: GGUFFile) throws(ModelLoadError) -> ModelWeights {
        let file = gguf.path
        func fail(_ kind: ModelLoadError.Kind, key: String, _ detail: String) -> ModelLoadError {
            ModelLoadError(kind, file: file, offset: gguf.metadataOffsets[key], field: "metadata \"\(key)\"", detail: detail)
        }
        let arch = gguf.metadata["general.architecture"]
        guard arch?.string == "llama" else {
            throw fail(arch == nil ? .missing : .wrongType, key: "general.architecture",
                       "found \(arch.map { "\($0)" } ?? "nothing"); expected \"llama\"")
        }
        func int(_ key: String, default d: Int? = nil, range: ClosedRange<Int> = 1...(1 << 20)) throws(ModelLoadError) -> Int {
            guard let v = gguf.metadata[key] else {
                if let d { return d }
                throw fail(.missing, key: key, "required key is absent; expected an integer in \(range)")
            }
            guard let i = v.integer else { throw fail(.wrongType, key: key, "found a \(v.type); expected an integer") }
            guard range.contains(i) else { throw fail(.invalidValue, key: key, "found \(i); expected \(range)") }
            return i
        }
        func float(_ key: String, default d: Float) throws(ModelLoadError) -> Float {
            guard let v = gguf.metadata[key] else { return d }
            guard let x = v.number, x > 0, x.isFinite else { throw fail(.invalidValue, key: key, "found \(v); expected a positive number") }
            return Float(x)
        }
        let dim = try int("llama.embedding_length")
        let heads = try int("llama.attention.head_count", range: 1...dim)
        let kvHeads = try int("llama.attention.head_count_kv", default: heads, range: 1...heads)
        guard dim % heads == 0 else {
            throw fail(.invalidValue, key: "llama.attention.head_count", "\(heads) heads do not divide embedding_length \(dim)")
        }
        guard heads % kvHeads == 0 else {
            throw fail(.invalidValue, key: "llama.attention.head_count_kv", "\(kvHeads) KV heads do not divide \(heads) query heads")
        }
        let headDim = dim / heads
        _ = try int("llama.rope.dimension_count", default: headDim, range: headDim...headDim)
        guard let embd = gguf.tensor("token_embd.weight"), embd.dimensions.count >= 2 else {
            throw ModelLoadError(.missing, file: file, field: "tensor \"token_embd.weight\"", detail: "required tensor is absent or not 2-D")
        }
        let vocab = embd.dimensions[1]
        _ = try int("llama.vocab_size", default: vocab, range: vocab...vocab)
        let config = ModelConfig(
            dim: dim, hiddenDim: try int("llama.feed_forward_length"), layers: try int("llama.block_count", range: 1...4096),
            heads: heads, kvHeads: kvHeads, vocabSize: vocab, maxSeqLen: try int("llama.context_length", range: 1...(1 << 24)),
            ropeTheta: try float("llama.rope.freq_base", default: 10000),
            normEpsilon: try float("llama.attention.layer_norm_rms_epsilon", default: 1e-5),
            tiedEmbeddings: gguf.tensor("output.weight") == nil)

        var converted: [WeightBuffer] = []
        func tensor(_ name: String, _ shape: [Int]) throws(ModelLoadError) -> GGUFFile.TensorInfo {
            guard let t = gguf.tensor(name) else {
                throw ModelLoadError(.missing, file: file, field: "tensor \"\(name)\"",
                                     detail: "required tensor is absent; expected shape \(shape)")
            }
            let dims = t.dimensions + [Int](repeating: 1, count: max(0, shape.count - t.dimensions.count))
            guard Array(dims.prefix(shape.count)) == shape, dims.dropFirst(shape.count).allSatisfy({ $0 == 1 }) else {
                throw ModelLoadError(.invalidValue, file: file, offset: t.fileOffset, field: "tensor \"\(name)\"",
                                     detail: "shape \(t.dimensions); expected \(shape) from the llama.* hyper-parameters")
            }
            guard t.type != nil else {
                throw ModelLoadError(.wrongType, file: file, offset: t.fileOffset, field: "tensor \"\(name)\"",
                                     detail: "ggml type \(t.ggmlType) is not supported; expected f32 (0), f16 (1), q4_0 (2) or q8_0 (8) — requantize with llama-quantize")
            }
            return t
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws(ModelLoadError) -> WeightMatrix {
            let t = try tensor(name, [cols, rows])
            return WeightMatrix(type: t.type!, rows: rows, cols: cols, base: gguf.data(of: t))
        }
        func norm(_ name: String) throws(ModelLoadError) -> UnsafePointer<Float> {
            let t = try tensor(name, [dim])
            let data = gguf.data(of: t)
            if t.type == .f32, Int(bitPattern: data) % 4 == 0 { return data.assumingMemoryBound(to: Float.self) }
            let buffer = WeightBuffer(byteCount: dim * 4)
            Quantization.dequantize(data, count: dim, from: t.type!, into: buffer.base.assumingMemoryBound(to: Float.self))
            converted.append(buffer)
            return UnsafePointer(buffer.base.assumingMemoryBound(to: Float.self))
        }
        let c = config
        let qDim = heads * headDim
        var layers: [LayerWeights] = []
        for i in 0..<c.layers {
            let p = "blk.\(i)."
            layers.append(LayerWeights(
                attentionNorm: try norm(p + "attn_norm.weight"),
                wq: try matrix(p + "attn_q.weight", rows: qDim, cols: dim),
                wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: dim),
                wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: dim),
                wo: try matrix(p + "attn_output.weight", rows: dim, cols: qDim),
                ffnNorm: try norm(p + "ffn_norm.weight"),
                gate: try matrix(p + "ffn_gate.weight", rows: c.hiddenDim, cols: dim),
                up: try matrix(p + "ffn_up.weight", rows: c.hiddenDim, cols: dim),
                down: try matrix(p + "ffn_down.weight", rows: dim, cols: c.hiddenDim)))
        }
        let embedding = try matrix("token_embd.weight", rows: vocab, cols: dim)
        let output = c.tiedEmbeddings ? embedding : try matrix("output.weight", rows: vocab, cols: dim)
        let finalNorm = try norm("output_norm.weight")
        // The storage type reported is the one holding most of the layer weights.
        let weightType = layers.first?.gate.type ?? embedding.type
        return ModelWeights(config: c, weightType: weightType, tokenEmbedding: embedding, layers: layers,
                            finalNorm: finalNorm, output: output, owners: [gguf.mapping] + converted)
    }
}
