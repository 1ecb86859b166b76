/// One weight matrix of a fused product and where its output goes.
public struct MatmulTarget: @unchecked Sendable {
    public var weights: WeightMatrix
    /// Output `[m × weights.rows]`, row-major (row stride `weights.rows`).
    public var output: UnsafeMutablePointer<Float>

    public init(_ weights: WeightMatrix, _ output: UnsafeMutablePointer<Float>) {
        self.weights = weights
        self.output = output
    }
}

/// Multithreaded products `Y[m × n] = X[m × k] · Wᵀ` of f32 activations with a weight
/// matrix `W[n × k]` stored in any ``TensorType`` (GGML layout: rows are output features).
///
/// Two paths, chosen by `m`:
/// - **Small m (decode)**: each thread streams its share of W's rows once and dots every row
///   with the m activation rows while it is in L1, decoding quantized blocks in registers. The
///   time is the weight bytes over the memory bandwidth. Rows are claimed in ~1 MiB chunks;
///   for m = 1 and rows of ≥ 4096 inputs four rows share each load of x. q8_0 weights take
///   integer dot products with x quantized to q8_0 once per call (``Q8_0Dot``).
/// - **Large m (prefill)**: a cache-blocked GEMM. X is packed once per call into 6-row k-major
///   panels (for q8_0 weights: its q8_0 round trip, so both paths compute the same product). A
///   panel of 16 weight rows × `kc` inputs is decoded to f32 and packed k-major (16 KB, in L1);
///   a 6 × 16 register tile of Y accumulates 6 broadcast activations times two 8-wide weight
///   vectors per k (12 FMAs for 8 loads). Blocks of `mc` activation rows × `kc` inputs stay in
///   L2 across the thread's panels.
///
/// Work is split across the pool by output features, so W is read once per call in total.
/// Buffers are allocated in `init` (sized by `maxRows`/`maxInputs`); a call allocates nothing.
public final class MatrixMultiplier: @unchecked Sendable {
    public let pool: ThreadPool
    /// Largest m that takes the streaming (decode) path. 24: with tokens in register groups of
    /// four the streaming path beats the blocked GEMM up to m ≈ 28 (f32) and ≈ 44 (q8_0) on an
    /// 8192 × 2048 product (`inferscope-bench runtime --kernels`, docs/kernels.md).
    public var smallM: Int

    @usableFromInline static let nr = 16
    @usableFromInline static let mr = 6
    @usableFromInline static let kc = 256
    @usableFromInline static let mc = 512
    /// Row width (inputs) from which single-token products take four rows at a time: x of
    /// 16 KiB and more is pushed out of L1 by the weight stream (docs/kernels.md).
    /// Weight bytes per work item of the streaming path.
    @usableFromInline static let streamChunkBytes = 1 << 20
    @usableFromInline static let fourRowWidth = 4096

    /// Per worker: a packed weight panel `kc × nr` floats and a decode buffer `nr × kc` floats
    /// (the panel area also holds rounded activation rows while activations are packed).
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPerWorker: Int
    /// `kc` zeros: the source of the padding rows of packed panels.
    private let zeroRow: UnsafeMutablePointer<Float>
    /// The activations of a streaming product with q8_0 weights, quantized once per call:
    /// `activationCapacity` quants and one scale per 32 of them.
    private var activationQuants: UnsafeMutablePointer<Int8>
    private var activationScales: UnsafeMutablePointer<Float>
    private var activationCapacity: Int
    /// A blocked product's activations, packed once per call for all workers (see
    /// ``packedActivationFloats(rows:k:)`` for the layout), `packedCapacity` floats.
    private var packedX: UnsafeMutablePointer<Float>
    private var packedCapacity: Int

    /// - Parameters:
    ///   - maxRows, maxInputs: the largest m and k the caller will multiply. They size the
    ///     buffers for activations: quantized to q8_0 for the streaming path (`smallM · maxInputs`
    ///     bytes) and packed for the blocked one (≈ `maxRows · maxInputs` floats; pages untouched
    ///     until used), so that no call allocates. A larger product grows a buffer once.
    public init(pool: ThreadPool, smallM: Int = 24, maxRows: Int = 512, maxInputs: Int = 8192) {
        self.pool = pool
        self.smallM = smallM
        scratchPerWorker = 2 * MatrixMultiplier.kc * MatrixMultiplier.nr + 64
        zeroRow = .allocate(capacity: MatrixMultiplier.kc)
        zeroRow.initialize(repeating: 0, count: MatrixMultiplier.kc)
        scratch = .allocate(capacity: scratchPerWorker * pool.threadCount)
        activationCapacity = max(32, smallM * maxInputs)
        activationQuants = .allocate(capacity: activationCapacity)
        activationScales = .allocate(capacity: activationCapacity / 32)
        packedCapacity = MatrixMultiplier.packedActivationFloats(rows: max(1, maxRows), k: max(32, maxInputs))
        packedX = .allocate(capacity: packedCapacity)
    }

    deinit {
        scratch.deallocate()
        zeroRow.deallocate()
        activationQuants.deallocate()
        activationScales.deallocate()
        packedX.deallocate()
    }

    /// Quantizes m rows of x (k inputs each, k a multiple of 32) for the integer q8_0 kernels.
    private func quantizeActivations(_ x: UnsafePointer<Float>, rows m: Int, k: Int) -> QuantizedActivations {
        if m * k > activationCapacity {
            activationQuants.deallocate()
            activationScales.deallocate()
            activationCapacity = m * k
            activationQuants = .allocate(capacity: activationCapacity)
            activationScales = .allocate(capacity: activationCapacity / 32)
        }
        for t in 0..<m {
            Q8_0Dot.quantize(x + t * k, count: k, quants: activationQuants + t * k, scales: activationScales + t * (k / 32))
        }
        return QuantizedActivations(quants: activationQuants, scales: activationScales)
    }

    /// Floats of m activation rows × k inputs packed for the blocked path: each block of `mc`
    /// rows is padded to whole 6-row panels.
    static func packedActivationFloats(rows m: Int, k: Int) -> Int {
        let fullBlocks = m / mc, last = m % mc
        return (fullBlocks * ((mc + 5) / 6) + (last + 5) / 6) * 6 * k
    }

    /// Packs all of x for the blocked path, once per call, the 6-row panels split across the
    /// pool. Block (m0, k0) — `mBlock` rows from m0, `kBlock` inputs from k0 — starts at
    /// `m0Padded · k + k0 · mBlockPadded` (padded = rounded up to whole panels) and holds
    /// ``packActivations(_:stride:rows:kBlock:roundingToQ8_0:temporary:zero:into:)``'s layout.
    private func packAllActivations(_ x: UnsafePointer<Float>, rows m: Int, k: Int, roundingToQ8_0: Bool) -> UnsafePointer<Float> {
        let needed = MatrixMultiplier.packedActivationFloats(rows: m, k: k)
        if needed > packedCapacity {
            packedX.deallocate()
            packedCapacity = needed
            packedX = .allocate(capacity: packedCapacity)
        }
        let mc = MatrixMultiplier.mc, kc = MatrixMultiplier.kc, panelsPerBlock = (mc + 5) / 6
        let panels = (m / mc) * panelsPerBlock + (m % mc + 5) / 6
        let packed = packedX
        pool.parallelFor(panels, grain: max(1, 32_768 / (6 * k))) { range, worker in
            // The worker's weight-panel area is free while activations are packed.
            let temporary = self.scratch + worker * self.scratchPerWorker, zero = self.zeroRow
            for panel in range {
                let m0 = (panel / panelsPerBlock) * mc, local = panel % panelsPerBlock
                let mBlock = min(mc, m - m0), padded = (mBlock + 5) / 6 * 6
                let blockBase = packed + (m0 / mc) * panelsPerBlock * 6 * k
                var k0 = 0
                while k0 < k {
                    let kBlock = min(kc, k - k0)
                    MatrixMultiplier.packActivations(x + (m0 + local * 6) * k + k0, stride: k, rows: min(6, mBlock - local * 6),
                                                     kBlock: kBlock, roundingToQ8_0: roundingToQ8_0, temporary: temporary,
                                                     zero: zero, into: blockBase + k0 * padded + local * 6 * kBlock)
                    k0 += kBlock
                }
            }
        }
        return UnsafePointer(packed)
    }

    /// `target.output[m × n] = x[m × k] · target.weightsᵀ` for up to three matrices sharing
    /// the input (Q/K/V, gate/up), in one parallel region.
    /// `x` is row-major with row stride `k` (= every weight's `cols`).
    /// - Complexity: O(m · k · Σn) FLOPs; reads each weight matrix once.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, _ a: MatmulTarget, _ b: MatmulTarget? = nil, _ c: MatmulTarget? = nil) {
        let k = a.weights.cols
        precondition(b == nil || b!.weights.cols == k, "MatrixMultiplier: fused matrices must share the input width")
        precondition(c == nil || c!.weights.cols == k, "MatrixMultiplier: fused matrices must share the input width")
        if m <= 0 { return }
        let nA = a.weights.rows, nB = b?.weights.rows ?? 0, nC = c?.weights.rows ?? 0
        // (No arrays here: a call must not allocate.)
        let aQ8 = a.weights.type.multipliesQuantizedActivations
        let anyQ8 = aQ8 || b?.weights.type.multipliesQuantizedActivations == true
            || c?.weights.type.multipliesQuantizedActivations == true
        let mixed = (b.map { $0.weights.type.multipliesQuantizedActivations != aQ8 } ?? false)
            || (c.map { $0.weights.type.multipliesQuantizedActivations != aQ8 } ?? false)
        if m <= smallM {
            // q8_0/q4_0 weights take integer dot products with activations quantized here, once.
            let quantized = anyQ8 ? quantizeActivations(x, rows: m, k: k) : nil
            // All rows of all targets in 16-row units, claimed dynamically in chunks of about
            // `streamChunkBytes` of weights, so the threads finish within one short chunk of
            // each other (while one thread finishes alone, the bandwidth is only one core's).
            let units = (nA + nB + nC + 15) / 16
            let grain = max(1, MatrixMultiplier.streamChunkBytes / (16 * a.weights.rowBytes))
            pool.parallelFor(units, grain: grain) { range, _ in
                let lo = range.lowerBound * 16, hi = min(range.upperBound * 16, nA + nB + nC)
                MatrixMultiplier.forEachTarget(lo, hi, nA, nB, a, b, c) { target, rows in
                    MatrixMultiplier.streamRows(x, quantized, m: m, target.weights, rows: rows, output: target.output)
                }
            }
        } else if mixed {
            // The activations are rounded to q8_0 for q8_0/q4_0 weights only: one matrix at a time.
            multiply(x, rows: m, a)
            if let b { multiply(x, rows: m, b) }
            if let c { multiply(x, rows: m, c) }
        } else {
            // q8_0/q4_0 weights multiply the q8_0 round trip of x, as the streaming path's integer
            // kernels do, so that a sequence's logits do not depend on the batch it ran in.
            let packed = packAllActivations(x, rows: m, k: k, roundingToQ8_0: aQ8)
            let panelsA = (nA + 15) / 16, panelsB = (nB + 15) / 16, panelsC = (nC + 15) / 16
            let panels = panelsA + panelsB + panelsC
            // Units of a few panels, claimed dynamically (about four per thread).
            let panelsPerUnit = max(1, panels / (4 * pool.threadCount))
            pool.parallelFor(panels, grain: panelsPerUnit) { mine, worker in
                let buffer = scratch + worker * scratchPerWorker
                gemm(packed, m: m, k: k, panels: mine, panelsA, panelsB, a, b, c, scratch: buffer)
            }
        }
    }

    /// Calls `body(target, rowRange)` for the parts of the global row range `lo..<hi` that
    /// fall in each of the concatenated targets a, b, c.
    @inline(__always)
    static func forEachTarget(_ lo: Int, _ hi: Int, _ nA: Int, _ nB: Int, _ a: MatmulTarget, _ b: MatmulTarget?,
                              _ c: MatmulTarget?, _ body: (MatmulTarget, Range<Int>) -> Void) {
        if lo < nA { body(a, lo..<min(hi, nA)) }
        if let b, hi > nA, lo < nA + nB { body(b, (max(lo, nA) - nA)..<(min(hi, nA + nB) - nA)) }
        if let c, hi > nA + nB { body(c, (max(lo, nA + nB) - nA - nB)..<(hi - nA - nB)) }
    }

    // MARK: - Streaming path (small m)

    /// y[t][r] = x_t · W_r for r in `rows`, t in 0..<m. q8_0 weights multiply `quantized` (x
    /// quantized to q8_0), which must be given for them.
    static func streamRows(_ x: UnsafePointer<Float>, _ quantized: QuantizedActivations?, m: Int, _ w: WeightMatrix,
                           rows: Range<Int>, output: UnsafeMutablePointer<Float>) {
        switch w.type {
        case .f32: streamRows(F32Decoder.self, x, m: m, w, rows: rows, output: output)
        case .f16: streamRows(F16Decoder.self, x, m: m, w, rows: rows, output: output)
        case .q8_0:
            guard let quantized else { preconditionFailure("MatrixMultiplier: q8_0 rows need quantized activations") }
            streamRowsInteger(Q8_0Block.self, quantized, m: m, w, rows: rows, output: output)
        case .q4_0:
            guard let quantized else { preconditionFailure("MatrixMultiplier: q4_0 rows need quantized activations") }
            streamRowsInteger(Q4_0Block.self, quantized, m: m, w, rows: rows, output: output)
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
        // Several tokens, in groups of four whose accumulators stay in registers (a stack array
        // of m accumulators cost a load and a store per token per chunk). Each 32-weight chunk is
        // decoded once per group; the row (≤ a few KiB) stays in L1 between groups, so the
        // matrix is still read from memory once.
        let xr = UnsafeRawPointer(x)
        let stride = k * 4
        let tail = chunks * 32
        // Four rows at a time against two tokens at a time: each x vector serves four rows, so
        // the m rows of x (m · 4k bytes, beyond L1 for m > 4) are read from L2 a quarter as often.
        var quadEnd = rows.lowerBound
        while quadEnd + 4 <= rows.upperBound { quadEnd += 4 }
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

    // MARK: - Blocked GEMM path (large m)

    /// One worker's share: global panels `panels` (16 output rows each) over the concatenated
    /// targets, with the activations `packedX` packed by ``packAllActivations(_:rows:k:roundingToQ8_0:)``;
    /// `scratch` holds the packed weight panel and the decode buffer.
    private func gemm(_ packedX: UnsafePointer<Float>, m: Int, k: Int, panels: Range<Int>, _ panelsA: Int, _ panelsB: Int,
                      _ a: MatmulTarget, _ b: MatmulTarget?, _ c: MatmulTarget?, scratch: UnsafeMutablePointer<Float>) {
        let nr = MatrixMultiplier.nr, kc = MatrixMultiplier.kc, mc = MatrixMultiplier.mc, mr = MatrixMultiplier.mr
        let packed = scratch
        let decoded = scratch + kc * nr
        var m0 = 0
        while m0 < m {
            let mBlock = min(mc, m - m0)
            var k0 = 0
            while k0 < k {
                let kBlock = min(kc, k - k0)
                let xBlock = packedX + m0 / mc * ((mc + 5) / 6) * 6 * k + k0 * ((mBlock + 5) / 6 * 6)
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
