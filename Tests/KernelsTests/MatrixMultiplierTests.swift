import Testing
import Kernels

/// The matrix products against a naive triple loop over reference-dequantized weights (and,
/// for q8_0 and q4_0, activations rounded through q8_0).
/// Tolerance: relative error ≤ 1e-5 (f32 sums in a different order; the weights are the
/// same decoded values, so the type does not widen it).
/// Every test runs on each ``KernelPath`` this machine supports (`KernelPathTests` prints
/// which paths were skipped for lack of the ISA).
@Suite struct MatrixMultiplierTests {
    static let pool = ThreadPool(threadCount: 3)

    func check(type: TensorType, m: Int, n: Int, k: Int, seed: UInt64, smallM: Int = 4, path: KernelPath) {
        var rng = SeededRandom(seed: seed)
        let w = OwnedMatrix(rng.floats(n * k), rows: n, cols: k, type: type)
        let x = rng.floats(m * k)
        var y = [Float](repeating: .nan, count: m * n)
        let multiplier = MatrixMultiplier(pool: Self.pool, smallM: smallM, path: path)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                multiplier.multiply(xp.baseAddress!, rows: m, MatmulTarget(w.matrix, yp.baseAddress!))
            }
        }
        // q8_0 and q4_0 weights multiply activations rounded to q8_0 (as ggml does).
        let xUsed = type.multipliesQuantizedActivations ? (0..<m).flatMap { t in ReferenceQuant.roundThroughQ8_0Activations(Array(x[t * k ..< (t + 1) * k])) } : x
        var expected = [Float](repeating: 0, count: m * n)
        for r in 0..<n {
            let row = w.referenceRow(r)
            for t in 0..<m {
                var s: Double = 0
                for j in 0..<k { s += Double(row[j]) * Double(xUsed[t * k + j]) }
                expected[t * n + r] = Float(s)
            }
        }
        let error = relativeError(y, expected)
        #expect(error <= 1e-5, "\(type) m=\(m) n=\(n) k=\(k) path=\(path): relative error \(error)")
    }

    @Test(arguments: TensorType.allCases, KernelPath.supported)
    func streamingPathMatchesReference(type: TensorType, path: KernelPath) {
        check(type: type, m: 1, n: 37, k: 96, seed: 1, path: path)
        check(type: type, m: 3, n: 16, k: 64, seed: 2, path: path)
        check(type: type, m: 8, n: 21, k: 64, seed: 12, path: path)
        // Several tokens go in register groups of four: every remainder (1, 2, 3), two full
        // groups, and rows whose length is not a multiple of 32 (f32/f16 tails).
        for m in [2, 4, 5, 6, 7, 9, 16] {
            check(type: type, m: m, n: 19, k: type == .f32 || type == .f16 ? 72 : 96, seed: 20 + UInt64(m), smallM: 16, path: path)
        }
        // Long rows (k ≥ 4096) take the four-rows-at-a-time path; 11 rows leave a remainder.
        check(type: type, m: 1, n: 11, k: 4096 + 64, seed: 13, path: path)
    }

    @Test(arguments: TensorType.allCases, KernelPath.supported)
    func blockedPathMatchesReference(type: TensorType, path: KernelPath) {
        // m spans the 6-row tiles and a remainder; n a partial 16-row panel; k two k-blocks.
        check(type: type, m: 13, n: 40, k: 288, seed: 3, path: path)
    }

    @Test(arguments: KernelPath.supported)
    func blockedPathHandlesManyRowBlocksAndOddWidths(path: KernelPath) {
        check(type: .f32, m: 130, n: 18, k: 40, seed: 4, smallM: 0, path: path)
        check(type: .q8_0, m: 520, n: 17, k: 64, seed: 6, smallM: 0, path: path)  // two row blocks (mc = 512)
        check(type: .f16, m: 7, n: 5, k: 24, seed: 5, smallM: 0, path: path)
        // Small batch, X packed once, panels taken through three k blocks (the last partial).
        check(type: .q8_0, m: 9, n: 33, k: 544, seed: 7, smallM: 0, path: path)
        // m ≤ mc but all of X does not fit the block buffer: k-block-outer order.
        check(type: .f32, m: 64, n: 5, k: 2112, seed: 8, smallM: 0, path: path)
    }

    @Test(arguments: KernelPath.supported)
    func fusedTargetsEqualSeparateProducts(path: KernelPath) {
        var rng = SeededRandom(seed: 9)
        let k = 64, m = 8
        let a = OwnedMatrix(rng.floats(48 * k), rows: 48, cols: k, type: .q8_0)
        let b = OwnedMatrix(rng.floats(20 * k), rows: 20, cols: k, type: .q8_0)
        let c = OwnedMatrix(rng.floats(33 * k), rows: 33, cols: k, type: .q8_0)
        let x = rng.floats(m * k)
        let multiplier = MatrixMultiplier(pool: Self.pool, path: path)
        for rows in [1, m] {
            var y0 = [Float](repeating: 0, count: rows * 48), y1 = [Float](repeating: 0, count: rows * 20)
            var y2 = [Float](repeating: 0, count: rows * 33)
            x.withUnsafeBufferPointer { xp in
                y0.withUnsafeMutableBufferPointer { f0 in
                    y1.withUnsafeMutableBufferPointer { f1 in
                        y2.withUnsafeMutableBufferPointer { f2 in
                            multiplier.multiply(xp.baseAddress!, rows: rows, MatmulTarget(a.matrix, f0.baseAddress!),
                                                MatmulTarget(b.matrix, f1.baseAddress!), MatmulTarget(c.matrix, f2.baseAddress!))
                        }
                    }
                }
            }
            for (w, fused) in [(a, y0), (b, y1), (c, y2)] {
                var single = [Float](repeating: 0, count: rows * w.matrix.rows)
                x.withUnsafeBufferPointer { xp in
                    single.withUnsafeMutableBufferPointer { s in
                        multiplier.multiply(xp.baseAddress!, rows: rows, MatmulTarget(w.matrix, s.baseAddress!))
                    }
                }
                #expect(fused == single, "rows=\(rows)")
            }
        }
    }
}
