#if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Integer dot products of q8_0 and q4_0 weight rows with activations quantized to q8_0, the
/// way ggml multiplies such matrices (its `vec_dot_q8_0_q8_0` and `vec_dot_q4_0_q8_0`).
///
/// The activations of a product are quantized once per call, in 32-value blocks:
/// `d = max|x| / 127` rounded to f16 (as a stored q8_0 block holds it), `q = round(x / d)` to
/// nearest even (as ggml's AVX2 quantizer rounds; the scalar reference rounds ties away from
/// zero). A block's contribution is then `d_w · d_x · Σ q_w·q_x` with the sum exact in `Int32`
/// (|Σ| ≤ 32·128·127 < 2²⁴, so its conversion to `Float` is exact too).
///
/// Why: the float path converts every weight byte to a float before a fused multiply-add —
/// 4 sign extensions, 4 conversions and 4 FMAs per 32 weights — and is compute-bound at about
/// half the memory bandwidth on two cores. With AVX2, one `vpmaddubsw` + `vpmaddwd` does the
/// 32 multiplications and their sums, a third of the instructions (docs/kernels.md has the
/// figures). q4_0 blocks unpack their nibbles to 32 signed bytes in −8…7 first. Without AVX2
/// (INFERSCOPE_TARGET_CPU=generic) a portable loop computes the same integer sums.
///
/// Numerics: the product equals the float product with x replaced by its q8_0 round trip
/// (`MatrixMultiplier` rounds the activations of its blocked path the same way, so small and
/// large batches agree), relative error of the quantization itself ≈ 0.2–0.4% per product.
@usableFromInline
enum Q8_0Dot {
    /// Quantizes `count` floats (a multiple of 32) into `quants` (`count` bytes) and the block
    /// scales into `scales` (`count / 32` floats, each exactly an f16 value). NaN lanes become
    /// 0; values are never out of range (|x / d| ≤ 127). - Complexity: O(count).
    @inline(__always)
    static func quantize(_ x: UnsafePointer<Float>, count: Int, quants: UnsafeMutablePointer<Int8>,
                         scales: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(quants)
        for b in 0..<count / 32 {
            let (v0, v1, v2, v3) = load(x + b * 32)
            let (d, id) = activationScale(v0, v1, v2, v3)
            scales[b] = d
            let s = SIMD8<Float>(repeating: id)
            store(v0 * s, v1 * s, v2 * s, v3 * s, to: out + b * 32)
        }
    }

    /// The q8_0 round trip `q·d` of the 32 floats at `x`, equal to what ``quantize(_:count:quants:scales:)``
    /// stores times its scale (q has ≤ 8 significant bits and d 11, so the product is exact).
    @inline(__always)
    static func roundTrip(_ x: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let (v0, v1, v2, v3) = load(x)
        let (d, id) = activationScale(v0, v1, v2, v3)
        let s = SIMD8<Float>(repeating: id), stored = SIMD8<Float>(repeating: d)
        // Adding 1.5·2²³ rounds to nearest even, as the conversion in `store` does (|v| ≤ 127).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        @inline(__always) func rounded(_ v: SIMD8<Float>) -> SIMD8<Float> { ((v * s + magic) - magic) * stored }
        return (rounded(v0), rounded(v1), rounded(v2), rounded(v3))
    }

    @inline(__always)
    static func load(_ x: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let source = UnsafeRawPointer(x)
        return (source.loadUnaligned(as: SIMD8<Float>.self), source.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                source.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), source.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    }

    /// A block's stored scale `d` (max|x| / 127 rounded to f16) and the factor `1 / d` (computed
    /// before the rounding, as ggml does; 0 for an all-zero block).
    @inline(__always)
    static func activationScale(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>) -> (Float, Float) {
        let m = VectorOps.maximum(VectorOps.maximum(magnitude(v0), magnitude(v1)), VectorOps.maximum(magnitude(v2), magnitude(v3)))
        let d = VectorOps.horizontalMax(m) / 127
        return (Float(Float16(d)), d != 0 ? 1 / d : 0)
    }

    @inline(__always)
    static func magnitude(_ v: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    }

    /// Rounds 32 floats in [-127, 127] to nearest even and stores them as 32 `Int8`.
    @inline(__always)
    static func store(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>,
                      to out: UnsafeMutableRawPointer) {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        // cvtps rounds to nearest even (the default MXCSR mode); the two saturating packs
        // interleave 128-bit lanes, which the final permutation puts back in order.
        let i0 = _mm256_cvtps_epi32(v0)
        let i1 = _mm256_cvtps_epi32(v1)
        let i2 = _mm256_cvtps_epi32(v2)
        let i3 = _mm256_cvtps_epi32(v3)
        let packed = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3))
        let ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
        out.storeBytes(of: ordered, as: __m256i.self)
        #else
        // Adding 1.5·2²³ rounds to nearest even into the low mantissa bits (|v| ≤ 127).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let magicBits = unsafeBitCast(magic, to: SIMD8<Int32>.self)
        for (i, v) in [v0, v1, v2, v3].enumerated() {
            let q = unsafeBitCast(v + magic, to: SIMD8<Int32>.self) &- magicBits
            out.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q), toByteOffset: i * 8, as: SIMD8<Int8>.self)
        }
        #endif
    }

    /// Σ over `chunks` blocks of a row of `B` blocks · quantized x.
    /// - Complexity: O(chunks); reads the row once.
    @inline(__always)
    static func dot<B: IntegerWeightBlock>(_: B.Type, _ row: UnsafeRawPointer, chunks: Int, _ quants: UnsafePointer<Int8>,
                                           _ scales: UnsafePointer<Float>) -> Float {
        let xq = UnsafeRawPointer(quants)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var c = 0
        while c + 2 <= chunks {
            let b0 = row + c * B.bytes, b1 = b0 + B.bytes
            acc0.addProduct(blockSums(B.quants(b0), xq + c * 32), SIMD8(repeating: scale(b0) * scales[c]))
            acc1.addProduct(blockSums(B.quants(b1), xq + c * 32 + 32), SIMD8(repeating: scale(b1) * scales[c + 1]))
            c += 2
        }
        if c < chunks {
            let b0 = row + c * B.bytes
            acc0.addProduct(blockSums(B.quants(b0), xq + c * 32), SIMD8(repeating: scale(b0) * scales[c]))
        }
        return VectorOps.horizontalSum(acc0 + acc1)
    }

    /// The dot products of one row with up to four quantized activation rows (`group` of them,
    /// `stride` bytes apart; their scales `chunks` floats apart). Each weight block is loaded
    /// and unpacked once for the group.
    @inline(__always)
    static func dot4<B: IntegerWeightBlock>(_: B.Type, _ row: UnsafeRawPointer, chunks: Int, group: Int, _ quants: UnsafePointer<Int8>,
                                            stride: Int, _ scales: UnsafePointer<Float>) -> (Float, Float, Float, Float) {
        let xq = UnsafeRawPointer(quants)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        for c in 0..<chunks {
            let block = row + c * B.bytes
            let dw = scale(block)
            let x = xq + c * 32
            let w = B.quants(block)
            #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
            let qw = unsafeBitCast(w, to: __m256i.self)
            let aw = _mm256_sign_epi8(qw, qw)
            @inline(__always) func sums(_ xt: UnsafeRawPointer) -> SIMD8<Float> {
                signedSums(aw, qw, xt.loadUnaligned(as: __m256i.self))
            }
            #else
            @inline(__always) func sums(_ xt: UnsafeRawPointer) -> SIMD8<Float> { blockSums(w, xt) }
            #endif
            a0.addProduct(sums(x), SIMD8(repeating: dw * scales[c]))
            if group > 1 { a1.addProduct(sums(x + stride), SIMD8(repeating: dw * scales[chunks + c])) }
            if group > 2 { a2.addProduct(sums(x + 2 * stride), SIMD8(repeating: dw * scales[2 * chunks + c])) }
            if group > 3 { a3.addProduct(sums(x + 3 * stride), SIMD8(repeating: dw * scales[3 * chunks + c])) }
        }
        return (VectorOps.horizontalSum(a0), VectorOps.horizontalSum(a1), VectorOps.horizontalSum(a2), VectorOps.horizontalSum(a3))
    }

    /// The f16 scale at the start of a q8_0 or q4_0 block.
    @inline(__always)
    static func scale(_ block: UnsafeRawPointer) -> Float {
        Float(block.loadUnaligned(as: Float16.self))
    }

    /// Eight partial integer sums (as exact floats) of the 32 products of the weight quants `w`
    /// with the 32 activation quants at `x`; they add up to Σ q_w·q_x.
    @inline(__always)
    static func blockSums(_ w: SIMD32<Int8>, _ x: UnsafeRawPointer) -> SIMD8<Float> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        let qw = unsafeBitCast(w, to: __m256i.self)
        return signedSums(_mm256_sign_epi8(qw, qw), qw, x.loadUnaligned(as: __m256i.self))
        #else
        var sum = SIMD8<Int32>()
        let v = x.loadUnaligned(as: SIMD32<Int8>.self)
        for j in 0..<32 { sum[j % 8] &+= Int32(w[j]) &* Int32(v[j]) }
        return SIMD8<Float>(sum)
        #endif
    }

    #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
    /// `vpmaddubsw` multiplies unsigned by signed bytes, so the weights' signs move onto x:
    /// |w|·(sign(w)·x) = w·x. Pairs of products add into 16 lanes of `Int16` (at most
    /// 2·128·127 = 32512: no saturation), `vpmaddwd` with ones adds pairs into 8 `Int32`.
    @inline(__always)
    static func signedSums(_ absoluteWeights: __m256i, _ weights: __m256i, _ x: __m256i) -> SIMD8<Float> {
        let products = _mm256_maddubs_epi16(absoluteWeights, _mm256_sign_epi8(x, weights))
        let sums = _mm256_madd_epi16(products, _mm256_set1_epi16(1))
        return _mm256_cvtepi32_ps(sums)
    }
    #endif
}

/// Activations quantized by ``Q8_0Dot/quantize(_:count:quants:scales:)``: row t's quants at
/// `quants + t·k`, its block scales at `scales + t·k/32`. Points into a ``MatrixMultiplier``'s
/// buffer, valid for one call.
@usableFromInline
struct QuantizedActivations {
    var quants: UnsafeMutablePointer<Int8>
    var scales: UnsafeMutablePointer<Float>
}

/// A quantized weight block whose values are small integers times an f16 scale stored first.
@usableFromInline
protocol IntegerWeightBlock {
    /// Bytes of one 32-weight block.
    static var bytes: Int { get }
    /// The block's 32 integer weights, in order.
    static func quants(_ block: UnsafeRawPointer) -> SIMD32<Int8>
}

/// q8_0: `[f16 d][32 × Int8]`.
@usableFromInline
enum Q8_0Block: IntegerWeightBlock {
    @usableFromInline static var bytes: Int { 34 }
    @inline(__always) @usableFromInline
    static func quants(_ block: UnsafeRawPointer) -> SIMD32<Int8> {
        block.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
    }
}

/// q4_0: `[f16 d][16 bytes]`, byte j holding weight j in its low nibble and weight j + 16 in its
/// high nibble, each stored + 8.
@usableFromInline
enum Q4_0Block: IntegerWeightBlock {
    @usableFromInline static var bytes: Int { 18 }
    @inline(__always) @usableFromInline
    static func quants(_ block: UnsafeRawPointer) -> SIMD32<Int8> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        let packed = block.loadUnaligned(fromByteOffset: 2, as: __m128i.self)
        let mask = _mm_set1_epi8(0x0F)
        let low = _mm_and_si128(packed, mask), high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask)
        let both = _mm256_set_m128i(high, low)
        return unsafeBitCast(_mm256_sub_epi8(both, _mm256_set1_epi8(8)), to: SIMD32<Int8>.self)
        #else
        let packed = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        var out = SIMD32<Int8>()
        for j in 0..<16 {
            out[j] = Int8(packed[j] & 0x0F) - 8
            out[j + 16] = Int8(packed[j] >> 4) - 8
        }
        return out
        #endif
    }
}
