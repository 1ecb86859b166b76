#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding, GGML "normal" mode (the one llama.cpp uses for LLM_ARCH_LLAMA,
/// and llama2.c's convention): within each head, the adjacent pair (2i, 2i+1) is rotated by
/// the angle pos · θ^(−2i/d_h).
public enum RotaryEmbedding {
    /// Fills `table[2i] = cos(pos·θ^(−2i/d_h))`, `table[2i+1] = sin(…)` for i < headDim/2
    /// (`headDim` floats). Angles are computed in double precision. - Complexity: O(headDim).
    public static func fillTable(position: Int, headDim: Int, theta: Float, into table: UnsafeMutablePointer<Float>) {
        for i in 0..<(headDim / 2) {
            let frequency = pow(Double(theta), -Double(2 * i) / Double(headDim))
            let angle = Double(position) * frequency
            table[2 * i] = Float(cos(angle))
            table[2 * i + 1] = Float(sin(angle))
        }
    }

    /// Rotates `heads` consecutive heads of `headDim` floats at `x` in place with a table made
    /// by ``fillTable(position:headDim:theta:into:)``. - Complexity: O(heads · headDim).
    @inlinable
    public static func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, table: UnsafePointer<Float>) {
        for h in 0..<heads {
            let v = x + h * headDim
            var i = 0
            let raw = UnsafeMutableRawPointer(v), rt = UnsafeRawPointer(table)
            while i + 8 <= headDim {
                // Lanes: [x0 x1 x2 x3 …] pairs; table [c0 s0 c1 s1 …].
                let xs = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let cs = rt.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let cosines = SIMD8<Float>(cs[0], cs[0], cs[2], cs[2], cs[4], cs[4], cs[6], cs[6])
                let sines = SIMD8<Float>(-cs[1], cs[1], -cs[3], cs[3], -cs[5], cs[5], -cs[7], cs[7])
                let swapped = SIMD8<Float>(xs[1], xs[0], xs[3], xs[2], xs[5], xs[4], xs[7], xs[6])
                raw.storeBytes(of: (xs * cosines).addingProduct(swapped, sines), toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i + 2 <= headDim {
                let c = table[i], s = table[i + 1]
                let a = v[i], b = v[i + 1]
                v[i] = a * c - b * s
                v[i + 1] = a * s + b * c
                i += 2
            }
        }
    }
}
