import Foundation
import LlamaModel
import Testing

@Suite struct SamplerTests {
    let logits: [Float] = [log(0.5), log(0.3), log(0.2)]

    func frequencies(_ p: SamplingParameters, seed: UInt64 = 42, draws: Int = 20000, logits: [Float]? = nil) -> [Double] {
        let l = logits ?? self.logits
        var s = Sampler(parameters: p, vocabularySize: l.count, rng: Xoshiro256(seed: seed))
        var counts = [Int](repeating: 0, count: l.count)
        for _ in 0..<draws { counts[s.sample(l)] += 1 }
        return counts.map { Double($0) / Double(draws) }
    }

    @Test func greedyIsArgmaxFirstOnTies() {
        var s = Sampler(parameters: .greedy, vocabularySize: 4, rng: Xoshiro256(seed: 1))
        #expect(s.sample([0.1, 2, 2, -1]) == 1)
        #expect(s.sample([-3, -2, -9, -1]) == 3)
    }

    @Test func sameSeedSameTokensOtherSeedOtherTokens() {
        let p = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95)
        let l = (0..<1000).map { Float(sin(Double($0) * 0.37)) * 3 }
        func run(_ seed: UInt64) -> [Int] {
            var s = Sampler(parameters: p, vocabularySize: l.count, rng: Xoshiro256(seed: seed))
            return (0..<200).map { _ in s.sample(l) }
        }
        #expect(run(7) == run(7))
        #expect(run(7) != run(8))
    }

    @Test func temperatureOneFollowsTheSoftmax() {
        let f = frequencies(SamplingParameters(temperature: 1))
        for (got, want) in zip(f, [0.5, 0.3, 0.2]) { #expect(abs(got - want) < 0.015, "\(f)") }
    }

    @Test func temperatureSharpens() {
        // T = 0.5 squares the probabilities: 0.25 : 0.09 : 0.04.
        let f = frequencies(SamplingParameters(temperature: 0.5))
        for (got, want) in zip(f, [0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38]) { #expect(abs(got - want) < 0.015, "\(f)") }
    }

    @Test func topKKeepsTheKMostLikely() {
        #expect(frequencies(SamplingParameters(temperature: 1, topK: 1)) == [1, 0, 0])
        let f = frequencies(SamplingParameters(temperature: 1, topK: 2))
        #expect(f[2] == 0 && abs(f[0] - 0.625) < 0.015, "\(f)")
    }

    @Test func topPKeepsTheSmallestNucleus() {
        #expect(frequencies(SamplingParameters(temperature: 1, topP: 0.5)) == [1, 0, 0])
        let f = frequencies(SamplingParameters(temperature: 1, topP: 0.6))
        #expect(f[2] == 0 && abs(f[0] - 0.625) < 0.015, "\(f)")
        let all = frequencies(SamplingParameters(temperature: 1, topP: 0.99))
        #expect(all.allSatisfy { $0 > 0.15 }, "\(all)")
    }

    @Test func rngIsDeterministicAndUniform() {
        var a = Xoshiro256(seed: 3), b = Xoshiro256(seed: 3)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var g = Xoshiro256(seed: 4)
        let mean = (0..<100_000).reduce(0.0) { acc, _ in acc + Double(g.nextUnitFloat()) } / 100_000
        #expect(abs(mean - 0.5) < 0.005)
    }
}
