/// The read pattern of a decode step, on its own: contiguous memory streamed once with 8-wide
/// loads into four accumulators, as ``MatrixMultiplier``'s streaming path reads weight rows.
/// ``HostProbe`` times it to get the read bandwidth a decode can reach.
///
/// No software prefetch: on the 2-core Zen host a `prefetcht0` 0.5–4 KiB ahead made both
/// this loop and the f32 GEMV 5–20% slower (docs/kernels.md, "Streaming reads").
public enum StreamingRead {
    /// Bytes per unit of work a probe thread claims at a time.
    public static let pieceBytes = 1 << 20

    /// Σ of the floats in `bytes` bytes at `base` (a multiple of 128). The value only keeps
    /// the loads alive. - Complexity: O(bytes).
    @inline(never)
    public static func sum(_ base: UnsafeRawPointer, bytes: Int) -> Float {
        var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>(), d = SIMD8<Float>()
        var offset = 0
        while offset < bytes {
            a += base.load(fromByteOffset: offset, as: SIMD8<Float>.self)
            b += base.load(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
            c += base.load(fromByteOffset: offset + 64, as: SIMD8<Float>.self)
            d += base.load(fromByteOffset: offset + 96, as: SIMD8<Float>.self)
            offset += 128
        }
        return VectorOps.horizontalSum((a + b) + (c + d))
    }
}
