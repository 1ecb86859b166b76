import Testing
import Foundation
import Kernels

/// Element-wise kernels against scalar Foundation math. Tolerances: relative error ≤ 1e-6
/// for exp (polynomial), ≤ 1e-6 for the others (reassociated f32 sums).
@Suite struct ElementwiseKernelTests {
    @Test func expMatchesFoundation() {
        var rng = SeededRandom(seed: 11)
        for _ in 0..<200 {
            var lanes = SIMD8<Float>()
            for i in 0..<8 { lanes[i] = Float.random(in: -87...88, using: &rng) }
            let e = FastMath.exp(lanes)
            for i in 0..<8 {
                let reference = Foundation.exp(Double(lanes[i]))
                #expect(abs(Double(e[i]) - reference) <= 1e-6 * reference, "exp(\(lanes[i]))")
            }
        }
        let edges = FastMath.exp(SIMD8<Float>(-200, -88, 0, 1, 89, 200, -.infinity, .infinity))
        #expect(edges[0] == 0 && edges[1] == 0 && edges[2] == 1 && abs(edges[3] - Float(M_E)) < 1e-6)
        #expect(edges[4] == .infinity && edges[5] == .infinity && edges[6] == 0 && edges[7] == .infinity)
    }

    @Test(arguments: [1, 8, 13, 48])
    func softmaxMatchesReference(count: Int) {
        var rng = SeededRandom(seed: UInt64(count))
        var x = rng.floats(count, scale: 20)
        let maximum = x.max()!
        let e = x.map { Foundation.exp(Double($0 - maximum)) }
        let expected = e.map { Float($0 / e.reduce(0, +)) }
        x.withUnsafeMutableBufferPointer { Softmax.apply($0.baseAddress!, count: count) }
        #expect(relativeError(x, expected) <= 1e-6)
    }

    @Test(arguments: [7, 64, 288])
    func rmsNormMatchesReference(count: Int) {
        var rng = SeededRandom(seed: 21)
        let x = rng.floats(count, scale: 3), w = rng.floats(count)
        let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)
        let expected = (0..<count).map { Float(Double(x[$0]) / (meanSquare + 1e-5).squareRoot() * Double(w[$0])) }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { RMSNorm.apply(x, weight: w, epsilon: 1e-5, count: count, into: $0.baseAddress!) }
        #expect(relativeError(out, expected) <= 1e-6)
    }

    @Test(arguments: [5, 40])
    func swigluMatchesReference(count: Int) {
        var rng = SeededRandom(seed: 31)
        var gate = rng.floats(count, scale: 6)
        let up = rng.floats(count)
        let expected = (0..<count).map { i in Float(Double(gate[i]) / (1 + Foundation.exp(-Double(gate[i]))) * Double(up[i])) }
        gate.withUnsafeMutableBufferPointer { SwiGLU.apply(gate: $0.baseAddress!, up: up, count: count) }
        #expect(relativeError(gate, expected) <= 1e-6)
    }

    /// RoPE rotates adjacent pairs (2i, 2i+1) by pos·θ^(−2i/d_h) — the llama.cpp "normal" mode.
    @Test(arguments: [8, 48, 6])
    func ropeRotatesAdjacentPairs(headDim: Int) {
        var rng = SeededRandom(seed: 41)
        let heads = 3, position = 37, theta: Float = 10000
        var x = rng.floats(heads * headDim)
        var expected = x
        for h in 0..<heads {
            for i in 0..<(headDim / 2) {
                let angle = Double(position) * Foundation.pow(Double(theta), -Double(2 * i) / Double(headDim))
                let a = Double(x[h * headDim + 2 * i]), b = Double(x[h * headDim + 2 * i + 1])
                expected[h * headDim + 2 * i] = Float(a * Foundation.cos(angle) - b * Foundation.sin(angle))
                expected[h * headDim + 2 * i + 1] = Float(a * Foundation.sin(angle) + b * Foundation.cos(angle))
            }
        }
        var table = [Float](repeating: 0, count: headDim)
        table.withUnsafeMutableBufferPointer {
            RotaryEmbedding.fillTable(position: position, headDim: headDim, theta: theta, into: $0.baseAddress!)
        }
        x.withUnsafeMutableBufferPointer { RotaryEmbedding.apply($0.baseAddress!, heads: heads, headDim: headDim, table: table) }
        #expect(relativeError(x, expected) <= 1e-6)
    }

    @Test func dotAndAxpyMatchReference() {
        var rng = SeededRandom(seed: 51)
        for count in [0, 3, 8, 45, 100] {
            let a = rng.floats(count), b = rng.floats(count)
            let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(Double(VectorOps.dot(a, b, count: count)) - expected) <= 1e-5)
            var y = b
            y.withUnsafeMutableBufferPointer { VectorOps.axpy(0.5, a, $0.baseAddress!, count: count) }
            #expect(relativeError(y, zip(a, b).map { 0.5 * $0 + $1 }) <= 1e-6)
        }
    }

    @Test(arguments: TensorType.allCases)
    func rowDecodingMatchesReference(type: TensorType) {
        var rng = SeededRandom(seed: 61)
        let w = OwnedMatrix(rng.floats(2 * 96), rows: 2, cols: 96, type: type)
        var out = [Float](repeating: 0, count: 64)
        out.withUnsafeMutableBufferPointer {
            WeightDecoding.decodeRow(type, w.matrix.row(1), start: 32, count: 64, into: $0.baseAddress!)
        }
        #expect(out == Array(w.referenceRow(1)[32..<96]))
    }

    @Test func laneWiseMaximumAndMinimum() {
        var rng = SeededRandom(seed: 51)
        for _ in 0..<50 {
            let a = SIMD8<Float>(rng.floats(8, scale: 100)), b = SIMD8<Float>(rng.floats(8, scale: 100))
            let hi = VectorOps.maximum(a, b), lo = VectorOps.minimum(a, b)
            for i in 0..<8 {
                #expect(hi[i] == max(a[i], b[i]) && lo[i] == min(a[i], b[i]))
            }
            #expect(VectorOps.horizontalMax(a) == (0..<8).map { a[$0] }.max()!)
        }
    }
}
