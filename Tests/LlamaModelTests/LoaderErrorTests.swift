import Foundation
import Kernels
import LlamaModel
import Testing

/// Every way a model file can be malformed gives a typed error naming the file, the field and
/// (where it has one) the byte offset — never a crash.
@Suite struct GGUFErrorTests {
    static let config = ModelConfig(dim: 32, hiddenDim: 64, layers: 1, heads: 2, kvHeads: 1, vocabSize: 512, maxSeqLen: 16)
    static let weights = ModelPreset(name: "err", config: config).makeWeights(type: .q8_0, seed: 1)

    /// The bytes of a valid GGUF, optionally with edited metadata or tensors.
    static func file(editMetadata: (inout [(String, GGUFValue)]) -> Void = { _ in },
                     editTensors: (inout [GGUFWriter.Tensor]) -> Void = { _ in }) throws -> [UInt8] {
        var metadata = weights.ggufMetadata(name: "err") + Vocabulary.synthetic(size: 512).ggufMetadata
        editMetadata(&metadata)
        var tensors = weights.namedTensors.map { GGUFWriter.Tensor(name: $0.name, dimensions: $0.dimensions, type: $0.type, data: $0.data) }
        editTensors(&tensors)
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Loads `bytes` as a model; returns the error it must throw.
    func loadError(_ bytes: [UInt8]) throws -> ModelLoadError {
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ModelLoader.load(path)
        } catch {
            #expect(error.file == path)
            #expect(error.description.hasPrefix(path))
            return error
        }
        Issue.record("the malformed file loaded")
        return ModelLoadError(.io, file: "", field: "", detail: "")
    }

    /// Offset of the u32 `n_dims` of tensor `name`'s directory entry.
    func tensorInfoOffset(_ bytes: [UInt8], _ name: String) -> Int {
        let needle = withUnsafeBytes(of: UInt64(name.utf8.count).littleEndian, Array.init) + Array(name.utf8)
        for i in 0...(bytes.count - needle.count) where bytes[i..<i + needle.count].elementsEqual(needle) { return i + needle.count }
        fatalError("no tensor \(name)")
    }

    func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    @Test func validFileLoads() throws {
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try Data(try Self.file()).write(to: URL(fileURLWithPath: path))
        #expect(try ModelLoader.load(path).weights.config == Self.config)
    }

    @Test func badMagic() throws {
        var b = try Self.file()
        b[0] = UInt8(ascii: "X")
        let e = try loadError(b)
        // Not GGUF, so it is read as a llama2.c checkpoint whose header is nonsense.
        #expect(e.kind == .invalidValue && e.field.hasPrefix("header."))
        let g = try ggufError(b)
        #expect(g.kind == .badMagic && g.offset == 0 && g.field == "header.magic" && g.detail.contains("expected 0x46554747"))
    }

    @Test func unsupportedVersion() throws {
        var b = try Self.file()
        put(UInt32(1), at: 4, in: &b)
        let e = try loadError(b)
        #expect(e.kind == .unsupportedVersion && e.offset == 4 && e.field == "header.version" && e.detail.contains("found 1; expected 2 or 3"))
    }

    @Test func truncatedHeader() throws {
        let e = try loadError(Array(try Self.file().prefix(10)))
        #expect(e.kind == .truncated && e.offset == 8 && e.field == "header.tensor_count" && e.detail.contains("needs 8 bytes"))
    }

    @Test func emptyFile() throws {
        let e = try loadError([])
        #expect(e.kind == .truncated && e.detail.contains("empty"))
    }

    @Test func missingFileNamesThePresets() throws {
        do {
            _ = try ModelLoader.load("/nonexistent/model.gguf")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.kind == .io && error.detail.contains("stories15m") && error.file == "/nonexistent/model.gguf")
        }
    }

    @Test func absurdCountsAreRefusedBeforeAllocating() throws {
        var b = try Self.file()
        put(UInt64.max, at: 8, in: &b)
        var e = try loadError(b)
        #expect(e.kind == .invalidValue && e.offset == 8 && e.field == "header.tensor_count" && e.detail.contains("cannot fit"))
        b = try Self.file()
        put(UInt64(1) << 40, at: 16, in: &b)
        e = try loadError(b)
        #expect(e.kind == .invalidValue && e.offset == 16 && e.field == "header.metadata_kv_count")
        b = try Self.file()
        put(UInt64.max - 3, at: 24, in: &b)  // length of the first key
        e = try loadError(b)
        #expect(e.kind == .invalidValue && e.offset == 24 && e.field == "metadata[0].key.length")
    }

    @Test func absurdArrayCount() throws {
        var b = try Self.file()
        // tokenizer.ggml.tokens: key, u32 type (9), u32 element type (8), u64 count.
        let key = Array("tokenizer.ggml.tokens".utf8)
        let at = (0...(b.count - key.count)).first { b[$0..<$0 + key.count].elementsEqual(key) }! + key.count + 8
        put(UInt64(1) << 50, at: at, in: &b)
        let e = try loadError(b)
        #expect(e.kind == .invalidValue && e.offset == at && e.field == "metadata \"tokenizer.ggml.tokens\".count")
    }

    @Test func badValueType() throws {
        var b = try Self.file()
        let keyLength = Int(b[24])  // "general.architecture", < 256
        put(UInt32(99), at: 32 + keyLength, in: &b)
        let e = try loadError(b)
        #expect(e.kind == .wrongType && e.offset == 32 + keyLength && e.field == "metadata \"general.architecture\".type")
    }

    @Test func truncatedInsideMetadata() throws {
        let e = try loadError(Array(try Self.file().prefix(6000)))
        #expect(e.kind == .truncated && e.field.hasPrefix("metadata \"tokenizer.ggml.tokens\"["), "\(e)")
    }

    @Test func truncatedTensorData() throws {
        let e = try loadError(Array(try Self.file().dropLast(100)))
        #expect(e.kind == .outOfBounds && e.field == "tensor \"blk.0.ffn_up.weight\"" && e.detail.contains("past the end"))
    }

    @Test func tensorOffsetOutOfBoundsOrUnaligned() throws {
        var b = try Self.file()
        let info = tensorInfoOffset(b, "blk.0.attn_q.weight")
        put(UInt64(1) << 40, at: info + 4 + 16 + 4, in: &b)
        var e = try loadError(b)
        #expect(e.kind == .outOfBounds && e.field == "tensor \"blk.0.attn_q.weight\".offset" && e.offset == info + 24)
        b = try Self.file()
        put(UInt64(33), at: info + 4 + 16 + 4, in: &b)
        e = try loadError(b)
        #expect(e.kind == .outOfBounds && e.detail.contains("multiple of the alignment 32"))
    }

    @Test func absurdDimensions() throws {
        var b = try Self.file()
        let info = tensorInfoOffset(b, "blk.0.attn_q.weight")
        put(UInt32(9), at: info, in: &b)
        var e = try loadError(b)
        #expect(e.kind == .invalidValue && e.field == "tensor \"blk.0.attn_q.weight\".n_dims" && e.offset == info)
        b = try Self.file()
        put(UInt64.max, at: info + 4 + 8, in: &b)
        e = try loadError(b)
        #expect(e.kind == .invalidValue && e.field == "tensor \"blk.0.attn_q.weight\".ne[1]")
    }

    @Test func unsupportedTensorType() throws {
        var b = try Self.file()
        let info = tensorInfoOffset(b, "blk.0.attn_q.weight")
        put(UInt32(14), at: info + 4 + 16, in: &b)  // q6_K
        let e = try loadError(b)
        #expect(e.kind == .wrongType && e.field == "tensor \"blk.0.attn_q.weight\"" && e.detail.contains("ggml type 14"))
    }

    @Test func missingTensor() throws {
        let e = try loadError(try Self.file(editTensors: { $0.removeAll { $0.name == "blk.0.ffn_up.weight" } }))
        #expect(e.kind == .missing && e.field == "tensor \"blk.0.ffn_up.weight\"" && e.detail.contains("[32, 64]"))
    }

    @Test func wrongTensorShape() throws {
        let b = try Self.file(editTensors: { ts in
            let i = ts.firstIndex { $0.name == "blk.0.attn_q.weight" }!
            ts[i].dimensions = [64, 16]  // same bytes, another shape
        })
        let e = try loadError(b)
        #expect(e.kind == .invalidValue && e.field == "tensor \"blk.0.attn_q.weight\"" && e.detail.contains("expected [32, 32]"), "\(e)")
    }

    @Test func wrongArchitecture() throws {
        let e = try loadError(try Self.file(editMetadata: { m in
            m[m.firstIndex { $0.0 == "general.architecture" }!].1 = .string("gpt2")
        }))
        #expect(e.kind == .wrongType && e.field == "metadata \"general.architecture\"" && e.detail.contains("expected \"llama\""))
        #expect(e.offset != nil)
    }

    @Test func missingOrInvalidHyperParameters() throws {
        var e = try loadError(try Self.file(editMetadata: { $0.removeAll { $0.0 == "llama.block_count" } }))
        #expect(e.kind == .missing && e.field == "metadata \"llama.block_count\"")
        e = try loadError(try Self.file(editMetadata: { m in
            m[m.firstIndex { $0.0 == "llama.attention.head_count" }!].1 = .uint32(3)
        }))
        #expect(e.kind == .invalidValue && e.detail.contains("3 heads do not divide embedding_length 32"))
        e = try loadError(try Self.file(editMetadata: { m in
            m[m.firstIndex { $0.0 == "llama.embedding_length" }!].1 = .string("big")
        }))
        #expect(e.kind == .wrongType && e.field == "metadata \"llama.embedding_length\"")
        e = try loadError(try Self.file(editMetadata: { $0.append(("general.alignment", .uint32(24))) }))
        #expect(e.kind == .invalidValue && e.field == "metadata \"general.alignment\"")
    }

    @Test func vocabularyMismatch() throws {
        let e = try loadError(try Self.file(editMetadata: { m in
            let i = m.firstIndex { $0.0 == "tokenizer.ggml.scores" }!
            m[i].1 = .array(.float32, [.float32(0)])
        }))
        #expect(e.kind == .invalidValue && e.field == "metadata \"tokenizer.ggml.scores\"" && e.detail.contains("512"))
        let bad = try loadError(try Self.file(editMetadata: { m in
            let i = m.firstIndex { $0.0 == "tokenizer.ggml.token_type" }!
            m[i].1 = .array(.int32, (0..<512).map { .int32($0 == 7 ? 9 : 1) })
        }))
        #expect(bad.kind == .invalidValue && bad.field == "metadata \"tokenizer.ggml.token_type\"" && bad.detail.contains("token 7 has type"))
        let noTokenizer = try Self.file(editMetadata: { m in
            m[m.firstIndex { $0.0 == "tokenizer.ggml.model" }!].1 = .string("gpt2")
        })
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try Data(noTokenizer).write(to: URL(fileURLWithPath: path))
        #expect(try ModelLoader.load(path).tokenizer == nil, "a non-llama tokenizer loads the model without a tokenizer")
    }

    func ggufError(_ bytes: [UInt8]) throws -> ModelLoadError {
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do { _ = try GGUFFile(path: path) } catch { return error }
        Issue.record("parsed")
        return ModelLoadError(.io, file: "", field: "", detail: "")
    }
}
