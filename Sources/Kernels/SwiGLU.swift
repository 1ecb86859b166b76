/// The SwiGLU gate of Llama's MLP.
public enum SwiGLU {
    /// gate[i] ← silu(gate[i]) · up[i], silu(g) = g / (1 + e^(−g)), over `count` elements.
    /// - Complexity: O(count).
    @inlinable
    public static func apply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let rg = UnsafeMutableRawPointer(gate), ru = UnsafeRawPointer(up)
        var i = 0
        while i + 8 <= count {
            let g = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let silu = g / (1 + FastMath.exp(-g))
            rg.storeBytes(of: silu * ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                          toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            var g = SIMD8<Float>()
            g[0] = gate[i]
            let silu = g / (1 + FastMath.exp(-g))
            gate[i] = silu[0] * up[i]
            i += 1
        }
    }
}
