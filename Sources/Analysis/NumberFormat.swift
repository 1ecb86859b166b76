import Foundation

/// Deterministic, locale-independent number formatting used by messages and reports.
public enum NumberFormat {
    /// `x` with exactly `decimals` fraction digits (POSIX locale); trailing zeros removed if asked.
    public static func fixed(_ x: Double, decimals: Int, trimZeros: Bool = false) -> String {
        var s = String(format: "%.\(decimals)f", locale: Locale(identifier: "en_US_POSIX"), x)
        if trimZeros && s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        if s == "-0" { s = "0" }
        return s
    }

    /// `x` in scientific notation with `digits` fraction digits, e.g. 1.234e+09.
    public static func scientific(_ x: Double, digits: Int) -> String {
        String(format: "%.\(digits)e", locale: Locale(identifier: "en_US_POSIX"), x).lowercased()
    }

    /// Up to 6 significant digits, shortest form, for JSON (no exponent between 1e-4 and 1e15).
    public static func json(_ x: Double) -> String {
        if !x.isFinite { return "null" }
        if x == 0 { return "0" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        let a = abs(x)
        if a >= 1e15 || a < 1e-4 {
            var s = String(format: "%.5e", locale: Locale(identifier: "en_US_POSIX"), x).lowercased()
            // Trim mantissa zeros: 1.50000e+09 -> 1.5e+09.
            if let e = s.firstIndex(of: "e") {
                var mant = String(s[..<e]); let exp = String(s[e...])
                while mant.hasSuffix("0") { mant.removeLast() }
                if mant.hasSuffix(".") { mant.removeLast() }
                s = mant + exp.lowercased()
            }
            return s.lowercased()
        }
        let decimals = max(0, 5 - Int(log10(a).rounded(.down)))
        return fixed(x, decimals: decimals, trimZeros: true)
    }

    /// The report's one rule for printed numbers: exact integers below 10⁶ as integers; otherwise
    /// `digits` significant digits (trailing zeros kept, so precision is visible; 1066.75 → "1070"),
    /// and scientific notation (`digits` significant) outside [10⁻³, 10⁶).
    /// ±∞ prints as "∞"/"-∞", NaN as "n/a". Deterministic and locale-independent.
    public static func significant(_ x: Double, digits: Int = 3) -> String {
        if x.isNaN { return "n/a" }
        if x.isInfinite { return x > 0 ? "∞" : "-∞" }
        if x == 0 { return "0" }
        let a = abs(x)
        if x == x.rounded(), a < 1e6 { return String(Int64(x)) }
        if a >= 1e6 || a < 1e-3 { return scientific(x, digits: max(0, digits - 1)) }
        // Round to `digits` significant first so 9.996 becomes 10.0, not 10.00.
        let exponent = Int(log10(a).rounded(.down))
        let scale = pow(10.0, Double(digits - 1 - exponent))
        let rounded = (x * scale).rounded() / scale
        let e2 = Int(log10(abs(rounded)).rounded(.down))
        return fixed(rounded, decimals: max(0, digits - 1 - e2))
    }

    /// A share in [0, 1] as a percentage with `digits` significant digits, e.g. 0.00533 → "0.533%".
    public static func percent(_ share: Double, digits: Int = 3) -> String {
        share.isFinite ? significant(share * 100, digits: digits) + "%" : significant(share)
    }

    /// A duration in seconds with its unit: "1.23 s", "45.6 ms", "789 µs" (3 significant digits).
    public static func duration(_ seconds: Double) -> String {
        let a = abs(seconds)
        if !a.isFinite || a == 0 || a >= 1 { return significant(seconds) + " s" }
        if a >= 1e-3 { return significant(seconds * 1e3) + " ms" }
        return significant(seconds * 1e6) + " µs"
    }

    /// A rate with an SI prefix chosen so the mantissa is in [1, 1000): `si(2.49e10, "FLOP/s")` →
    /// "24.9 GFLOP/s". 3 significant digits.
    public static func si(_ x: Double, _ unit: String) -> String {
        let prefixes: [(Double, String)] = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (scale, p) in prefixes where abs(x) >= scale { return significant(x / scale) + " " + p + unit }
        return significant(x) + " " + unit
    }
}
