import LlamaModel

/// Prompt-lookup drafting: find the most recent earlier occurrence of the context's last n
/// tokens (n = `maxMatch` down to `minMatch`) and propose the tokens that followed it (a copy
/// that runs into the end of the context continues with the period the match implies). No model,
/// no state. The proposal is deterministic (q is a one-hot), which speculative sampling handles
/// losslessly. O(maxMatch · context) per sequence.
public final class NGramDrafter: Drafter {
    public let maxMatch: Int
    public let minMatch: Int

    public init(maxMatch: Int = 3, minMatch: Int = 1) {
        precondition(maxMatch >= minMatch && minMatch >= 1, "NGramDrafter: need maxMatch ≥ minMatch ≥ 1")
        self.maxMatch = maxMatch
        self.minMatch = minMatch
    }

    public var name: String { maxMatch == 3 ? "ngram" : "ngram:\(maxMatch)" }
    public var runsModel: Bool { false }

    public func propose(_ requests: inout [DraftRequest], sampling: SamplingParameters) {
        for i in requests.indices {
            requests[i].tokens = Self.lookup(requests[i].context, count: requests[i].count, maxMatch: maxMatch, minMatch: minMatch)
            requests[i].distributions = []
        }
    }

    public func release(_ sequence: UInt64) {}

    /// The continuation of the latest earlier match of the longest suffix of `context` (length
    /// `maxMatch` down to `minMatch`), `count` tokens (continued periodically past the end of the
    /// context); empty if nothing matches.
    public static func lookup(_ context: [Int32], count: Int, maxMatch: Int, minMatch: Int) -> [Int32] {
        let n = context.count
        guard count > 0 else { return [] }
        for m in stride(from: min(maxMatch, n - 1), through: minMatch, by: -1) where m >= 1 {
            let suffix = context[(n - m)..<n]
            // Candidate starts s with s + m < n (the match is strictly earlier), latest first.
            var s = n - m - 1
            while s >= 0 {
                if context[s..<(s + m)].elementsEqual(suffix) {
                    // Copy what followed; when the copy reaches the end of the context, keep
                    // copying from the proposal itself (the match implies period n − s − m).
                    var extended = context
                    for k in 0..<count { extended.append(extended[s + m + k]) }
                    return Array(extended[n...])
                }
                s -= 1
            }
        }
        return []
    }
}
