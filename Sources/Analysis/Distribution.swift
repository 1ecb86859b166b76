/// A summary of a sample: count, mean, extremes and the percentiles the report uses.
///
/// Percentiles use linear interpolation between order statistics, exactly as NumPy's default
/// `numpy.percentile(x, q)` (method "linear"): with the sample sorted ascending as `x[0…n-1]`,
/// rank `r = q/100·(n-1)`, value `x[⌊r⌋] + (x[⌈r⌉] - x[⌊r⌋])·(r - ⌊r⌋)`. `n` is always reported.
public struct Distribution: Sendable, Equatable {
    /// Number of samples.
    public var count: Int
    public var mean: Double
    public var min: Double
    public var max: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double

    /// Summarises `values` (any order). nil when empty. O(n log n).
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        mean = sorted.reduce(0, +) / Double(sorted.count)
        min = sorted[0]
        max = sorted[sorted.count - 1]
        p50 = Distribution.percentile(sorted: sorted, 50)
        p90 = Distribution.percentile(sorted: sorted, 90)
        p95 = Distribution.percentile(sorted: sorted, 95)
        p99 = Distribution.percentile(sorted: sorted, 99)
    }

    /// NumPy-default (linear) percentile of an ascending, non-empty sample; `q` in 0…100. O(1).
    public static func percentile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "percentile of an empty sample")
        let rank = q / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        let frac = rank - Double(lo)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }

    /// NumPy-default percentile of an unsorted sample; nil when empty. O(n log n).
    public static func percentile(_ values: [Double], _ q: Double) -> Double? {
        values.isEmpty ? nil : percentile(sorted: values.sorted(), q)
    }

    /// The median of an unsorted sample (NumPy `median`); nil when empty.
    public static func median(_ values: [Double]) -> Double? { percentile(values, 50) }
}
