#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to pick the next token from logits.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax); otherwise logits are divided by it before the softmax.
    public var temperature: Float
    /// Keep only the `topK` most probable tokens (0 = no limit).
    public var topK: Int
    /// Keep the smallest set of most probable tokens whose probability reaches `topP`
    /// (1 = no limit).
    public var topP: Float

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingParameters()
}

/// Samples token ids from logits with an injected, seeded generator: the same seed and the same
/// logits give the same tokens. Scratch space is allocated once for the vocabulary size, so
/// ``sample(_:)`` allocates nothing. O(V) per call, plus O(k log k) for the k candidates
/// sorted under top-k / top-p.
public struct Sampler: Sendable {
    public var parameters: SamplingParameters
    public var rng: Xoshiro256
    private var probabilities: [Float]
    private var order: [Int32]

    public init(parameters: SamplingParameters, vocabularySize: Int, rng: Xoshiro256) {
        precondition(parameters.temperature >= 0 && parameters.topK >= 0 && parameters.topP > 0 && parameters.topP <= 1,
                     "invalid sampling parameters \(parameters)")
        self.parameters = parameters
        self.rng = rng
        probabilities = [Float](repeating: 0, count: vocabularySize)
        order = [Int32](repeating: 0, count: vocabularySize)
    }

    /// Index of the largest logit (the first one on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best
    }

    /// Next token for `logits` (one per vocabulary entry).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        precondition(logits.count == probabilities.count, "\(logits.count) logits for a vocabulary of \(probabilities.count)")
        let p = parameters
        guard p.temperature > 0 else { return Self.argmax(logits) }
        let coin = rng.nextUnitFloat()
        return probabilities.withUnsafeMutableBufferPointer { probs in
            order.withUnsafeMutableBufferPointer { idx in
                Self.pick(logits, p, coin: coin, probs: probs, order: idx)
            }
        }
    }

    /// Array convenience for ``sample(_:)``.
    public mutating func sample(_ logits: [Float]) -> Int {
        logits.withUnsafeBufferPointer { sample($0) }
    }

    private static func pick(_ logits: UnsafeBufferPointer<Float>, _ p: SamplingParameters, coin: Float,
                             probs: UnsafeMutableBufferPointer<Float>, order: UnsafeMutableBufferPointer<Int32>) -> Int {
        // Softmax of logits / T (max-subtracted; Double accumulation for a stable sum).
        let maxLogit = logits.max()!
        var sum = 0.0
        for i in logits.indices {
            let e = expf((logits[i] - maxLogit) / p.temperature)
            probs[i] = e
            sum += Double(e)
        }
        let inv = Float(1 / sum)
        for i in probs.indices { probs[i] *= inv }

        let n = logits.count
        let restrict = (p.topK > 0 && p.topK < n) || p.topP < 1
        guard restrict else { return draw(coin, probs.indices.lazy.map { ($0, probs[$0]) }, total: 1, fallback: n - 1) }

        // Candidates: drop tokens that cannot be in the nucleus (as llama2.c does: a token with
        // p < (1 − topP)/(n − 1) can't be needed), then sort by probability, id on ties.
        let cutoff = p.topP < 1 ? (1 - p.topP) / Float(n - 1) : 0
        var m = 0
        for i in 0..<n where probs[i] >= cutoff {
            order[m] = Int32(i)
            m += 1
        }
        var candidates = UnsafeMutableBufferPointer(rebasing: order[0..<m])
        candidates.sort { probs[Int($0)] != probs[Int($1)] ? probs[Int($0)] > probs[Int($1)] : $0 < $1 }
        var keep = p.topK > 0 ? min(p.topK, m) : m
        var mass: Float = 0
        for j in 0..<keep {
            mass += probs[Int(candidates[j])]
            if mass >= p.topP {
                keep = j + 1
                break
            }
        }
        var total: Float = 0
        for j in 0..<keep { total += probs[Int(candidates[j])] }
        return draw(coin, (0..<keep).lazy.map { (Int(candidates[$0]), probs[Int(candidates[$0])]) }, total: total,
                    fallback: Int(candidates[keep - 1]))
    }

    /// Inverse-CDF draw: the first token whose cumulative probability exceeds `coin · total`.
    private static func draw<S: Sequence>(_ coin: Float, _ items: S, total: Float, fallback: Int) -> Int
        where S.Element == (Int, Float) {
        let target = coin * total
        var cdf: Float = 0
        for (token, prob) in items {
            cdf += prob
            if target < cdf { return token }
        }
        return fallback  // rounding: the coin landed past the last cumulative sum
    }
}
