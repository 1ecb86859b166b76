import Foundation

/// The Mann–Whitney U test (Wilcoxon rank-sum), one-sided: is a value drawn from `larger`
/// stochastically greater than one drawn from `smaller`? No assumption on the distributions'
/// shape, which suits latencies (skewed, heavy-tailed, several modes).
///
/// The p-value uses the normal approximation with the tie correction and a continuity correction;
/// for pooled per-request samples (tens to thousands of values per side) it is accurate to well
/// below the significance levels a gate uses. O((n + m) log(n + m)).
public enum MannWhitney {
    /// One-sided p-value of H1 "`larger` tends to exceed `smaller`"; 1 when either side is empty.
    public static func pGreater(_ larger: [Double], than smaller: [Double]) -> Double {
        let n1 = Double(larger.count), n2 = Double(smaller.count)
        guard n1 > 0, n2 > 0 else { return 1 }
        var all: [(value: Double, first: Bool)] = larger.map { ($0, true) } + smaller.map { ($0, false) }
        all.sort { $0.value < $1.value }
        // Mid-ranks for ties, and the tie term Σ(t³ − t).
        var rankSum = 0.0, tieTerm = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].value == all[i].value { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where all[k].first { rankSum += rank }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let u = rankSum - n1 * (n1 + 1) / 2
        let mean = n1 * n2 / 2
        let n = n1 + n2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }  // every value equal: no evidence either way
        let z = (u - mean - 0.5) / variance.squareRoot()
        return 0.5 * erfc(z / 2.0.squareRoot())
    }
}
