import Kernels

extension ModelWeights {
    /// Loads a llama2.c checkpoint in its legacy (version 0) format, memory-mapped, f32 weights
    /// viewed in place.
    ///
    /// Layout: seven int32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
    /// seq_len (a negative vocab_size means a separate classifier follows; otherwise the LM head
    /// is the embedding table) — then f32 arrays: token embedding (V·d), attention norms (L·d),
    /// wq (L·d·d), wk, wv (L·kv·d), wo (L·d·d), FFN norms (L·d), w1 (L·f·d), w2 (L·d·f),
    /// w3 (L·f·d), final norm (d), the legacy RoPE tables (seq_len·d_h, unused), and the classifier
    /// (V·d) if separate. Matrices are PyTorch `[out, in]` row-major, the same layout as
    /// ``WeightMatrix``. RoPE pairing is the interleaved one (see docs/model-formats.md).
    /// Every size is checked against the file size before use; throws ``ModelLoadError``.
    public static func loadLlama2c(path: String) throws(ModelLoadError) -> ModelWeights {
        let file = try MappedFile(path: path)
        var c = ByteCursor(base: file.base, count: file.byteCount, file: path)
        let names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]
        var h: [Int] = []
        for n in names { h.append(Int(try c.read(Int32.self, "header.\(n)"))) }
        if UInt32(truncatingIfNeeded: h[0]) == 0x616B_3432 {  // "ak42": llama2.c export versions 1 and 2
            throw c.fail(.unsupportedVersion, at: 0, "header.magic",
                         "found a llama2.c version-\(h[1]) export; expected the legacy (version 0) format: re-export with `export.py --version 0`")
        }
        // Upper bounds keep every section size far below Int.max (at most 2^46 elements).
        let limits = [1 << 16, 1 << 18, 1 << 12, 1 << 12, 1 << 12, 0, 1 << 20]
        for (i, n) in names.enumerated() where n != "vocab_size" {
            guard h[i] > 0, h[i] <= limits[i] else {
                throw c.fail(.invalidValue, at: 4 * i, "header.\(n)", "found \(h[i]); expected 1…\(limits[i])")
            }
        }
        let (dim, hidden, layers, heads, kvHeads, seqLen) = (h[0], h[1], h[2], h[3], h[4], h[6])
        let shared = h[5] > 0
        let vocab = abs(h[5])
        guard vocab > 0, vocab <= 1 << 22 else { throw c.fail(.invalidValue, at: 20, "header.vocab_size", "found \(h[5]); expected ±1…\(1 << 22)") }
        guard dim % heads == 0 else { throw c.fail(.invalidValue, at: 12, "header.n_heads", "\(heads) heads do not divide dim \(dim)") }
        guard kvHeads <= heads, heads % kvHeads == 0 else {
            throw c.fail(.invalidValue, at: 16, "header.n_kv_heads", "\(kvHeads) KV heads do not divide \(heads) heads")
        }
        let config = ModelConfig(dim: dim, hiddenDim: hidden, layers: layers, heads: heads, kvHeads: kvHeads, vocabSize: vocab,
                                 maxSeqLen: seqLen, tiedEmbeddings: shared)
        let kv = config.kvDim, headDim = config.headDim
        // Element counts of each section, in file order.
        let sections: [(String, Int)] = [
            ("token_embedding", vocab * dim), ("rms_att", layers * dim), ("wq", layers * dim * dim),
            ("wk", layers * kv * dim), ("wv", layers * kv * dim), ("wo", layers * dim * dim), ("rms_ffn", layers * dim),
            ("w1", layers * hidden * dim), ("w2", layers * dim * hidden), ("w3", layers * hidden * dim),
            ("rms_final", dim), ("freq_cis", seqLen * headDim), ("wcls", shared ? 0 : vocab * dim)]
        var offsets: [String: Int] = [:]
        var at = 28
        for (name, count) in sections {
            offsets[name] = at
            at += count * 4
        }
        guard at <= file.byteCount else {
            throw ModelLoadError(.truncated, file: path, offset: file.byteCount, field: "weights",
                                 detail: "the header's shapes need \(at) bytes but the file has \(file.byteCount); the file is truncated or the header is wrong")
        }
        func ptr(_ section: String, _ index: Int, _ stride: Int) -> UnsafeRawPointer { file.base + offsets[section]! + index * stride * 4 }
        func mat(_ section: String, _ l: Int, rows: Int, cols: Int) -> WeightMatrix {
            WeightMatrix(type: .f32, rows: rows, cols: cols, base: ptr(section, l, rows * cols))
        }
        func norm(_ section: String, _ l: Int) -> UnsafePointer<Float> { ptr(section, l, dim).assumingMemoryBound(to: Float.self) }
        let layerWeights = (0..<layers).map { l in
            LayerWeights(attentionNorm: norm("rms_att", l), wq: mat("wq", l, rows: dim, cols: dim),
                         wk: mat("wk", l, rows: kv, cols: dim), wv: mat("wv", l, rows: kv, cols: dim),
                         wo: mat("wo", l, rows: dim, cols: dim), ffnNorm: norm("rms_ffn", l),
                         gate: mat("w1", l, rows: hidden, cols: dim), up: mat("w3", l, rows: hidden, cols: dim),
                         down: mat("w2", l, rows: dim, cols: hidden))
        }
        let embedding = mat("token_embedding", 0, rows: vocab, cols: dim)
        return ModelWeights(config: config, weightType: .f32, tokenEmbedding: embedding, layers: layerWeights,
                            finalNorm: norm("rms_final", 0),
                            output: shared ? embedding : mat("wcls", 0, rows: vocab, cols: dim), owners: [file])
    }
}

extension Vocabulary {
    /// Reads llama2.c's `tokenizer.bin`: int32 max_token_length, then for each of `size` tokens
    /// an f32 score, an int32 byte length and the piece's bytes (spaces as real spaces; they are
    /// converted to "▁" here). Ids 0/1/2 are `<unk>`/`<s>`/`</s>`. Throws ``ModelLoadError``.
    public init(llama2cTokenizer path: String, size: Int) throws(ModelLoadError) {
        let file = try MappedFile(path: path)
        var c = ByteCursor(base: file.base, count: file.byteCount, file: path)
        let maxLength = Int(try c.read(Int32.self, "header.max_token_length"))
        guard maxLength > 0, maxLength <= 1 << 16 else {
            throw c.fail(.invalidValue, at: 0, "header.max_token_length", "found \(maxLength); expected 1…65536")
        }
        guard size > 0, size <= (file.byteCount - 4) / 8 else {
            throw c.fail(.truncated, at: 4, "tokens", "the model's vocabulary has \(size) tokens but the file can hold at most \((file.byteCount - 4) / 8); wrong tokenizer for this model?")
        }
        var pieces: [String] = []
        var scores: [Float] = []
        pieces.reserveCapacity(size)
        scores.reserveCapacity(size)
        for i in 0..<size {
            scores.append(try c.readFloat("token[\(i)].score"))
            let at = c.offset
            let n = Int(try c.read(Int32.self, "token[\(i)].length"))
            guard n >= 0, n <= maxLength else {
                throw c.fail(.invalidValue, at: at, "token[\(i)].length", "found \(n); expected 0…\(maxLength) (max_token_length)")
            }
            let bytes = try c.readBytes(n, "token[\(i)].bytes")
            pieces.append(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: " ", with: Vocabulary.spaceMarker))
        }
        self.init(pieces: pieces, scores: scores, kinds: pieces.indices.map { Vocabulary.inferredKind(id: $0, piece: pieces[$0]) })
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
