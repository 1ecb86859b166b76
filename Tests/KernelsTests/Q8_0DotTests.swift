import Testing
@testable import Kernels

/// The integer q8_0 path: activation quantization against the reference rounding, integer
/// sums at the extremes of the int8 range, and the buffer growing past its reserved size.
@Suite struct Q8_0DotTests {
    @Test func activationQuantizationMatchesReference() {
        var rng = SeededRandom(seed: 41)
        var x = rng.floats(32 * 40, scale: 3)
        for j in 0..<32 { x[32 + j] = 0 }                  // an all-zero block: d = 0, q = 0
        for j in 0..<32 { x[64 + j] = Float(j - 16) * 1e-3 } // tiny values
        x[100] = 1e4                                       // one outlier dominating its block
        var quants = [Int8](repeating: 0, count: x.count), scales = [Float](repeating: 0, count: x.count / 32)
        x.withUnsafeBufferPointer { xp in
            Q8_0Dot.quantize(xp.baseAddress!, count: x.count, quants: &quants, scales: &scales)
        }
        let roundTrip = ReferenceQuant.roundThroughQ8_0Activations(x)
        for b in 0..<x.count / 32 {
            let d = x[b * 32 ..< b * 32 + 32].map { abs($0) }.max()! / 127
            #expect(scales[b] == Float(Float16(d)), "block \(b)")
            for j in b * 32 ..< b * 32 + 32 {
                #expect(Float(quants[j]) * scales[b] == roundTrip[j], "value \(j): q \(quants[j]) for \(x[j])")
            }
        }
        #expect(quants[32 ..< 64].allSatisfy { $0 == 0 } && scales[1] == 0)
    }

    @Test func integerSumsAreExactAtTheInt8Extremes() {
        // Weights of -128 (legal in a foreign GGUF, never produced by our quantizer) and 127
        // against activations of ±127: the 16-bit pair sums come closest to saturation here.
        var block = [UInt8](repeating: 0, count: 34 * 2)
        block.withUnsafeMutableBytes { b in
            b.storeBytes(of: Float16(1).bitPattern, toByteOffset: 0, as: UInt16.self)
            b.storeBytes(of: Float16(0.5).bitPattern, toByteOffset: 34, as: UInt16.self)
            for j in 0..<32 {
                b.storeBytes(of: j % 3 == 0 ? Int8(-128) : 127, toByteOffset: 2 + j, as: Int8.self)
                b.storeBytes(of: j % 2 == 0 ? Int8(-128) : -127, toByteOffset: 36 + j, as: Int8.self)
            }
        }
        var quants = [Int8](repeating: 0, count: 64)
        for j in 0..<64 { quants[j] = j % 4 < 2 ? 127 : -127 }
        let scales: [Float] = [2, 0.25]
        var expected: Double = 0
        for c in 0..<2 {
            let dw: Double = c == 0 ? 1 : 0.5
            var sum = 0
            for j in 0..<32 { sum += Int(Int8(bitPattern: block[c * 34 + 2 + j])) * Int(quants[c * 32 + j]) }
            expected += dw * Double(scales[c]) * Double(sum)
        }
        let single = block.withUnsafeBytes { b in Q8_0Dot.dot(Q8_0Block.self, b.baseAddress!, chunks: 2, quants, scales) }
        #expect(Double(single) == expected)
        // The same row against a group of three token rows (the second and third negated).
        let rows = quants + quants.map { -$0 } + quants
        let rowScales = scales + scales + scales
        let (y0, y1, y2, _) = block.withUnsafeBytes { b in
            rows.withUnsafeBufferPointer { q in
                Q8_0Dot.dot4(Q8_0Block.self, b.baseAddress!, chunks: 2, group: 3, q.baseAddress!, stride: 64, rowScales)
            }
        }
        #expect(Double(y0) == expected && Double(y1) == -expected && Double(y2) == expected)
    }

    @Test func quantizedActivationBufferGrowsPastItsReservation() {
        // Reserved for 32 inputs × 2 rows; a product of 3 rows × 4096 inputs must still be right.
        var rng = SeededRandom(seed: 43)
        let (m, n, k) = (3, 5, 4096)
        let w = OwnedMatrix(rng.floats(n * k), rows: n, cols: k, type: .q8_0)
        let x = rng.floats(m * k)
        var y = [Float](repeating: .nan, count: m * n)
        let multiplier = MatrixMultiplier(pool: ThreadPool(threadCount: 2), smallM: 2, maxInputs: 32)
        multiplier.smallM = 4
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in multiplier.multiply(xp.baseAddress!, rows: m, MatmulTarget(w.matrix, yp.baseAddress!)) }
        }
        var expected = [Float](repeating: 0, count: m * n)
        for t in 0..<m {
            let xt = ReferenceQuant.roundThroughQ8_0Activations(Array(x[t * k ..< (t + 1) * k]))
            for r in 0..<n {
                let row = w.referenceRow(r)
                expected[t * n + r] = Float((0..<k).reduce(0.0) { $0 + Double(row[$1]) * Double(xt[$1]) })
            }
        }
        #expect(relativeError(y, expected) <= 1e-5)
    }

    @Test func mixedTypesInOneFusedProductEqualSeparateProducts() {
        // q8_0 rounds its activations, f16 does not: a fused call must treat each by its type,
        // on both paths.
        var rng = SeededRandom(seed: 44)
        let k = 64
        let a = OwnedMatrix(rng.floats(20 * k), rows: 20, cols: k, type: .q8_0)
        let b = OwnedMatrix(rng.floats(18 * k), rows: 18, cols: k, type: .f16)
        let multiplier = MatrixMultiplier(pool: ThreadPool(threadCount: 2), smallM: 4)
        for m in [1, 3, 30] {
            let x = rng.floats(m * k)
            var fa = [Float](repeating: 0, count: m * 20), fb = [Float](repeating: 0, count: m * 18)
            var sa = fa, sb = fb
            x.withUnsafeBufferPointer { xp in
                let p = xp.baseAddress!
                fa.withUnsafeMutableBufferPointer { o0 in
                    fb.withUnsafeMutableBufferPointer { o1 in
                        multiplier.multiply(p, rows: m, MatmulTarget(a.matrix, o0.baseAddress!), MatmulTarget(b.matrix, o1.baseAddress!))
                    }
                }
                sa.withUnsafeMutableBufferPointer { multiplier.multiply(p, rows: m, MatmulTarget(a.matrix, $0.baseAddress!)) }
                sb.withUnsafeMutableBufferPointer { multiplier.multiply(p, rows: m, MatmulTarget(b.matrix, $0.baseAddress!)) }
            }
            #expect(fa == sa && fb == sb, "m=\(m)")
        }
    }

    @Test func q4_0BlocksUnpackToTheirSignedNibbles() {
        // Byte j: weight j in the low nibble, weight j + 16 in the high one, each stored + 8.
        var block = [UInt8](repeating: 0, count: 18)
        block.withUnsafeMutableBytes { $0.storeBytes(of: Float16(0.25).bitPattern, as: UInt16.self) }
        for j in 0..<16 { block[2 + j] = UInt8(j) | UInt8(15 - j) << 4 }
        let quants = block.withUnsafeBytes { Q4_0Block.quants($0.baseAddress!) }
        for j in 0..<16 {
            #expect(quants[j] == Int8(j) - 8 && quants[j + 16] == Int8(15 - j) - 8, "weight \(j)")
        }
        // Dot with x = 1…32 quantized at scale 0.5: 0.25 · 0.5 · Σ w_j · x_j exactly.
        let x = (0..<32).map { Int8($0 + 1) }
        let expected = 0.125 * Double((0..<32).reduce(0) { $0 + Int(quants[$1]) * Int(x[$1]) })
        let y = block.withUnsafeBytes { Q8_0Dot.dot(Q4_0Block.self, $0.baseAddress!, chunks: 1, x, [0.5]) }
        #expect(Double(y) == expected)
    }
}
