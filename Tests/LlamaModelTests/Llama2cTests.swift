import Foundation
import Kernels
import LlamaModel
import Testing

@Suite struct Llama2cTests {
    /// A legacy llama2.c checkpoint of `w` (f32), written the way llama2.c's export.py does.
    static func checkpoint(_ w: ModelWeights) -> [UInt8] {
        let c = w.config
        var out: [UInt8] = []
        for v in [c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.tiedEmbeddings ? c.vocabSize : -c.vocabSize, c.maxSeqLen] {
            withUnsafeBytes(of: Int32(v).littleEndian) { out += $0 }
        }
        func add(_ m: WeightMatrix) { out += UnsafeRawBufferPointer(start: m.base, count: m.byteCount) }
        func add(_ p: UnsafePointer<Float>) { out += UnsafeRawBufferPointer(start: p, count: c.dim * 4) }
        add(w.tokenEmbedding)
        w.layers.forEach { add($0.attentionNorm) }
        w.layers.forEach { add($0.wq) }
        w.layers.forEach { add($0.wk) }
        w.layers.forEach { add($0.wv) }
        w.layers.forEach { add($0.wo) }
        w.layers.forEach { add($0.ffnNorm) }
        w.layers.forEach { add($0.gate) }
        w.layers.forEach { add($0.down) }
        w.layers.forEach { add($0.up) }
        add(w.finalNorm)
        out += [UInt8](repeating: 0, count: c.maxSeqLen * c.headDim * 4)  // freq_cis_real + imag
        if !c.tiedEmbeddings { add(w.output) }
        return out
    }

    static func tokenizerBin(_ v: Vocabulary) -> [UInt8] {
        var out: [UInt8] = []
        let pieces = v.pieces.map { Array($0.replacingOccurrences(of: Vocabulary.spaceMarker, with: " ").utf8) }
        withUnsafeBytes(of: Int32(pieces.map(\.count).max()!).littleEndian) { out += $0 }
        for (i, p) in pieces.enumerated() {
            withUnsafeBytes(of: v.scores[i].bitPattern.littleEndian) { out += $0 }
            withUnsafeBytes(of: Int32(p.count).littleEndian) { out += $0 }
            out += p
        }
        return out
    }

    func write(_ bytes: [UInt8], _ suffix: String = ".bin") throws -> String {
        let path = ReferenceFiles.temporaryPath(suffix)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [false, true])
    func checkpointLoadsTheSameTensors(tied: Bool) throws {
        var config = ModelPreset.tiny.config
        config.tiedEmbeddings = tied
        let original = ModelPreset(name: "x", config: config).makeWeights(type: .f32, seed: 9)
        let path = try write(Self.checkpoint(original))
        defer { unlink(path) }
        let loaded = try ModelWeights.loadLlama2c(path: path)
        #expect(loaded.config == config)
        for (a, b) in zip(original.namedTensors, loaded.namedTensors) {
            #expect(a.name == b.name && Array(a.data) == Array(b.data), "\(a.name)")
        }
        #expect(loaded.config.tiedEmbeddings == tied && (loaded.output.base == loaded.tokenEmbedding.base) == tied)
    }

    @Test func tokenizerBinMatchesTheVocabulary() throws {
        let vocabulary = Vocabulary.synthetic(size: 512)
        let model = try write(Self.checkpoint(ModelPreset.tiny.makeWeights()))
        let tok = try write(Self.tokenizerBin(vocabulary))
        defer { unlink(model); unlink(tok) }
        let loaded = try ModelLoader.load(model, tokenizerPath: tok)
        let v = try #require(loaded.tokenizer).vocabulary
        #expect(v.pieces == vocabulary.pieces && v.scores == vocabulary.scores && v.kinds == vocabulary.kinds)
        #expect(loaded.source == model)
    }

    @Test func malformedCheckpoints() throws {
        let good = Self.checkpoint(ModelPreset.tiny.makeWeights())
        func error(_ bytes: [UInt8]) throws -> ModelLoadError {
            let path = try write(bytes)
            defer { unlink(path) }
            do { _ = try ModelWeights.loadLlama2c(path: path) } catch { return error }
            Issue.record("loaded")
            return ModelLoadError(.io, file: "", field: "", detail: "")
        }
        var e = try error(Array(good.dropLast(4)))
        #expect(e.kind == .truncated && e.field == "weights" && e.detail.contains("need \(good.count) bytes"))
        e = try error(Array(good.prefix(20)))
        #expect(e.kind == .truncated && e.field == "header.vocab_size" && e.offset == 20)
        var b = good
        b.replaceSubrange(0..<4, with: withUnsafeBytes(of: Int32(-5).littleEndian, Array.init))
        e = try error(b)
        #expect(e.kind == .invalidValue && e.field == "header.dim" && e.offset == 0 && e.detail.contains("found -5"))
        b = good
        b.replaceSubrange(16..<20, with: withUnsafeBytes(of: Int32(3).littleEndian, Array.init))
        e = try error(b)
        #expect(e.kind == .invalidValue && e.field == "header.n_kv_heads")
        b = good
        b.replaceSubrange(8..<12, with: withUnsafeBytes(of: Int32(Int32.max).littleEndian, Array.init))
        e = try error(b)
        #expect(e.kind == .invalidValue && e.field == "header.n_layers")
        b = Array("ak42".utf8.reversed()) + withUnsafeBytes(of: Int32(2).littleEndian, Array.init) + good.dropFirst(8)
        e = try error(b)
        #expect(e.kind == .unsupportedVersion && e.detail.contains("version-2"))
    }

    @Test func malformedTokenizerBin() throws {
        let good = Self.tokenizerBin(Vocabulary.synthetic(size: 512))
        func error(_ bytes: [UInt8], size: Int = 512) throws -> ModelLoadError {
            let path = try write(bytes)
            defer { unlink(path) }
            do { _ = try Vocabulary(llama2cTokenizer: path, size: size) } catch { return error }
            Issue.record("loaded")
            return ModelLoadError(.io, file: "", field: "", detail: "")
        }
        var e = try error(Array(good.dropLast(1)))
        #expect(e.kind == .truncated && e.field == "token[511].bytes")
        e = try error(good, size: 100_000)
        #expect(e.kind == .truncated && e.field == "tokens" && e.detail.contains("100000"))
        var b = good
        b.replaceSubrange(8..<12, with: withUnsafeBytes(of: Int32(1 << 20).littleEndian, Array.init))  // token 0 length
        e = try error(b)
        #expect(e.kind == .invalidValue && e.field == "token[0].length" && e.offset == 8)
    }
}
