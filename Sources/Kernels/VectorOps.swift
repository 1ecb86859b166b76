/// Small vector primitives over contiguous `Float` memory, vectorized with `SIMD8<Float>`
/// (one AVX2 register) and fused multiply-adds. Counts need not be multiples of 8.
public enum VectorOps {
    /// Σ a[i]·b[i] over `count` elements. Four independent accumulators hide FMA latency.
    /// - Complexity: O(count).
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= count {
            s0.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            s1.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self))
            s2.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self))
            s3.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self))
            i += 32
        }
        while i + 8 <= count {
            s0.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            i += 8
        }
        var total = horizontalSum((s0 + s1) + (s2 + s3))
        while i < count {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// y[i] += alpha·x[i] over `count` elements.
    /// - Complexity: O(count).
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let a = SIMD8<Float>(repeating: alpha)
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            var v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            v.addProduct(a, rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }

    /// Pairwise sum of the eight lanes (a fixed tree, so results do not depend on the caller).
    @inlinable @inline(__always)
    public static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// Largest lane.
    @inlinable @inline(__always)
    public static func horizontalMax(_ v: SIMD8<Float>) -> Float {
        let four = maximum(v.lowHalf, v.highHalf)
        let two = maximum(four.lowHalf, four.highHalf)
        return max(two[0], two[1])
    }

    /// Lane-wise maximum, one `vmaxps`. (The standard library's `pointwiseMax` and `clamped`
    /// are generic functions that stay out-of-line calls looping over lanes: measured, they made
    /// the q8_0 rounding of a prefill's activations cost 20 % of stories15m pp512. Concrete
    /// types only: a generic version here is not specialized and runs 2x slower still.)
    /// A NaN in `b` yields `a`'s lane.
    @inlinable @inline(__always)
    public static func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

    /// Lane-wise minimum, one `vminps` (see ``maximum(_:_:)-(SIMD8<Float>,_)``).
    @inlinable @inline(__always)
    public static func minimum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .< a) }

    @inlinable @inline(__always)
    static func maximum(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> { a.replacing(with: b, where: b .> a) }

    @inlinable @inline(__always)
    static func maximum(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> SIMD2<Float> { a.replacing(with: b, where: b .> a) }

    /// Converts `count` IEEE half-precision values to `Float` (F16C `vcvtph2ps` when built
    /// for AVX2). - Complexity: O(count).
    @inlinable
    public static func convertF16ToF32(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        let out = UnsafeMutableRawPointer(destination)
        var i = 0
        while i + 8 <= count {
            let h = source.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<Float16>.self)
            out.storeBytes(of: SIMD8<Float>(h), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
            i += 1
        }
    }

    /// Converts `count` floats to IEEE half precision, rounding to nearest even.
    /// - Complexity: O(count).
    @inlinable
    public static func convertF32ToF16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, count: Int) {
        let src = UnsafeRawPointer(source)
        var i = 0
        while i + 8 <= count {
            let f = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            destination.storeBytes(of: SIMD8<Float16>(f), toByteOffset: i * 2, as: SIMD8<Float16>.self)
            i += 8
        }
        while i < count {
            destination.storeBytes(of: Float16(source[i]), toByteOffset: i * 2, as: Float16.self)
            i += 1
        }
    }
}
