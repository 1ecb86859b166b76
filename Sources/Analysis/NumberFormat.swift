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
}
