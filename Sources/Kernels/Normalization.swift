/// Root-mean-square layer normalization (Llama's RMSNorm).
public enum RMSNorm {
    /// out[i] = x[i] · weight[i] / sqrt(mean(x²) + epsilon) over `count` elements.
    /// `out` may alias `x`. - Complexity: O(count).
    @inlinable
    public static func apply(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float, count: Int,
                             into out: UnsafeMutablePointer<Float>) {
        let sumOfSquares = VectorOps.dot(x, x, count: count)
        let scale = 1 / (sumOfSquares / Float(count) + epsilon).squareRoot()
        let s = SIMD8<Float>(repeating: scale)
        let rx = UnsafeRawPointer(x), rw = UnsafeRawPointer(weight), ro = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 8 <= count {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * s
                * rw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ro.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            out[i] = x[i] * scale * weight[i]
            i += 1
        }
    }
}
