import CKernels

/// The blocked GEMM path of ``MatrixMultiplier`` (m > `smallM`, prefill and large batches):
/// packed activation and weight panels and a 6 × 16 register micro-kernel.
extension MatrixMultiplier {
    /// One worker's share: global panels `panels` (16 output rows each) over the concatenated
    /// targets, with the activations `packedX` packed by ``packAllActivations(_:rows:k:roundingToQ8_0:)``;
    /// `scratch` holds the packed weight panel and the decode buffer.
    func gemm(_ packedX: UnsafePointer<Float>, m: Int, k: Int, panels: Range<Int>, _ panelsA: Int, _ panelsB: Int,
                      _ a: MatmulTarget, _ b: MatmulTarget?, _ c: MatmulTarget?, scratch: UnsafeMutablePointer<Float>) {
        let nr = MatrixMultiplier.nr, kc = MatrixMultiplier.kc, mc = MatrixMultiplier.mc, mr = MatrixMultiplier.mr
        let packed = scratch
        let decoded = scratch + kc * nr
        let wideTile = path == .avx512
        var m0 = 0
        while m0 < m {
            let mBlock = min(mc, m - m0)
            var k0 = 0
            while k0 < k {
                let kBlock = min(kc, k - k0)
                let xBlock = packedX + MatrixMultiplier.packedBlockOffset(m0: m0, mBlock: mBlock, k0: k0, k: k)
                for panel in panels {
                    let target: MatmulTarget, local: Int
                    if panel < panelsA { target = a; local = panel }
                    else if panel < panelsA + panelsB { target = b!; local = panel - panelsA }
                    else { target = c!; local = panel - panelsA - panelsB }
                    let w = target.weights
                    let n0 = local * nr
                    let valid = min(nr, w.rows - n0)
                    MatrixMultiplier.pack(w, rows: n0..<(n0 + valid), k0: k0, kBlock: kBlock, decoded: decoded, zero: zeroRow,
                                          into: packed)
                    let out = target.output + m0 * w.rows + n0
                    var i = 0
                    if wideTile {
                        // Two 6-row activation panels per AVX-512 tile (12 zmm accumulators).
                        while i < mBlock {
                            let rows = min(2 * mr, mBlock - i)
                            ck_gemm_tile12x16_avx512(xBlock + i * kBlock, xBlock + (i + mr) * kBlock, packed, kBlock,
                                                     out + i * w.rows, w.rows, rows, valid, k0 > 0 ? 1 : 0)
                            i += 2 * mr
                        }
                    }
                    while i < mBlock {
                        MatrixMultiplier.kernelPacked6x16(xBlock + i * kBlock, packed, kBlock: kBlock, out + i * w.rows, ldc: w.rows,
                                                          rows: min(mr, mBlock - i), valid: valid, accumulate: k0 > 0)
                        i += mr
                    }
                }
                k0 += kBlock
            }
            m0 += mBlock
        }
    }

    /// Copies `rows` (≤ 6) activation rows × `kBlock` inputs into one 6-row panel, k-major:
    /// `panel[kk · 6 + i] = x[i][kk]`, rows past `rows` zero (read from `zero`, ≥ `kBlock` zeros).
    /// `roundingToQ8_0` stores each value's q8_0 round trip instead (`kBlock` a multiple of 32;
    /// rounded rows go through `temporary`, 6 × `kBlock` floats): the activations the streaming
    /// path's integer kernels multiply, so that a q8_0 product does not depend on the number of rows.
    static func packActivations(_ x: UnsafePointer<Float>, stride: Int, rows: Int, kBlock: Int, roundingToQ8_0: Bool,
                                temporary: UnsafeMutablePointer<Float>, zero: UnsafePointer<Float>,
                                into panel: UnsafeMutablePointer<Float>) {
        @inline(__always) func source(_ i: Int) -> UnsafePointer<Float> {
            guard i < rows else { return zero }
            guard roundingToQ8_0 else { return x + i * stride }
            let row = x + i * stride, out = UnsafeMutableRawPointer(temporary + i * kBlock)
            for b in 0..<kBlock / 32 {
                let (v0, v1, v2, v3) = Q8_0Dot.roundTrip(row + b * 32)
                out.storeBytes(of: v0, toByteOffset: b * 128, as: SIMD8<Float>.self)
                out.storeBytes(of: v1, toByteOffset: b * 128 + 32, as: SIMD8<Float>.self)
                out.storeBytes(of: v2, toByteOffset: b * 128 + 64, as: SIMD8<Float>.self)
                out.storeBytes(of: v3, toByteOffset: b * 128 + 96, as: SIMD8<Float>.self)
            }
            return UnsafePointer(temporary + i * kBlock)
        }
        PanelPacking.interleave8((source(0), source(1), source(2), source(3), source(4), source(5), zero, zero),
                                 count: kBlock, lanes: 6, width: 6, into: panel)
    }

    /// C[rows × 16] (+)= A[6 × kBlock] · P[kBlock × 16] with A packed k-major (6 floats per k)
    /// and P packed k-major (16 floats per k). Writes the first `rows` rows and `valid` columns.
    @inline(__always)
    static func kernelPacked6x16(_ a: UnsafePointer<Float>, _ packed: UnsafePointer<Float>, kBlock: Int,
                                 _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, valid: Int, accumulate: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var p = UnsafeRawPointer(packed)
        var x = a
        for _ in 0..<kBlock {
            let b0 = p.load(as: SIMD8<Float>.self)
            let b1 = p.load(fromByteOffset: 32, as: SIMD8<Float>.self)
            var v = SIMD8<Float>(repeating: x[0])
            c00.addProduct(v, b0); c01.addProduct(v, b1)
            v = SIMD8<Float>(repeating: x[1])
            c10.addProduct(v, b0); c11.addProduct(v, b1)
            v = SIMD8<Float>(repeating: x[2])
            c20.addProduct(v, b0); c21.addProduct(v, b1)
            v = SIMD8<Float>(repeating: x[3])
            c30.addProduct(v, b0); c31.addProduct(v, b1)
            v = SIMD8<Float>(repeating: x[4])
            c40.addProduct(v, b0); c41.addProduct(v, b1)
            v = SIMD8<Float>(repeating: x[5])
            c50.addProduct(v, b0); c51.addProduct(v, b1)
            p += 64
            x += 6
        }
        store(c00, c01, c, valid: valid, accumulate: accumulate)
        if rows > 1 { store(c10, c11, c + ldc, valid: valid, accumulate: accumulate) }
        if rows > 2 { store(c20, c21, c + 2 * ldc, valid: valid, accumulate: accumulate) }
        if rows > 3 { store(c30, c31, c + 3 * ldc, valid: valid, accumulate: accumulate) }
        if rows > 4 { store(c40, c41, c + 4 * ldc, valid: valid, accumulate: accumulate) }
        if rows > 5 { store(c50, c51, c + 5 * ldc, valid: valid, accumulate: accumulate) }
    }

    /// Decodes rows `rows` (≤ 16), inputs `k0 ..< k0 + kBlock`, of `w` and stores them k-major:
    /// `packed[kk · 16 + j] = W[rows.lowerBound + j][k0 + kk]`, zero for j ≥ rows.count
    /// (read from `zero`, ≥ `kBlock` zeros). f32 rows are read in place; other types are decoded
    /// to f32 into `decoded` (16 × `kBlock` floats) first.
    static func pack(_ w: WeightMatrix, rows: Range<Int>, k0: Int, kBlock: Int, decoded: UnsafeMutablePointer<Float>,
                     zero: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        @inline(__always) func source(_ j: Int) -> UnsafePointer<Float> {
            guard j < rows.count else { return zero }
            let r = rows.lowerBound + j
            if w.type == .f32 { return w.row(r).assumingMemoryBound(to: Float.self) + k0 }
            WeightDecoding.decodeRow(w.type, w.row(r), start: k0, count: kBlock, into: decoded + j * kBlock)
            return UnsafePointer(decoded + j * kBlock)
        }
        PanelPacking.interleave8((source(0), source(1), source(2), source(3), source(4), source(5), source(6), source(7)),
                                 count: kBlock, lanes: 8, width: 16, into: packed)
        guard rows.count > 8 else {
            PanelPacking.interleave8((zero, zero, zero, zero, zero, zero, zero, zero), count: kBlock, lanes: 8, width: 16, into: packed + 8)
            return
        }
        PanelPacking.interleave8((source(8), source(9), source(10), source(11), source(12), source(13), source(14), source(15)),
                                 count: kBlock, lanes: 8, width: 16, into: packed + 8)
    }

    /// C[6 × 16] (+)= X[6 × kBlock] · P[kBlock × 16]; X rows have stride `k`, C rows `ldc`.
    /// Only the first `valid` columns of C are written.
    @usableFromInline @inline(__always)
    static func kernel6x16(_ x: UnsafePointer<Float>, k: Int, _ packed: UnsafePointer<Float>, kBlock: Int,
                           _ c: UnsafeMutablePointer<Float>, ldc: Int, valid: Int, accumulate: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        let p = UnsafeRawPointer(packed)
        let x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k, x4 = x + 4 * k, x5 = x + 5 * k
        for kk in 0..<kBlock {
            let b0 = p.load(fromByteOffset: kk * 64, as: SIMD8<Float>.self)
            let b1 = p.load(fromByteOffset: kk * 64 + 32, as: SIMD8<Float>.self)
            var a = SIMD8<Float>(repeating: x0[kk])
            c00.addProduct(a, b0); c01.addProduct(a, b1)
            a = SIMD8<Float>(repeating: x1[kk])
            c10.addProduct(a, b0); c11.addProduct(a, b1)
            a = SIMD8<Float>(repeating: x2[kk])
            c20.addProduct(a, b0); c21.addProduct(a, b1)
            a = SIMD8<Float>(repeating: x3[kk])
            c30.addProduct(a, b0); c31.addProduct(a, b1)
            a = SIMD8<Float>(repeating: x4[kk])
            c40.addProduct(a, b0); c41.addProduct(a, b1)
            a = SIMD8<Float>(repeating: x5[kk])
            c50.addProduct(a, b0); c51.addProduct(a, b1)
        }
        store(c00, c01, c + 0 * ldc, valid: valid, accumulate: accumulate)
        store(c10, c11, c + 1 * ldc, valid: valid, accumulate: accumulate)
        store(c20, c21, c + 2 * ldc, valid: valid, accumulate: accumulate)
        store(c30, c31, c + 3 * ldc, valid: valid, accumulate: accumulate)
        store(c40, c41, c + 4 * ldc, valid: valid, accumulate: accumulate)
        store(c50, c51, c + 5 * ldc, valid: valid, accumulate: accumulate)
    }

    /// C[1 × 16] (+)= x[1 × kBlock] · P[kBlock × 16].
    @usableFromInline @inline(__always)
    static func kernel1x16(_ x: UnsafePointer<Float>, _ packed: UnsafePointer<Float>, kBlock: Int,
                           _ c: UnsafeMutablePointer<Float>, valid: Int, accumulate: Bool) {
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
        let p = UnsafeRawPointer(packed)
        var kk = 0
        while kk + 2 <= kBlock {
            let a = SIMD8<Float>(repeating: x[kk]), e = SIMD8<Float>(repeating: x[kk + 1])
            c0.addProduct(a, p.load(fromByteOffset: kk * 64, as: SIMD8<Float>.self))
            c1.addProduct(a, p.load(fromByteOffset: kk * 64 + 32, as: SIMD8<Float>.self))
            d0.addProduct(e, p.load(fromByteOffset: kk * 64 + 64, as: SIMD8<Float>.self))
            d1.addProduct(e, p.load(fromByteOffset: kk * 64 + 96, as: SIMD8<Float>.self))
            kk += 2
        }
        if kk < kBlock {
            let a = SIMD8<Float>(repeating: x[kk])
            c0.addProduct(a, p.load(fromByteOffset: kk * 64, as: SIMD8<Float>.self))
            c1.addProduct(a, p.load(fromByteOffset: kk * 64 + 32, as: SIMD8<Float>.self))
        }
        store(c0 + d0, c1 + d1, c, valid: valid, accumulate: accumulate)
    }

    @inline(__always)
    static func store(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, _ c: UnsafeMutablePointer<Float>, valid: Int, accumulate: Bool) {
        let raw = UnsafeMutableRawPointer(c)
        if valid == 16 {
            if accumulate {
                raw.storeBytes(of: lo + raw.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                raw.storeBytes(of: hi + raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), toByteOffset: 32, as: SIMD8<Float>.self)
            } else {
                raw.storeBytes(of: lo, as: SIMD8<Float>.self)
                raw.storeBytes(of: hi, toByteOffset: 32, as: SIMD8<Float>.self)
            }
        } else {
            for j in 0..<valid {
                let v = j < 8 ? lo[j] : hi[j - 8]
                c[j] = accumulate ? c[j] + v : v
            }
        }
    }
}
