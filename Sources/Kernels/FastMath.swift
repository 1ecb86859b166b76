/// Vectorized elementary functions for `SIMD8<Float>`.
public enum FastMath {
    /// eˣ for each lane, relative error ≤ 2e-7 over the finite range; lanes below −87.3
    /// give 0 (not denormals), above 88 give +∞. Cody–Waite range reduction
    /// x = n·ln2 + r, |r| ≤ ln2/2, then a degree-6 polynomial for eʳ and 2ⁿ built in the
    /// exponent bits.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = VectorOps.minimum(VectorOps.maximum(x, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.0))
        // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits (no float→int
        // conversion, which Swift does not vectorize).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = magic.addingProduct(clamped, SIMD8(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = clamped
        r.addProduct(n, SIMD8(repeating: -0.693_359_375))
        r.addProduct(n, SIMD8(repeating: 2.121_944_40e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let exponent = (integer &+ 127) &<< 23
        var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
        result.replace(with: 0, where: x .< -87.3)
        result.replace(with: Float.infinity, where: x .> 88.0)
        return result
    }
}
