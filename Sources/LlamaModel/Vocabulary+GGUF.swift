extension Vocabulary {
    /// Reads `tokenizer.ggml.*` from a GGUF file. Requires `tokenizer.ggml.model` = "llama"
    /// (SentencePiece BPE) and `tokenizer.ggml.tokens`; scores default to 0 and kinds to
    /// those inferred from the pieces. Throws ``ModelLoadError`` naming the offending key.
    public init(gguf: GGUFFile) throws(ModelLoadError) {
        func fail(_ kind: ModelLoadError.Kind, _ key: String, _ detail: String) -> ModelLoadError {
            ModelLoadError(kind, file: gguf.path, offset: gguf.metadataOffsets[key], field: "metadata \"\(key)\"", detail: detail)
        }
        let model = gguf.metadata["tokenizer.ggml.model"]
        guard let model, model.string == "llama" else {
            throw fail(model == nil ? .missing : .wrongType, "tokenizer.ggml.model",
                       "found \(model.map { "\($0)" } ?? "nothing"); expected \"llama\" (SentencePiece BPE); other tokenizers are not supported — pass token ids or use a llama2.c tokenizer.bin")
        }
        guard let tokenValues = gguf.metadata["tokenizer.ggml.tokens"]?.array else {
            throw fail(.missing, "tokenizer.ggml.tokens", "expected an array of strings")
        }
        var pieces: [String] = []
        pieces.reserveCapacity(tokenValues.count)
        for v in tokenValues {
            guard let s = v.string else { throw fail(.wrongType, "tokenizer.ggml.tokens", "found \(v.type) elements; expected strings") }
            pieces.append(s)
        }
        let n = pieces.count
        var scores = [Float](repeating: 0, count: n)
        if let values = gguf.metadata["tokenizer.ggml.scores"] {
            guard let a = values.array, a.count == n else {
                throw fail(.invalidValue, "tokenizer.ggml.scores", "expected an array of \(n) floats, one per token")
            }
            for (i, v) in a.enumerated() {
                guard let x = v.number else { throw fail(.wrongType, "tokenizer.ggml.scores", "found \(v.type) elements; expected float32") }
                scores[i] = Float(x)
            }
        }
        var kinds = pieces.indices.map { Vocabulary.inferredKind(id: $0, piece: pieces[$0]) }
        if let values = gguf.metadata["tokenizer.ggml.token_type"] {
            guard let a = values.array, a.count == n else {
                throw fail(.invalidValue, "tokenizer.ggml.token_type", "expected an array of \(n) int32, one per token")
            }
            for (i, v) in a.enumerated() {
                // 0 is llama.cpp's "undefined": keep the kind inferred from the piece.
                if v.integer == 0 { continue }
                guard let k = v.integer.flatMap({ Int32(exactly: $0) }).flatMap(TokenKind.init(rawValue:)) else {
                    throw fail(.invalidValue, "tokenizer.ggml.token_type", "token \(i) has type \(v); expected 0…6")
                }
                kinds[i] = k
            }
        }
        func id(_ key: String, default d: Int) throws(ModelLoadError) -> Int {
            guard let v = gguf.metadata[key] else { return d }
            guard let i = v.integer, i >= 0, i < n else { throw fail(.invalidValue, key, "found \(v); expected a token id below \(n)") }
            return i
        }
        self.init(pieces: pieces, scores: scores, kinds: kinds,
                  bos: try id("tokenizer.ggml.bos_token_id", default: 1), eos: try id("tokenizer.ggml.eos_token_id", default: 2),
                  unknown: try id("tokenizer.ggml.unknown_token_id", default: 0),
                  addBOS: gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? true)
    }

    /// The `tokenizer.ggml.*` metadata llama.cpp needs for a SentencePiece ("llama") vocabulary.
    public var ggufMetadata: [(String, GGUFValue)] {
        [("tokenizer.ggml.model", .string("llama")),
         ("tokenizer.ggml.tokens", .array(.string, pieces.map { .string($0) })),
         ("tokenizer.ggml.scores", .array(.float32, scores.map { .float32($0) })),
         ("tokenizer.ggml.token_type", .array(.int32, kinds.map { .int32($0.rawValue) })),
         ("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos))),
         ("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos))),
         ("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unknown))),
         ("tokenizer.ggml.add_bos_token", .bool(addBOS)),
         ("tokenizer.ggml.add_eos_token", .bool(false))]
    }
}
