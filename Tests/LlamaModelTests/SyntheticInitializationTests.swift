import Kernels
import LlamaModel
import Testing

@Suite struct SyntheticInitializationTests {
    @Test func standardPresetsKeepTheStandardRecipe() {
        for preset in ModelPreset.all where preset.name != "stories15m-peaked" {
            #expect(preset.initialization == .standard, "\(preset.name)")
        }
        #expect(SyntheticInitialization.standard == SyntheticInitialization(embeddingStd: 0.02, queryKeyGain: 2, residualBranchScale: 1, outputGain: 3))
    }

    @Test func peakedPresetIsStories15mUntiedWithScaledBranches() throws {
        let p = try #require(ModelPreset.named("stories15m-peaked"))
        let s = ModelPreset.stories15m.config
        let c = p.config
        #expect([c.dim, c.layers, c.heads, c.kvHeads, c.hiddenDim, c.vocabSize, c.maxSeqLen]
                == [s.dim, s.layers, s.heads, s.kvHeads, s.hiddenDim, s.vocabSize, s.maxSeqLen])
        #expect(!c.tiedEmbeddings, "a strong embedding with a tied head would repeat the last token")
        #expect(p.initialization == .peaked(layers: 6))
    }

    @Test func peakedScalesAreAsDocumented() {
        let config = ModelPreset.tiny.config
        let w = ModelPreset(name: "tiny-peaked", config: config, initialization: .peaked(layers: config.layers)).makeWeights(seed: 0)
        let d = Float(config.dim), f = Float(config.hiddenDim)
        let branch = Float(0.3 / Double(2 * config.layers).squareRoot())
        #expect(abs(rms(floats(w.tokenEmbedding)) - 1) < 0.03)
        #expect(abs(rms(floats(w.layers[0].wq)) * d.squareRoot() / 2 - 1) < 0.05)
        #expect(abs(rms(floats(w.layers[0].wv)) * d.squareRoot() - 1) < 0.05)
        #expect(abs(rms(floats(w.layers[0].wo)) * d.squareRoot() / branch - 1) < 0.05)
        #expect(abs(rms(floats(w.layers[1].down)) * f.squareRoot() / branch - 1) < 0.05)
        #expect(abs(rms(floats(w.output)) * d.squareRoot() / 3 - 1) < 0.05)
    }
}
