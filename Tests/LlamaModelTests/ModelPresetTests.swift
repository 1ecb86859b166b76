import Kernels
import LlamaModel
import Testing

@Suite struct ModelPresetTests {
    @Test func presetsHaveTheIssuesShapes() throws {
        let s15 = try #require(ModelPreset.named("stories15m")).config
        #expect([s15.dim, s15.layers, s15.heads, s15.kvHeads, s15.hiddenDim, s15.vocabSize, s15.maxSeqLen] == [288, 6, 6, 6, 768, 32000, 256])
        let s110 = try #require(ModelPreset.named("stories110m")).config
        #expect((s110.dim, s110.layers, s110.heads, s110.kvHeads, s110.hiddenDim, s110.vocabSize) == (768, 12, 12, 12, 2048, 32000))
        let l1 = try #require(ModelPreset.named("LLAMA-1B")).config
        #expect((l1.dim, l1.layers, l1.heads, l1.kvHeads, l1.hiddenDim, l1.vocabSize) == (2048, 16, 32, 8, 8192, 32000))
        let tiny = ModelPreset.tiny.config
        #expect(tiny.kvHeads < tiny.heads && tiny.heads % tiny.kvHeads == 0, "tiny must exercise GQA")
        #expect(tiny.hiddenDim % 32 == 0 && tiny.dim % 32 == 0, "tiny must be quantizable to q4_0/q8_0")
        #expect(ModelPreset.named("nope") == nil)
    }

    @Test func sameSeedSameWeightsOtherSeedOtherWeights() {
        let a = ModelPreset.tiny.makeWeights(type: .f32, seed: 1)
        let b = ModelPreset.tiny.makeWeights(type: .f32, seed: 1)
        let c = ModelPreset.tiny.makeWeights(type: .f32, seed: 2)
        #expect(bytes(a.layers[1].down) == bytes(b.layers[1].down))
        #expect(bytes(a.output) == bytes(b.output))
        #expect(bytes(a.layers[1].down) != bytes(c.layers[1].down))
        #expect(bytes(a.layers[0].wq) != bytes(a.layers[1].wq), "layers must differ")
    }

    @Test(arguments: [TensorType.f16, .q8_0, .q4_0])
    func quantizedPresetIsTheQuantizedF32Preset(type: TensorType) {
        let f = ModelPreset.tiny.makeWeights(type: .f32, seed: 3)
        let q = ModelPreset.tiny.makeWeights(type: type, seed: 3)
        #expect(q.weightType == type && q.layers[0].gate.type == type && q.tokenEmbedding.type == type)
        let source = floats(f.layers[0].gate)
        #expect(bytes(q.layers[0].gate) == Quantization.quantize(source, to: type))
        #expect(Array(UnsafeBufferPointer(start: q.finalNorm, count: 64)) == Array(UnsafeBufferPointer(start: f.finalNorm, count: 64)))
    }

    @Test func initializationScalesAreAsDocumented() {
        let w = ModelPreset.tiny.makeWeights(type: .f32, seed: 0)
        let d = Float(w.config.dim)
        #expect(abs(rms(floats(w.tokenEmbedding)) / 0.02 - 1) < 0.03)
        #expect(abs(rms(floats(w.layers[0].wq)) * d.squareRoot() / 2 - 1) < 0.05)
        #expect(abs(rms(floats(w.layers[0].wv)) * d.squareRoot() - 1) < 0.05)
        #expect(abs(rms(floats(w.layers[0].down)) * Float(w.config.hiddenDim).squareRoot() - 1) < 0.05)
        #expect(abs(rms(floats(w.output)) * d.squareRoot() / 3 - 1) < 0.05)
        let norm = Array(UnsafeBufferPointer(start: w.layers[0].attentionNorm, count: w.config.dim))
        #expect(norm.allSatisfy { $0 >= 0.9 && $0 <= 1.1 } && Set(norm).count > 1)
        #expect(w.output.base != w.tokenEmbedding.base, "tiny has an untied LM head")
        let tied = ModelPreset(name: "t", config: ModelConfig(dim: 32, hiddenDim: 64, layers: 1, heads: 2, kvHeads: 1,
                                                              vocabSize: 40, maxSeqLen: 8, tiedEmbeddings: true)).makeWeights()
        #expect(tied.output.base == tied.tokenEmbedding.base)
    }

    @Test func descriptorCarriesShapesAndStorage() {
        let w = ModelPreset.tiny.makeWeights(type: .q8_0)
        let m = w.descriptor(name: "tiny", source: "preset:tiny", kvType: "f16", bytesPerKVElement: 2)
        #expect(m.dim == 64 && m.layers == 2 && m.heads == 4 && m.kvHeads == 2 && m.headDim == 16 && m.ffnDim == 192)
        #expect(m.vocabSize == 512 && m.maxContext == 256 && !m.tiedEmbeddings)
        #expect(m.weightType == "q8_0" && m.bytesPerWeight == 34.0 / 32 && m.kvType == "f16" && m.source == "preset:tiny")
    }
}

func bytes(_ m: WeightMatrix) -> [UInt8] { Array(UnsafeRawBufferPointer(start: m.base, count: m.byteCount)) }

func floats(_ m: WeightMatrix) -> [Float] {
    precondition(m.type == .f32)
    return Array(UnsafeBufferPointer(start: m.base.assumingMemoryBound(to: Float.self), count: m.rows * m.cols))
}

func rms(_ x: [Float]) -> Float { (x.reduce(0) { $0 + $1 * $1 } / Float(x.count)).squareRoot() }
