#if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Decoding of weight rows (GGML layouts) into `Float`, 32 weights at a time.
///
/// A 32-weight chunk is four `SIMD8<Float>` lanes plus one scale; for f32/f16 the scale is 1
/// and is never multiplied in. Quantized layouts (ggml):
/// - q8_0 block (34 bytes): `[Float16 d][32 × Int8 q]`, w[j] = d·q[j].
/// - q4_0 block (18 bytes): `[Float16 d][16 × UInt8 qs]`, w[j] = d·((qs[j] & 0xF) − 8) and
///   w[j+16] = d·((qs[j] >> 4) − 8) for j < 16.
@usableFromInline
protocol WeightChunkDecoder {
    /// Bytes of one 32-weight chunk.
    static var chunkBytes: Int { get }
    /// The 32 weights of chunk `c` of `row` (unscaled) and the chunk's scale.
    static func decode(_ row: UnsafeRawPointer, chunk c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float)
    /// Weights `8·lane ..< 8·lane + 8` of chunk `c` (unscaled), lane in 0..<4.
    static func lane(_ row: UnsafeRawPointer, chunk c: Int, lane: Int) -> SIMD8<Float>
}

extension WeightChunkDecoder {
    @inlinable @inline(__always)
    static func lane(_ row: UnsafeRawPointer, chunk c: Int, lane: Int) -> SIMD8<Float> {
        let (w0, w1, w2, w3, _) = decode(row, chunk: c)
        return lane == 0 ? w0 : lane == 1 ? w1 : lane == 2 ? w2 : w3
    }
}

/// Widening conversions of 8 lanes. With AVX2 they are explicit instructions (`vcvtph2ps`,
/// `vpmovsxbd`/`vpmovzxbd`, `vcvtdq2ps`): the standard library's generic SIMD conversions are
/// inlined or left as out-of-line calls at the optimizer's whim (measured: the f16 and q4_0
/// multi-token paths called them out of line, 20 and 48 calls; changing unrelated code once
/// cost the q8_0 decode path its inlining and 85 % of its speed).
@usableFromInline
enum Widen {
    @inlinable @inline(__always)
    static func floats(halves p: UnsafeRawPointer) -> SIMD8<Float> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        return _mm256_cvtph_ps(p.loadUnaligned(as: __m128i.self))
        #else
        return SIMD8<Float>(p.loadUnaligned(as: SIMD8<Float16>.self))
        #endif
    }

    /// 8 signed bytes at `p` as floats.
    @inlinable @inline(__always)
    static func floats(signedBytes p: UnsafeRawPointer) -> SIMD8<Float> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        let bytes = SIMD2<Int64>(p.loadUnaligned(as: Int64.self), 0)
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes))
        #else
        return SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<Int8>.self)))
        #endif
    }

    /// 8 unsigned bytes at `p` as 32-bit integers.
    @inlinable @inline(__always)
    static func ints(unsignedBytes p: UnsafeRawPointer) -> SIMD8<Int32> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        let bytes = SIMD2<Int64>(p.loadUnaligned(as: Int64.self), 0)
        return unsafeBitCast(_mm256_cvtepu8_epi32(bytes), to: SIMD8<Int32>.self)
        #else
        return SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<UInt8>.self))
        #endif
    }

    /// Integer lanes as floats.
    @inlinable @inline(__always)
    static func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
        #if INFERSCOPE_REQUIRES_AVX2 && arch(x86_64)
        return _mm256_cvtepi32_ps(unsafeBitCast(v, to: __m256i.self))
        #else
        return SIMD8<Float>(v)
        #endif
    }
}

@usableFromInline
enum F32Decoder: WeightChunkDecoder {
    @usableFromInline static var chunkBytes: Int { 128 }
    @inlinable @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let p = row + c * 128
        return (p.loadUnaligned(as: SIMD8<Float>.self), p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self), 1)
    }
    @inlinable @inline(__always)
    static func lane(_ row: UnsafeRawPointer, chunk c: Int, lane: Int) -> SIMD8<Float> {
        row.loadUnaligned(fromByteOffset: c * 128 + lane * 32, as: SIMD8<Float>.self)
    }
}

@usableFromInline
enum F16Decoder: WeightChunkDecoder {
    @usableFromInline static var chunkBytes: Int { 64 }
    @inlinable @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let p = row + c * 64
        return (Widen.floats(halves: p), Widen.floats(halves: p + 16), Widen.floats(halves: p + 32), Widen.floats(halves: p + 48), 1)
    }
    @inlinable @inline(__always)
    static func lane(_ row: UnsafeRawPointer, chunk c: Int, lane: Int) -> SIMD8<Float> {
        Widen.floats(halves: row + c * 64 + lane * 16)
    }
}

@usableFromInline
enum Q8_0Decoder: WeightChunkDecoder {
    @usableFromInline static var chunkBytes: Int { 34 }
    @inlinable @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let p = row + c * 34
        let d = Float(p.loadUnaligned(as: Float16.self))
        return (Widen.floats(signedBytes: p + 2), Widen.floats(signedBytes: p + 10), Widen.floats(signedBytes: p + 18),
                Widen.floats(signedBytes: p + 26), d)
    }
}

@usableFromInline
enum Q4_0Decoder: WeightChunkDecoder {
    @usableFromInline static var chunkBytes: Int { 18 }
    @inlinable @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, Float) {
        let p = row + c * 18
        let d = Float(p.loadUnaligned(as: Float16.self))
        let a = Widen.ints(unsignedBytes: p + 2), b = Widen.ints(unsignedBytes: p + 10)
        return (Widen.floats((a & 0xF) &- 8), Widen.floats((b & 0xF) &- 8), Widen.floats((a &>> 4) &- 8), Widen.floats((b &>> 4) &- 8), d)
    }
}

/// Row dequantization into floats.
public enum WeightDecoding {
    /// Writes weights `start ..< start + count` of a row of `type` to `destination`.
    /// `start` and `count` must be multiples of 32 for quantized types, and of 8 otherwise
    /// except at the row's end. - Complexity: O(count).
    public static func decodeRow(_ type: TensorType, _ row: UnsafeRawPointer, start: Int, count: Int,
                                 into destination: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            destination.update(from: row.assumingMemoryBound(to: Float.self) + start, count: count)
        case .f16:
            VectorOps.convertF16ToF32(row + start * 2, destination, count: count)
        case .q8_0:
            decodeChunks(Q8_0Decoder.self, row, firstChunk: start / 32, chunks: count / 32, into: destination)
        case .q4_0:
            decodeChunks(Q4_0Decoder.self, row, firstChunk: start / 32, chunks: count / 32, into: destination)
        }
    }

    @inline(__always)
    static func decodeChunks<D: WeightChunkDecoder>(_: D.Type, _ row: UnsafeRawPointer, firstChunk: Int, chunks: Int,
                                                     into destination: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(destination)
        for c in 0..<chunks {
            let (w0, w1, w2, w3, d) = D.decode(row, chunk: firstChunk + c)
            let s = SIMD8<Float>(repeating: d)
            out.storeBytes(of: w0 * s, toByteOffset: c * 128, as: SIMD8<Float>.self)
            out.storeBytes(of: w1 * s, toByteOffset: c * 128 + 32, as: SIMD8<Float>.self)
            out.storeBytes(of: w2 * s, toByteOffset: c * 128 + 64, as: SIMD8<Float>.self)
            out.storeBytes(of: w3 * s, toByteOffset: c * 128 + 96, as: SIMD8<Float>.self)
        }
    }
}
