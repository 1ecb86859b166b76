import Foundation
import LlamaModel
import Testing

@Suite struct TextGeneratorTests {
    static let weights = ModelPreset.tiny.makeWeights(type: .f32, seed: 0)
    static let prompt = GoldenLogitsTests.tokens.map(Int.init)

    func run(threads: Int = 2, chunk: Int = 512, parameters: SamplingParameters = .greedy, seed: UInt64 = 1,
             steps: Int = 40, weights: ModelWeights = Self.weights) throws -> [Int] {
        let generator = try TextGenerator(weights: weights, threads: threads, prefillChunk: chunk, clock: { 0 })
        var sampler = Sampler(parameters: parameters, vocabularySize: weights.config.vocabSize, rng: Xoshiro256(seed: seed))
        var tokens: [Int] = []
        let stats = generator.generate(prompt: Self.prompt, steps: steps, sampler: &sampler) { tokens.append($0) }
        #expect(stats.generatedTokens == tokens.count && stats.promptTokens == Self.prompt.count)
        return tokens
    }

    @Test func firstGreedyTokenIsTheArgmaxOfTheReferenceLogits() throws {
        let golden = try JSONDecoder().decode(GoldenLogitsTests.Golden.self,
                                              from: Data(try ReferenceFiles.text(GoldenLogitsTests.goldenName).utf8))
        let last = golden.logits.last!
        #expect(try run(steps: 1) == [last.indices.max { last[$0] < last[$1] }!])
    }

    @Test func greedyIsIndependentOfThreadsAndPrefillChunking() throws {
        let reference = try run()
        #expect(reference.count == 40)
        #expect(Set(reference).count > 8, "greedy output is degenerate: \(reference)")
        #expect(try run(threads: 1) == reference)
        #expect(try run(chunk: 3) == reference)
        #expect(try run(chunk: 1, steps: 10) == Array(reference.prefix(10)))
    }

    @Test func sampledGenerationIsReproducibleFromTheSeed() throws {
        let p = SamplingParameters(temperature: 1, topK: 50, topP: 0.9)
        #expect(try run(parameters: p, seed: 5) == run(parameters: p, seed: 5))
        #expect(try run(threads: 1, parameters: p, seed: 5) == run(parameters: p, seed: 5))
        #expect(try run(parameters: p, seed: 5) != run(parameters: p, seed: 6))
    }

    @Test func quantizedPresetsStayCloseToF32() throws {
        // q8_0 weights perturb logits slightly: the first greedy tokens mostly agree.
        let f = try run(steps: 8)
        let q = try run(steps: 8, weights: ModelPreset.tiny.makeWeights(type: .q8_0, seed: 0))
        #expect(f.first == q.first, "f32 \(f) vs q8_0 \(q)")
    }

    @Test func stopsAtTheEndOfTheContext() throws {
        let generator = try TextGenerator(weights: Self.weights, threads: 1, clock: { 0 })
        var sampler = Sampler(parameters: .greedy, vocabularySize: 512, rng: Xoshiro256(seed: 0))
        let prompt = Array(repeating: 5, count: 250)
        var count = 0
        let stats = generator.generate(prompt: prompt, steps: 100, sampler: &sampler) { _ in count += 1 }
        #expect(count == 6 && stats.generatedTokens == 6)  // context 256
    }
}
