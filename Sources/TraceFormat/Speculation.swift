/// Speculative-decoding formulas (methodology §3, Leviathan et al. 2023).
public enum Speculation {
    /// Expected tokens per target forward: τ(α, γ) = (1 − α^(γ+1))/(1 − α); γ+1 at α = 1.
    public static func tau(alpha: Double, gamma: Int) -> Double {
        if alpha >= 1 { return Double(gamma + 1) }
        return (1 - pow(alpha, Double(gamma + 1))) / (1 - alpha)
    }

    /// The α with τ(α, γ) = `meanAcceptedLength`, by bisection on [0, 1] (τ is increasing in α).
    /// Clamped: ≤ 1 → 0, ≥ γ+1 → 1. 200 iterations (≈ machine precision).
    public static func solveAlpha(meanAcceptedLength m: Double, gamma: Int) -> Double {
        if m <= 1 { return 0 }
        if m >= Double(gamma + 1) { return 1 }
        var lo = 0.0, hi = 1.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if tau(alpha: mid, gamma: gamma) < m { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Leviathan Theorem 3.8: S = τ/(γ·c + 1).
    public static func speedup(alpha: Double, gamma: Int, costRatio c: Double) -> Double {
        tau(alpha: alpha, gamma: gamma) / (Double(gamma) * c + 1)
    }

    /// Batch-aware speedup (methodology §3.3): S(B) = τ·T_t(B,1)/(γ·T_d + T_t(B,γ+1)), with the
    /// draft step T_d = c·T_t(B,1).
    public static func batchSpeedup(tau: Double, gamma: Int, costRatio c: Double,
                                    targetStep t1: Double, verifyStep tv: Double) -> Double {
        tau * t1 / (Double(gamma) * c * t1 + tv)
    }

    private static func pow(_ x: Double, _ y: Double) -> Double {
        var r = 1.0
        var n = Int(y)
        var b = x
        while n > 0 { if n & 1 == 1 { r *= b }; b *= b; n >>= 1 }
        return r
    }
}
