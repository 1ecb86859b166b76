#if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Interleaving rows into the k-major panels of the blocked GEMM: up to 8 source rows go to
/// `packed[kk · width + j] = row_j[kk]`, 8 × 8 tiles at a time through register transposes
/// (with AVX2: unpacks of floats, then of float pairs, then 128-bit halves — 24 shuffles and 8
/// stores per 64 values instead of 64 scalar loads and stores). Rows past the sources are read from a zero row.
enum PanelPacking {
    /// Writes columns `0 ..< count` of the 8 rows `rows` (missing rows: pass `zero`, a row of
    /// ≥ `count` zeros) to `packed + kk · width + j` for j < `lanes` (lanes ≤ 8; 8 writes whole
    /// vectors, fewer a masked store, so nothing outside the panel is touched).
    /// - Complexity: O(8 · count).
    @inline(__always)
    static func interleave8(_ rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                     UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                            count: Int, lanes: Int, width: Int, into packed: UnsafeMutablePointer<Float>) {
        var kk = 0
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(Int32(lanes)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
        while kk + 8 <= count {
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> __m256 { UnsafeRawPointer(p + kk).loadUnaligned(as: __m256.self) }
            let r0 = load(rows.0), r1 = load(rows.1), r2 = load(rows.2), r3 = load(rows.3)
            let r4 = load(rows.4), r5 = load(rows.5), r6 = load(rows.6), r7 = load(rows.7)
            let t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1)
            let t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3)
            let t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5)
            let t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7)
            // Pairs of floats as doubles: the low/high pair of each 128-bit lane of two vectors.
            @inline(__always) func low(_ a: __m256, _ b: __m256) -> __m256 {
                unsafeBitCast(_mm256_unpacklo_pd(unsafeBitCast(a, to: __m256d.self), unsafeBitCast(b, to: __m256d.self)), to: __m256.self)
            }
            @inline(__always) func high(_ a: __m256, _ b: __m256) -> __m256 {
                unsafeBitCast(_mm256_unpackhi_pd(unsafeBitCast(a, to: __m256d.self), unsafeBitCast(b, to: __m256d.self)), to: __m256.self)
            }
            let s0 = low(t0, t2), s1 = high(t0, t2), s2 = low(t1, t3), s3 = high(t1, t3)
            let s4 = low(t4, t6), s5 = high(t4, t6), s6 = low(t5, t7), s7 = high(t5, t7)
            // 128-bit halves: column i of the tile (rows 0–3 from s, rows 4–7 from s + 4).
            let columns = (__m256(lowHalf: s0.lowHalf, highHalf: s4.lowHalf), __m256(lowHalf: s1.lowHalf, highHalf: s5.lowHalf),
                           __m256(lowHalf: s2.lowHalf, highHalf: s6.lowHalf), __m256(lowHalf: s3.lowHalf, highHalf: s7.lowHalf),
                           __m256(lowHalf: s0.highHalf, highHalf: s4.highHalf), __m256(lowHalf: s1.highHalf, highHalf: s5.highHalf),
                           __m256(lowHalf: s2.highHalf, highHalf: s6.highHalf), __m256(lowHalf: s3.highHalf, highHalf: s7.highHalf))
            let out = packed + kk * width
            @inline(__always) func store(_ i: Int, _ v: __m256) {
                if lanes == 8 { UnsafeMutableRawPointer(out + i * width).storeBytes(of: v, as: __m256.self) }
                else { _mm256_maskstore_ps(out + i * width, mask, v) }
            }
            store(0, columns.0); store(1, columns.1); store(2, columns.2); store(3, columns.3)
            store(4, columns.4); store(5, columns.5); store(6, columns.6); store(7, columns.7)
            kk += 8
        }
        #endif
        // The remaining columns (and everything without AVX2), value by value.
        while kk < count {
            let out = packed + kk * width
            out[0] = rows.0[kk]
            if lanes > 1 { out[1] = rows.1[kk] }
            if lanes > 2 { out[2] = rows.2[kk] }
            if lanes > 3 { out[3] = rows.3[kk] }
            if lanes > 4 { out[4] = rows.4[kk] }
            if lanes > 5 { out[5] = rows.5[kk] }
            if lanes > 6 { out[6] = rows.6[kk] }
            if lanes > 7 { out[7] = rows.7[kk] }
            kk += 1
        }
    }
}
