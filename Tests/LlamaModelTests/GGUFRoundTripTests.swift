import Foundation
import Kernels
import LlamaModel
import Testing

@Suite struct GGUFRoundTripTests {
    @Test(arguments: [TensorType.f32, .f16, .q8_0, .q4_0])
    func exportedPresetLoadsBackBitForBit(type: TensorType) throws {
        let original = ModelPreset.tiny.makeWeights(type: type, seed: 11)
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try original.writeGGUF(to: path, name: "tiny", vocabulary: .synthetic(size: 512))
        let loaded = try ModelLoader.load(path)
        #expect(loaded.weights.config == original.config)
        #expect(loaded.weights.weightType == type)
        let a = original.namedTensors, b = loaded.weights.namedTensors
        #expect(a.map(\.name) == b.map(\.name))
        for (x, y) in zip(a, b) {
            #expect(x.dimensions == y.dimensions && x.type == y.type, "\(x.name)")
            #expect(Array(x.data) == Array(y.data), "\(x.name) differs after the round trip")
        }
        let vocabulary = try #require(loaded.tokenizer).vocabulary
        #expect(vocabulary == Vocabulary.synthetic(size: 512))
        #expect(loaded.descriptor().weightType == type.description)
    }

    @Test func tiedPresetHasNoOutputTensorAndReloadsTied() throws {
        let config = ModelConfig(dim: 32, hiddenDim: 64, layers: 1, heads: 2, kvHeads: 1, vocabSize: 512, maxSeqLen: 16,
                                 tiedEmbeddings: true)
        let w = ModelPreset(name: "t", config: config).makeWeights(type: .q8_0)
        #expect(!w.namedTensors.contains { $0.name == "output.weight" })
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try w.writeGGUF(to: path, name: "t", vocabulary: .synthetic(size: 512))
        let back = try ModelWeights.load(gguf: GGUFFile(path: path))
        #expect(back.config.tiedEmbeddings && back.output.base == back.tokenEmbedding.base)
    }

    @Test func f16NormsAreConvertedToF32() throws {
        let w = ModelPreset.tiny.makeWeights(type: .f16, seed: 2)
        var halves: [WeightBuffer] = []
        var tensors: [GGUFWriter.Tensor] = []
        for t in w.namedTensors {
            var tensor = GGUFWriter.Tensor(name: t.name, dimensions: t.dimensions, type: t.type, data: t.data)
            if t.type == .f32 {
                let count: Int = t.data.count / 4
                let half = WeightBuffer(byteCount: count * 2)
                let source: UnsafePointer<Float> = t.data.baseAddress!.assumingMemoryBound(to: Float.self)
                Quantization.quantize(source, count: count, to: .f16, into: half.base)
                halves.append(half)
                tensor = GGUFWriter.Tensor(name: t.name, dimensions: t.dimensions, type: .f16,
                                           data: UnsafeRawBufferPointer(start: half.base, count: count * 2))
            }
            tensors.append(tensor)
        }
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        let metadata: [(String, GGUFValue)] = w.ggufMetadata(name: "h") + Vocabulary.synthetic(size: 512).ggufMetadata
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path)
        withExtendedLifetime(halves) {}
        let back = try ModelWeights.load(gguf: GGUFFile(path: path))
        let original: [Float] = Array(UnsafeBufferPointer(start: w.layers[1].ffnNorm, count: 64))
        let roundTripped: [Float] = Quantization.dequantize(Quantization.quantize(original, to: .f16), count: 64, from: .f16)
        let loaded: [Float] = Array(UnsafeBufferPointer(start: back.layers[1].ffnNorm, count: 64))
        #expect(loaded == roundTripped)
        #expect(loaded != original, "the f16 norms must really have been rounded")
    }

    /// The `gguf` Python package (pip install gguf numpy) reads our export and agrees on the
    /// metadata, the vocabulary and every tensor's bytes and values.
    @Test(arguments: [TensorType.f32, .q8_0])
    func pythonGGUFPackageReadsOurExport(type: TensorType) throws {
        let weights = ModelPreset.tiny.makeWeights(type: type, seed: 5)
        let vocabulary = Vocabulary.synthetic(size: 512)
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try weights.writeGGUF(to: path, name: "tiny", vocabulary: vocabulary)
        let json = try runPython(ReferenceFiles.path("check_gguf.py"), path)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let meta = try #require(summary["metadata"] as? [String: Any])
        #expect(meta["general.architecture"] as? String == "llama")
        #expect(meta["general.name"] as? String == "tiny")
        #expect(meta["general.file_type"] as? Int == (type == .f32 ? 0 : 7))
        #expect(meta["llama.embedding_length"] as? Int == 64)
        #expect(meta["llama.block_count"] as? Int == 2)
        #expect(meta["llama.feed_forward_length"] as? Int == 192)
        #expect(meta["llama.attention.head_count"] as? Int == 4)
        #expect(meta["llama.attention.head_count_kv"] as? Int == 2)
        #expect(meta["llama.rope.dimension_count"] as? Int == 16)
        #expect(meta["llama.context_length"] as? Int == 256)
        #expect(meta["llama.rope.freq_base"] as? Double == 10000)
        #expect(abs((meta["llama.attention.layer_norm_rms_epsilon"] as? Double ?? 0) - 1e-5) < 1e-12)
        #expect(meta["tokenizer.ggml.model"] as? String == "llama")
        #expect(meta["tokenizer.ggml.bos_token_id"] as? Int == 1 && meta["tokenizer.ggml.eos_token_id"] as? Int == 2)

        let vocab = try #require(summary["vocab"] as? [String: Any])
        #expect(vocab["count"] as? Int == 512)
        #expect(vocab["first"] as? [String] == Array(vocabulary.pieces.prefix(300)))
        #expect(vocab["last"] as? String == vocabulary.pieces.last)
        #expect(abs((vocab["score_sum"] as? Double ?? 0) - vocabulary.scores.reduce(0) { $0 + Double($1) }) < 1e-3)
        #expect(vocab["type_counts"] as? [String: Int] == ["1": 253, "2": 1, "3": 2, "6": 256])

        let tensors = try #require(summary["tensors"] as? [String: [String: Any]])
        #expect(tensors.count == weights.namedTensors.count)
        for t in weights.namedTensors {
            let py = try #require(tensors[t.name], "python does not see \(t.name)")
            #expect(py["type"] as? Int == Int(t.type.rawValue), "\(t.name)")
            // gguf's ReaderTensor.shape is in GGML order (ne[0] first).
            #expect(py["shape"] as? [Int] == t.dimensions, "\(t.name)")
            #expect(py["fnv"] as? String == fnv1a64(t.data), "\(t.name) bytes")
            let count = t.data.count / t.type.bytesPerBlock * t.type.blockSize
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBufferPointer { Quantization.dequantize(t.data.baseAddress!, count: count, from: t.type, into: $0.baseAddress!) }
            let sum = values.reduce(0.0) { $0 + Double($1) }, sumsq = values.reduce(0.0) { $0 + Double($1) * Double($1) }
            let pySum = try #require(py["sum"] as? Double), pySumsq = try #require(py["sumsq"] as? Double)
            #expect(abs(sum - pySum) <= 1e-9 * max(1, sumsq), "\(t.name) dequantized sum \(sum) vs python \(pySum)")
            #expect(abs(sumsq - pySumsq) <= 1e-9 * max(1, sumsq), "\(t.name)")
        }
    }
}

func fnv1a64(_ data: UnsafeRawBufferPointer) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// Runs `python3 script args…` and returns its standard output; fails with its stderr.
func runPython(_ arguments: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PythonFailure(message: "python3 \(arguments.joined(separator: " ")) failed (needs `pip install gguf numpy`): "
                            + String(decoding: errors, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

struct PythonFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
