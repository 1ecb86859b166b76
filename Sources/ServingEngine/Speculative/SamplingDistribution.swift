#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LlamaModel

/// The explicit next-token distribution the ``Sampler`` draws from, written out as one
/// probability per vocabulary entry, so that speculative verification can compare the target's
/// `p` with the draft's `q` under the same temperature / top-k / top-p (methodology §3.1).
///
/// Same rule as ``Sampler``: softmax of logits / T; then, if restricted, keep the top-k most
/// probable tokens (id order on ties) and, within them, the smallest prefix whose mass reaches
/// top-p; renormalize. Tokens outside the kept set get probability 0. Greedy (T = 0) is the
/// one-hot of the argmax. O(V) plus O(k log k) for the sorted candidates.
public enum SamplingDistribution {
    /// Fills `out` (V floats) with the distribution of `logits` under `parameters`.
    public static func fill(_ logits: UnsafeBufferPointer<Float>, _ parameters: SamplingParameters,
                            into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == logits.count, "SamplingDistribution: \(out.count) outputs for \(logits.count) logits")
        let n = logits.count
        guard parameters.temperature > 0 else {
            out.update(repeating: 0)
            out[Sampler.argmax(logits)] = 1
            return
        }
        let maxLogit = logits.max()!
        var sum = 0.0
        for i in 0..<n {
            let e = expf((logits[i] - maxLogit) / parameters.temperature)
            out[i] = e
            sum += Double(e)
        }
        let inv = Float(1 / sum)
        for i in 0..<n { out[i] *= inv }
        let restrict = (parameters.topK > 0 && parameters.topK < n) || parameters.topP < 1
        guard restrict else { return }
        var order = Array(0..<n)
        order.sort { out[$0] != out[$1] ? out[$0] > out[$1] : $0 < $1 }
        var keep = parameters.topK > 0 ? min(parameters.topK, n) : n
        var mass: Float = 0
        for j in 0..<keep {
            mass += out[order[j]]
            if mass >= parameters.topP {
                keep = j + 1
                break
            }
        }
        var total: Float = 0
        for j in 0..<keep { total += out[order[j]] }
        for j in keep..<n { out[order[j]] = 0 }
        for j in 0..<keep { out[order[j]] /= total }
    }

    /// Array convenience: the distribution of `logits`.
    public static func probabilities(_ logits: [Float], _ parameters: SamplingParameters) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { l in out.withUnsafeMutableBufferPointer { fill(l, parameters, into: $0) } }
        return out
    }

    /// Inverse-CDF draw from `probabilities` (non-negative, summing to `total`) with one uniform
    /// coin from `rng`. Returns the last token with non-zero mass if rounding carries the coin past
    /// the end. O(V).
    public static func draw<G: RandomNumberGenerator>(_ probabilities: UnsafeBufferPointer<Float>, total: Float = 1,
                                                      using rng: inout G) -> Int {
        let coin = Float(rng.next() >> 40) * (1.0 / 16_777_216.0)
        let target = coin * total
        var cdf: Float = 0
        var last = 0
        for i in probabilities.indices where probabilities[i] > 0 {
            cdf += probabilities[i]
            last = i
            if target < cdf { return i }
        }
        return last
    }
}
