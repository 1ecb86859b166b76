/// Numerically stable softmax.
public enum Softmax {
    /// x[i] ← exp(x[i] − max x) / Σ exp(x[j] − max x), in place over `count` elements.
    /// - Complexity: O(count).
    @inlinable
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        let raw = UnsafeMutableRawPointer(x)
        var maxVector = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            maxVector = VectorOps.maximum(maxVector, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            i += 8
        }
        var maximum = VectorOps.horizontalMax(maxVector)
        while i < count { maximum = max(maximum, x[i]); i += 1 }
        let m = SIMD8<Float>(repeating: maximum)
        var sumVector = SIMD8<Float>()
        i = 0
        while i + 8 <= count {
            let e = FastMath.exp(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
            raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
            sumVector += e
            i += 8
        }
        var sum = VectorOps.horizontalSum(sumVector)
        if i < count {
            var tail = SIMD8<Float>(repeating: -.infinity)
            for j in i..<count { tail[j - i] = x[j] }
            let e = FastMath.exp(tail - m)
            for j in i..<count { x[j] = e[j - i]; sum += e[j - i] }
        }
        let inverse = SIMD8<Float>(repeating: 1 / sum)
        i = 0
        while i + 8 <= count {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * inverse,
                           toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { x[i] *= inverse[0]; i += 1 }
    }
}
