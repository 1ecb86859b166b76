import CKernels

/// The streaming path of ``MatrixMultiplier`` (m ≤ `smallM`, decode): each thread streams its
/// share of W's rows once and dots each row with the m activation rows while it is in L1.
extension MatrixMultiplier {
    /// y[t][r] = x_t · W_r for r in `rows`, t in 0..<m. q8_0 and q4_0 weights multiply
    /// `quantized` (x quantized to q8_0), which must be given for them.
    static func streamRows(_ x: UnsafePointer<Float>, _ quantized: QuantizedActivations?, m: Int, _ w: WeightMatrix,
                           rows: Range<Int>, output: UnsafeMutablePointer<Float>, path: KernelPath) {
        switch w.type {
        case .f32: streamRows(F32Decoder.self, x, m: m, w, rows: rows, output: output)
        case .f16: streamRows(F16Decoder.self, x, m: m, w, rows: rows, output: output)
        case .q8_0:
            guard let quantized else { preconditionFailure("MatrixMultiplier: q8_0 rows need quantized activations") }
            switch path {
            case .avx512: streamRowsInteger(ck_dot_q8_0_avx512vnni, ck_dot4_q8_0_avx512vnni, quantized, m: m, w, rows: rows, output: output)
            case .avxVNNI: streamRowsInteger(ck_dot_q8_0_avxvnni, ck_dot4_q8_0_avxvnni, quantized, m: m, w, rows: rows, output: output)
            case .avx2, .generic: streamRowsInteger(Q8_0Block.self, quantized, m: m, w, rows: rows, output: output)
            }
        case .q4_0:
            guard let quantized else { preconditionFailure("MatrixMultiplier: q4_0 rows need quantized activations") }
            switch path {
            case .avx512: streamRowsInteger(ck_dot_q4_0_avx512vnni, ck_dot4_q4_0_avx512vnni, quantized, m: m, w, rows: rows, output: output)
            case .avxVNNI: streamRowsInteger(ck_dot_q4_0_avxvnni, ck_dot4_q4_0_avxvnni, quantized, m: m, w, rows: rows, output: output)
            case .avx2, .generic: streamRowsInteger(Q4_0Block.self, quantized, m: m, w, rows: rows, output: output)
            }
        }
    }

    /// The integer path for q8_0/q4_0 weights: y[t][r] = Σ_blocks d_w·d_x·Σ q_w·q_x (``Q8_0Dot``).
    /// Tokens go in groups of four sharing each weight block's load.
    @inline(__always)
    static func streamRowsInteger<B: IntegerWeightBlock>(_: B.Type, _ x: QuantizedActivations, m: Int, _ w: WeightMatrix,
                                                         rows: Range<Int>, output: UnsafeMutablePointer<Float>) {
        let k = w.cols, n = w.rows, chunks = k / 32
        if m == 1 {
            for r in rows { output[r] = Q8_0Dot.dot(B.self, w.row(r), chunks: chunks, x.quants, x.scales) }
            return
        }
        for r in rows {
            let row = w.row(r)
            var t0 = 0
            while t0 < m {
                let group = min(4, m - t0)
                let (y0, y1, y2, y3) = Q8_0Dot.dot4(B.self, row, chunks: chunks, group: group, x.quants + t0 * k, stride: k,
                                                    x.scales + t0 * chunks)
                output[t0 * n + r] = y0
                if group > 1 { output[(t0 + 1) * n + r] = y1 }
                if group > 2 { output[(t0 + 2) * n + r] = y2 }
                if group > 3 { output[(t0 + 3) * n + r] = y3 }
                t0 += 4
            }
        }
    }

    /// The integer path through the C kernels of a wider ``KernelPath`` (same shapes as the Swift
    /// path: one token alone, more in groups of four sharing each weight block).
    @inline(__always)
    static func streamRowsInteger(_ dot: (UnsafeRawPointer?, Int, UnsafePointer<Int8>?, UnsafePointer<Float>?) -> Float,
                                  _ dot4: (UnsafeRawPointer?, Int, Int, UnsafePointer<Int8>?, Int, UnsafePointer<Float>?,
                                           UnsafeMutablePointer<Float>?) -> Void,
                                  _ x: QuantizedActivations, m: Int, _ w: WeightMatrix,
                                  rows: Range<Int>, output: UnsafeMutablePointer<Float>) {
        let k = w.cols, n = w.rows, chunks = k / 32
        if m == 1 {
            for r in rows { output[r] = dot(w.row(r), chunks, x.quants, x.scales) }
            return
        }
        var y = (Float(0), Float(0), Float(0), Float(0))
        withUnsafeMutableBytes(of: &y) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            for r in rows {
                let row = w.row(r)
                var t0 = 0
                while t0 < m {
                    let group = min(4, m - t0)
                    dot4(row, chunks, group, x.quants + t0 * k, k, x.scales + t0 * chunks, out)
                    for i in 0..<group { output[(t0 + i) * n + r] = out[i] }
                    t0 += 4
                }
            }
        }
    }

    @inline(__always)
    static func streamRows<D: WeightChunkDecoder>(_: D.Type, _ x: UnsafePointer<Float>, m: Int, _ w: WeightMatrix,
                                                   rows: Range<Int>, output: UnsafeMutablePointer<Float>) {
        let k = w.cols, n = w.rows
        let chunks = k / 32
        if m == 1 {
            var r = rows.lowerBound
            // Long rows: x (4·k bytes) no longer stays in L1 beside the weight stream, so share
            // each x load among four rows (a quarter of the L1 traffic for x).
            if k >= MatrixMultiplier.fourRowWidth {
                while r + 4 <= rows.upperBound {
                    let (y0, y1, y2, y3) = rowDot4(D.self, w.row(r), rowBytes: w.rowBytes, chunks: chunks, x)
                    output[r] = y0 + tailDot(w, row: r, from: chunks * 32, x)
                    output[r + 1] = y1 + tailDot(w, row: r + 1, from: chunks * 32, x)
                    output[r + 2] = y2 + tailDot(w, row: r + 2, from: chunks * 32, x)
                    output[r + 3] = y3 + tailDot(w, row: r + 3, from: chunks * 32, x)
                    r += 4
                }
            }
            while r < rows.upperBound {
                output[r] = rowDot(D.self, w.row(r), chunks: chunks, x) + tailDot(w, row: r, from: chunks * 32, x)
                r += 1
            }
            return
        }
        // Several tokens. Four rows at a time against two tokens at a time: each x vector serves
        // four rows, so the m rows of x (m · 4k bytes, beyond L1 for m > 4) are read from L2 a
        // quarter as often; the four rows (a few KiB) stay in L1 between token pairs, so the
        // matrix is still read from memory once.
        let xr = UnsafeRawPointer(x)
        let stride = k * 4
        let tail = chunks * 32
        let quadEnd = rows.lowerBound + rows.count / 4 * 4
        var r4 = rows.lowerBound
        while r4 < quadEnd {
            var t0 = 0
            while t0 < m {
                let pair = min(2, m - t0)
                let (y0, y1) = rowDot4x2(D.self, w.row(r4), rowBytes: w.rowBytes, chunks: chunks, xr + t0 * stride,
                                         xr + (t0 + pair - 1) * stride)
                for i in 0..<4 {
                    output[t0 * n + r4 + i] = y0[i] + tailDot(w, row: r4 + i, from: tail, x + t0 * k)
                    if pair > 1 { output[(t0 + 1) * n + r4 + i] = y1[i] + tailDot(w, row: r4 + i, from: tail, x + (t0 + 1) * k) }
                }
                t0 += 2
            }
            r4 += 4
        }
        // The last rows (fewer than four): one row against groups of four tokens whose
        // accumulators stay in registers, each 32-weight chunk decoded once per group.
        for r in quadEnd..<rows.upperBound {
            let row = w.row(r)
            var t0 = 0
            while t0 < m {
                let group = min(4, m - t0)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                let base = xr + t0 * stride
                for c in 0..<chunks {
                    let (w0, w1, w2, w3, _) = D.decode(row, chunk: c)
                    let xc = base + c * 128
                    @inline(__always) func dot(_ xt: UnsafeRawPointer) -> SIMD8<Float> {
                        var s0 = w0 * xt.loadUnaligned(as: SIMD8<Float>.self)
                        let s1 = w1 * xt.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        s0.addProduct(w2, xt.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                        return (s0 + s1).addingProduct(w3, xt.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                    }
                    a0 += dot(xc)
                    if group > 1 { a1 += dot(xc + stride) }
                    if group > 2 { a2 += dot(xc + 2 * stride) }
                    if group > 3 { a3 += dot(xc + 3 * stride) }
                }
                let xt = x + t0 * k
                output[t0 * n + r] = VectorOps.horizontalSum(a0) + tailDot(w, row: r, from: tail, xt)
                if group > 1 { output[(t0 + 1) * n + r] = VectorOps.horizontalSum(a1) + tailDot(w, row: r, from: tail, xt + k) }
                if group > 2 { output[(t0 + 2) * n + r] = VectorOps.horizontalSum(a2) + tailDot(w, row: r, from: tail, xt + 2 * k) }
                if group > 3 { output[(t0 + 3) * n + r] = VectorOps.horizontalSum(a3) + tailDot(w, row: r, from: tail, xt + 3 * k) }
                t0 += 4
            }
        }
    }

    /// Σ_{j ≥ from} W[row][j]·x[j] for f32/f16 rows whose length is not a multiple of 32.
    @inline(__always)
    static func tailDot(_ w: WeightMatrix, row r: Int, from start: Int, _ x: UnsafePointer<Float>) -> Float {
        guard start < w.cols else { return 0 }
        let row = w.row(r)
        var value: Float = 0
        for j in start..<w.cols {
            let wj = w.type == .f32 ? row.loadUnaligned(fromByteOffset: j * 4, as: Float.self)
                                    : Float(row.loadUnaligned(fromByteOffset: j * 2, as: Float16.self))
            value += wj * x[j]
        }
        return value
    }

    /// The four dot products of rows `row`, `row + rowBytes`, … (first `chunks`·32 weights)
    /// with x, each x chunk loaded once for the four rows; two FMA chains per row.
    @inline(__always)
    static func rowDot4<D: WeightChunkDecoder>(_: D.Type, _ row: UnsafeRawPointer, rowBytes: Int, chunks: Int,
                                               _ x: UnsafePointer<Float>) -> (Float, Float, Float, Float) {
        let xr = UnsafeRawPointer(x)
        let r0 = row, r1 = row + rowBytes, r2 = row + 2 * rowBytes, r3 = row + 3 * rowBytes
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        for c in 0..<chunks {
            let base = c * 128
            let x0 = xr.loadUnaligned(fromByteOffset: base, as: SIMD8<Float>.self)
            let x1 = xr.loadUnaligned(fromByteOffset: base + 32, as: SIMD8<Float>.self)
            let x2 = xr.loadUnaligned(fromByteOffset: base + 64, as: SIMD8<Float>.self)
            let x3 = xr.loadUnaligned(fromByteOffset: base + 96, as: SIMD8<Float>.self)
            @inline(__always) func accumulate(_ r: UnsafeRawPointer, _ a: inout SIMD8<Float>, _ b: inout SIMD8<Float>) {
                let (w0, w1, w2, w3, _) = D.decode(r, chunk: c)
                a.addProduct(w0, x0)
                b.addProduct(w1, x1)
                a.addProduct(w2, x2)
                b.addProduct(w3, x3)
            }
            accumulate(r0, &a0, &b0)
            accumulate(r1, &a1, &b1)
            accumulate(r2, &a2, &b2)
            accumulate(r3, &a3, &b3)
        }
        return (VectorOps.horizontalSum(a0 + b0), VectorOps.horizontalSum(a1 + b1),
                VectorOps.horizontalSum(a2 + b2), VectorOps.horizontalSum(a3 + b3))
    }

    /// The dot products of four consecutive rows with two tokens' activations `x0`, `x1` (the
    /// same pointer twice for a single token): eight accumulators, each 8-wide piece of x loaded
    /// once for the four rows and each piece of W once for the two tokens.
    @inline(__always)
    static func rowDot4x2<D: WeightChunkDecoder>(_: D.Type, _ row: UnsafeRawPointer, rowBytes: Int, chunks: Int,
                                                 _ x0: UnsafeRawPointer, _ x1: UnsafeRawPointer) -> (SIMD4<Float>, SIMD4<Float>) {
        var a00 = SIMD8<Float>(), a10 = SIMD8<Float>(), a20 = SIMD8<Float>(), a30 = SIMD8<Float>()
        var a01 = SIMD8<Float>(), a11 = SIMD8<Float>(), a21 = SIMD8<Float>(), a31 = SIMD8<Float>()
        let r1 = row + rowBytes, r2 = row + 2 * rowBytes, r3 = row + 3 * rowBytes
        for c in 0..<chunks {
            for lane in 0..<4 {
                let offset = c * 128 + lane * 32
                let u = x0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                let v = x1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                var w = D.lane(row, chunk: c, lane: lane)
                a00.addProduct(w, u); a01.addProduct(w, v)
                w = D.lane(r1, chunk: c, lane: lane)
                a10.addProduct(w, u); a11.addProduct(w, v)
                w = D.lane(r2, chunk: c, lane: lane)
                a20.addProduct(w, u); a21.addProduct(w, v)
                w = D.lane(r3, chunk: c, lane: lane)
                a30.addProduct(w, u); a31.addProduct(w, v)
            }
        }
        return (SIMD4(VectorOps.horizontalSum(a00), VectorOps.horizontalSum(a10), VectorOps.horizontalSum(a20), VectorOps.horizontalSum(a30)),
                SIMD4(VectorOps.horizontalSum(a01), VectorOps.horizontalSum(a11), VectorOps.horizontalSum(a21), VectorOps.horizontalSum(a31)))
    }

    /// Σ over the first `chunks`·32 weights of `row` times x.
    @inline(__always)
    static func rowDot<D: WeightChunkDecoder>(_: D.Type, _ row: UnsafeRawPointer, chunks: Int, _ x: UnsafePointer<Float>) -> Float {
        let xr = UnsafeRawPointer(x)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for c in 0..<chunks {
            let (w0, w1, w2, w3, _) = D.decode(row, chunk: c)
            let base = c * 128
            acc0.addProduct(w0, xr.loadUnaligned(fromByteOffset: base, as: SIMD8<Float>.self))
            acc1.addProduct(w1, xr.loadUnaligned(fromByteOffset: base + 32, as: SIMD8<Float>.self))
            acc2.addProduct(w2, xr.loadUnaligned(fromByteOffset: base + 64, as: SIMD8<Float>.self))
            acc3.addProduct(w3, xr.loadUnaligned(fromByteOffset: base + 96, as: SIMD8<Float>.self))
        }
        return VectorOps.horizontalSum((acc0 + acc2) + (acc1 + acc3))
    }
}
