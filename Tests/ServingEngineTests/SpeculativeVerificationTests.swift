import Testing
import LlamaModel
@testable import ServingEngine

/// The verification rules as pure functions, and the statistical test that speculative sampling
/// reproduces the target's distribution.
struct SpeculativeVerificationTests {
    @Test func greedyAcceptsTheMatchingPrefixThenTheTargetToken() {
        let outcome = SpeculativeVerification.greedy(draft: [5, 6, 7], targetChoices: [5, 6, 9, 1])
        #expect(outcome == VerificationOutcome(accepted: 2, tokens: [5, 6, 9]))
        let all = SpeculativeVerification.greedy(draft: [5, 6], targetChoices: [5, 6, 3])
        #expect(all == VerificationOutcome(accepted: 2, tokens: [5, 6, 3]))
        let none = SpeculativeVerification.greedy(draft: [4], targetChoices: [2, 3])
        #expect(none == VerificationOutcome(accepted: 0, tokens: [2]))
        let plain = SpeculativeVerification.greedy(draft: [], targetChoices: [8])
        #expect(plain == VerificationOutcome(accepted: 0, tokens: [8]))
    }

    @Test func samplingRejectsTokensTheTargetCannotProduceAndResamplesFromTheResidual() {
        // p puts no mass on token 0; q is one-hot on 0: always rejected, and the residual is p itself.
        let p: [Float] = [0, 0.5, 0.5, 0,  0.25, 0.25, 0.25, 0.25]
        var rng = Xoshiro256(seed: 3)
        var scratch = [Float](repeating: 0, count: 4)
        for _ in 0..<200 {
            let outcome = p.withUnsafeBufferPointer { pp in
                scratch.withUnsafeMutableBufferPointer { s in
                    SpeculativeVerification.sample(draft: [0], target: pp, draftDistributions: nil, vocabSize: 4, scratch: s, using: &rng)
                }
            }
            #expect(outcome.accepted == 0)
            #expect(outcome.tokens.count == 1 && (outcome.tokens[0] == 1 || outcome.tokens[0] == 2))
        }
        // q == p on a one-hot: always accepted, then a bonus token from the last row.
        let sure: [Float] = [0, 1, 0, 0,  0, 0, 0, 1]
        let outcome = sure.withUnsafeBufferPointer { pp in
            scratch.withUnsafeMutableBufferPointer { s in
                SpeculativeVerification.sample(draft: [1], target: pp, draftDistributions: nil, vocabSize: 4, scratch: s, using: &rng)
            }
        }
        #expect(outcome == VerificationOutcome(accepted: 1, tokens: [1, 3]))
    }

    @Test func samplingDistributionAppliesTemperatureTopKAndTopP() {
        let logits: [Float] = [2, 1, 0, -1]
        let full = SamplingDistribution.probabilities(logits, SamplingParameters(temperature: 1))
        #expect(abs(full.reduce(0, +) - 1) < 1e-5)
        #expect(full[0] > full[1] && full[1] > full[2])
        let topK = SamplingDistribution.probabilities(logits, SamplingParameters(temperature: 1, topK: 2))
        #expect(topK[2] == 0 && topK[3] == 0)
        #expect(abs(topK[0] / topK[1] - full[0] / full[1]) < 1e-4)
        // Top-p 0.7: p0 ≈ 0.64 < 0.7, p0 + p1 ≈ 0.88 ≥ 0.7 → two tokens kept.
        let topP = SamplingDistribution.probabilities(logits, SamplingParameters(temperature: 1, topP: 0.7))
        #expect(topP[0] > 0 && topP[1] > 0 && topP[2] == 0 && topP[3] == 0)
        let greedy = SamplingDistribution.probabilities(logits, .greedy)
        #expect(greedy == [1, 0, 0, 0])
    }

    // MARK: - Chi-square test of losslessness

    /// A 4-token Markov chain: the target's and the draft's next-token logits given the previous
    /// token (deliberately different), turned into distributions with the same sampling
    /// parameters (temperature 0.8, top-k 3, so each row keeps 3 tokens).
    static let parameters = SamplingParameters(temperature: 0.8, topK: 3)
    static let targetLogits: [[Float]] = [[1.0, 0.2, -0.5, 0.4], [0.1, 1.2, 0.3, -1.0], [-0.3, 0.0, 0.9, 0.6], [0.7, -0.2, 0.1, 0.5]]
    static let draftLogits: [[Float]] = [[0.2, 1.0, 0.1, -0.6], [1.0, 0.1, 0.2, 0.4], [0.5, -0.5, 0.3, 1.1], [-0.4, 0.6, 1.0, 0.0]]

    /// Generates the first two output tokens after token 0 by speculative rounds of γ = 3, with
    /// `verify` as the verification rule; returns counts of (x1, x2) as 16 cells.
    static func jointCounts(samples: Int, seed: UInt64,
                            verify: ([Int32], [Float], [Float], inout Xoshiro256) -> VerificationOutcome) -> [Int] {
        let p = targetLogits.map { SamplingDistribution.probabilities($0, parameters) }
        let q = draftLogits.map { SamplingDistribution.probabilities($0, parameters) }
        var rng = Xoshiro256(seed: seed)
        var counts = [Int](repeating: 0, count: 16)
        for _ in 0..<samples {
            var output: [Int32] = []
            var previous: Int32 = 0
            while output.count < 2 {
                var draft: [Int32] = []
                var qRows: [Float] = []
                var last = previous
                for _ in 0..<3 {
                    let x = q[Int(last)].withUnsafeBufferPointer { SamplingDistribution.draw($0, using: &rng) }
                    draft.append(Int32(x))
                    qRows += q[Int(last)]
                    last = Int32(x)
                }
                let pRows = ([previous] + draft).flatMap { p[Int($0)] }
                let outcome = verify(draft, pRows, qRows, &rng)
                output += outcome.tokens
                previous = output.last!
            }
            counts[Int(output[0]) * 4 + Int(output[1])] += 1
        }
        return counts
    }

    /// Pearson's χ² of `counts` against `expected` probabilities over the cells with non-zero
    /// expectation; also whether any zero-probability cell was observed.
    static func chiSquare(_ counts: [Int], expected: [Double]) -> (statistic: Double, cells: Int, impossible: Bool) {
        let n = Double(counts.reduce(0, +))
        var statistic = 0.0, cells = 0, impossible = false
        for (observed, probability) in zip(counts, expected) {
            if probability == 0 {
                if observed > 0 { impossible = true }
                continue
            }
            let e = n * probability
            statistic += (Double(observed) - e) * (Double(observed) - e) / e
            cells += 1
        }
        return (statistic, cells, impossible)
    }

    static var expectedJoint: [Double] {
        let p = targetLogits.map { SamplingDistribution.probabilities($0, parameters) }
        return (0..<16).map { Double(p[0][$0 / 4]) * Double(p[$0 / 4][$0 % 4]) }
    }

    /// Power: with N = 60 000 samples, any alternative that moves probability mass δ = 0.02
    /// (total-variation distance 2%) from one cell a to another b has non-centrality
    /// λ = N·δ²·(1/p_a + 1/p_b) ≥ N·0.0004·2 = 48 (since p ≤ 1). The test has 9 non-zero cells
    /// (top-k 3 keeps 3 tokens per row), df = 8, and rejects at χ² > 26.12 (α = 0.001).
    /// Non-central χ²(8, 48) has mean 56 and s.d. √(2·(8 + 2·48)) ≈ 14.4, so the power is
    /// P(X > 26.12) ≈ Φ((56 − 26.12)/14.4) ≈ Φ(2.07) ≈ 0.98 for every such deviation (higher for
    /// deviations in low-probability cells). The seed is fixed, so the outcome is deterministic.
    static let samples = 60_000
    static let critical = 26.12

    @Test func speculativeSamplingReproducesTheTargetDistribution() {
        let counts = Self.jointCounts(samples: Self.samples, seed: 2023) { draft, p, q, rng in
            var scratch = [Float](repeating: 0, count: 4)
            return p.withUnsafeBufferPointer { pp in
                q.withUnsafeBufferPointer { qq in
                    scratch.withUnsafeMutableBufferPointer { s in
                        SpeculativeVerification.sample(draft: draft, target: pp, draftDistributions: qq, vocabSize: 4, scratch: s, using: &rng)
                    }
                }
            }
        }
        let result = Self.chiSquare(counts, expected: Self.expectedJoint)
        #expect(result.cells == 9)
        #expect(!result.impossible, "a token outside the target's top-k was emitted")
        #expect(result.statistic < Self.critical, "χ² = \(result.statistic) with \(result.cells - 1) df; counts \(counts)")
    }

    /// Negative control: the same test must reject a plausible but wrong rule (on rejection,
    /// resample from p instead of the residual max(0, p − q)), so the test above can fail.
    @Test func chiSquareTestDetectsAResamplingBug() {
        let counts = Self.jointCounts(samples: Self.samples, seed: 2023) { draft, p, q, rng in
            for i in draft.indices {
                let x = Int(draft[i])
                let coin = Float(rng.next() >> 40) * (1.0 / 16_777_216.0)
                if coin * q[i * 4 + x] < p[i * 4 + x] { continue }
                let token = p[(i * 4)..<(i * 4 + 4)].withUnsafeBufferPointer { SamplingDistribution.draw($0, using: &rng) }
                return VerificationOutcome(accepted: i, tokens: Array(draft[0..<i]) + [Int32(token)])
            }
            let bonus = p[(draft.count * 4)...].withUnsafeBufferPointer { SamplingDistribution.draw($0, using: &rng) }
            return VerificationOutcome(accepted: draft.count, tokens: draft + [Int32(bonus)])
        }
        let result = Self.chiSquare(counts, expected: Self.expectedJoint)
        #expect(result.statistic > Self.critical, "the biased rule passed: χ² = \(result.statistic)")
    }

    @Test func adaptiveDraftLengthFollowsTheAcceptanceRate() {
        var high = AdaptiveDraftLength(maximum: 8)
        for _ in 0..<20 { high.record(drafted: 4, accepted: 4) }
        var low = AdaptiveDraftLength(maximum: 8)
        for _ in 0..<20 { low.record(drafted: 4, accepted: 0) }
        #expect(high.alpha > 0.8 && low.alpha < 0.2)  // the Beta(1,1) prior over ≈ 5 decayed trials
        #expect(high.next(costRatio: 0.05) > low.next(costRatio: 0.05))
        #expect(low.next(costRatio: 0.05) == 1)
        // A costlier draft asks for shorter drafts at the same acceptance.
        #expect(high.next(costRatio: 0.5) < high.next(costRatio: 0.01))
    }

    @Test func parsesStrategiesAndDraftLengths() throws {
        #expect(try DraftStrategy(parsing: "draft:tiny") == .draftModel("tiny"))
        #expect(try DraftStrategy(parsing: "quant") == .quantized)
        #expect(try DraftStrategy(parsing: "early-exit:3") == .earlyExit(layers: 3))
        #expect(try DraftStrategy(parsing: "ngram") == .ngram(maxMatch: 3))
        #expect(try DraftStrategy(parsing: "ngram:2").description == "ngram:2")
        #expect(throws: SpeculationConfigError.self) { try DraftStrategy(parsing: "early-exit:0") }
        #expect(throws: SpeculationConfigError.self) { try DraftStrategy(parsing: "medusa") }
        #expect(try DraftLength(parsing: "4") == .fixed(4))
        #expect(try DraftLength(parsing: "adaptive") == .adaptive(maximum: 8))
        #expect(throws: SpeculationConfigError.self) { try DraftLength(parsing: "0") }
    }
}
