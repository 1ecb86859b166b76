import Foundation
import LlamaModel

/// A distribution of token counts (prompt or output lengths). Samples are rounded and at least 1.
///
/// Text form (command line, workload parameters): `fixed:64`, `uniform:16-128`, `normal:64,16`
/// (mean, standard deviation), `lognormal:64,0.6` (median, σ of the log), `empirical:16,32,32,200`
/// (drawn uniformly from the listed values).
public enum LengthDistribution: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case uniform(Int, Int)
    case normal(mean: Double, sd: Double)
    case lognormal(median: Double, sigma: Double)
    case empirical([Int])

    /// One sample, ≥ 1. O(1).
    public func sample(_ rng: inout Xoshiro256) -> Int {
        switch self {
        case .fixed(let n): return max(1, n)
        case .uniform(let lo, let hi): return max(1, lo + Int(rng.next() % UInt64(hi - lo + 1)))
        case .normal(let mean, let sd): return max(1, Int((mean + sd * rng.standardNormal()).rounded()))
        case .lognormal(let median, let sigma):
            return max(1, Int((median * exp(sigma * rng.standardNormal())).rounded()))
        case .empirical(let values): return max(1, values[Int(rng.next() % UInt64(values.count))])
        }
    }

    public var description: String {
        switch self {
        case .fixed(let n): return "fixed:\(n)"
        case .uniform(let lo, let hi): return "uniform:\(lo)-\(hi)"
        case .normal(let m, let s): return "normal:\(formatNumber(m)),\(formatNumber(s))"
        case .lognormal(let m, let s): return "lognormal:\(formatNumber(m)),\(formatNumber(s))"
        case .empirical(let v): return "empirical:" + v.map(String.init).joined(separator: ",")
        }
    }

    /// Parses the text form; the error says which form was expected.
    public init(parsing text: String, field: String) throws(WorkloadError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        func bad() -> WorkloadError {
            WorkloadError(source: field, line: nil, field: field, message: "cannot read length distribution '\(text)'",
                          expected: "fixed:N, uniform:LO-HI, normal:MEAN,SD, lognormal:MEDIAN,SIGMA or empirical:N,N,...")
        }
        guard parts.count == 2 else { throw bad() }
        let args = parts[1]
        switch parts[0] {
        case "fixed":
            guard let n = Int(args), n >= 1 else { throw bad() }
            self = .fixed(n)
        case "uniform":
            let r = args.split(separator: "-").compactMap { Int($0) }
            guard r.count == 2, r[0] >= 1, r[1] >= r[0] else { throw bad() }
            self = .uniform(r[0], r[1])
        case "normal", "lognormal":
            let r = args.split(separator: ",").compactMap { Double($0) }
            guard r.count == 2, r[0] > 0, r[1] >= 0 else { throw bad() }
            self = parts[0] == "normal" ? .normal(mean: r[0], sd: r[1]) : .lognormal(median: r[0], sigma: r[1])
        case "empirical":
            let r = args.split(separator: ",").map { Int($0) }
            guard !r.isEmpty, r.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw bad() }
            self = .empirical(r.map { $0! })
        default:
            throw bad()
        }
    }
}

extension Xoshiro256 {
    /// A uniform double in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal sample (Box–Muller). O(1).
    mutating func standardNormal() -> Double {
        let u1 = max(unit(), 0x1.0p-53)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape k, scale 1) sample (Marsaglia–Tsang; boosted for k < 1). O(1) expected.
    mutating func gamma(shape k: Double) -> Double {
        if k < 1 { return gamma(shape: k + 1) * pow(max(unit(), 0x1.0p-53), 1 / k) }
        let d = k - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = standardNormal()
            let v0 = 1 + c * x
            if v0 <= 0 { continue }
            let v = v0 * v0 * v0
            let u = unit()
            if log(max(u, 0x1.0p-53)) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }
}

/// Fixed, locale-free number text: integers without a fraction, otherwise up to 6 significant
/// decimals with trailing zeros removed.
func formatNumber(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
    var s = String(x)
    if s.contains("e") { return s }
    if let dot = s.firstIndex(of: "."), s.distance(from: dot, to: s.endIndex) > 7 {
        s = String(s[..<s.index(dot, offsetBy: 7)])
    }
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}
