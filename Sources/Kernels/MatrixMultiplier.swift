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
    /// The instruction set of the hot kernels (``KernelPath``): chosen once at start-up by
    /// default; settable so that tests and benchmarks can run every path the machine supports.
    /// Must be supported (``KernelPath/isSupported``).
    public var path: KernelPath {
        didSet { precondition(path.isSupported, "MatrixMultiplier: kernel path \(path) is not supported on this machine") }
    }

    @usableFromInline static let nr = 16
    @usableFromInline static let mr = 6
    @usableFromInline static let kc = 256
    @usableFromInline static let mc = 512
    /// Weight bytes per work item of the streaming path.
    @usableFromInline static let streamChunkBytes = 1 << 20
    /// Row width (inputs) from which f32/f16 single-token products take four rows at a time: x
    /// of 16 KiB and more is pushed out of L1 by the weight stream (docs/kernels.md).
    @usableFromInline static let fourRowWidth = 4096

    /// Per worker: a packed weight panel `kc × nr` floats and a decode buffer `nr × kc` floats
    /// (the panel area also holds rounded activation rows while activations are packed).
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPerWorker: Int
    /// `kc` zeros: the source of the padding rows of packed panels.
    let zeroRow: UnsafeMutablePointer<Float>
    /// The activations of a streaming product with q8_0/q4_0 weights, quantized once per call:
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
    ///   - path: the kernels' instruction set; default the one chosen at start-up.
    public init(pool: ThreadPool, smallM: Int = 24, maxRows: Int = 512, maxInputs: Int = 8192, path: KernelPath = .detected) {
        precondition(path.isSupported, "MatrixMultiplier: kernel path \(path) is not supported on this machine")
        self.pool = pool
        self.smallM = smallM
        self.path = path
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

    /// Quantizes m rows of x (k inputs each, k a multiple of 32) for the integer kernels.
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

    /// Offset (floats) of packed block (m0, k0) — `mBlock` rows from m0 (a multiple of `mc`),
    /// inputs from k0 — in the packed activations: the padded rows of the blocks before it times
    /// k, then k0 times its own padded rows.
    @inline(__always)
    static func packedBlockOffset(m0: Int, mBlock: Int, k0: Int, k: Int) -> Int {
        m0 / mc * ((mc + 5) / 6 * 6) * k + k0 * ((mBlock + 5) / 6 * 6)
    }

    /// Packs all of x for the blocked path, once per call, the 6-row panels split across the
    /// pool. Block (m0, k0) starts at ``packedBlockOffset(m0:mBlock:k0:k:)`` and holds
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
                let mBlock = min(mc, m - m0)
                var k0 = 0
                while k0 < k {
                    let kBlock = min(kc, k - k0)
                    let block = packed + MatrixMultiplier.packedBlockOffset(m0: m0, mBlock: mBlock, k0: k0, k: k)
                    MatrixMultiplier.packActivations(x + (m0 + local * 6) * k + k0, stride: k, rows: min(6, mBlock - local * 6),
                                                     kBlock: kBlock, roundingToQ8_0: roundingToQ8_0, temporary: temporary,
                                                     zero: zero, into: block + local * 6 * kBlock)
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
        let aQuantized = a.weights.type.multipliesQuantizedActivations
        let bQuantized = b?.weights.type.multipliesQuantizedActivations, cQuantized = c?.weights.type.multipliesQuantizedActivations
        let anyQuantized = aQuantized || bQuantized == true || cQuantized == true
        let mixed = (bQuantized.map { $0 != aQuantized } ?? false) || (cQuantized.map { $0 != aQuantized } ?? false)
        if m <= smallM {
            // q8_0/q4_0 weights take integer dot products with activations quantized here, once.
            let quantized = anyQuantized ? quantizeActivations(x, rows: m, k: k) : nil
            // All rows of all targets in 16-row units, claimed dynamically in chunks of about
            // `streamChunkBytes` of weights, so the threads finish within one short chunk of
            // each other (while one thread finishes alone, the bandwidth is only one core's).
            let units = (nA + nB + nC + 15) / 16
            let grain = max(1, MatrixMultiplier.streamChunkBytes / (16 * a.weights.rowBytes))
            let path = self.path
            pool.parallelFor(units, grain: grain) { range, _ in
                let lo = range.lowerBound * 16, hi = min(range.upperBound * 16, nA + nB + nC)
                MatrixMultiplier.forEachTarget(lo, hi, nA, nB, a, b, c) { target, rows in
                    MatrixMultiplier.streamRows(x, quantized, m: m, target.weights, rows: rows, output: target.output, path: path)
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
            let packed = packAllActivations(x, rows: m, k: k, roundingToQ8_0: aQuantized)
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
}
