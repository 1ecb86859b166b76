import Testing
import Foundation
import Kernels

/// The packed-tile attention kernel against a naive softmax(q·Kᵀ)·V per row, with rows of
/// different lengths (causal). Tolerance: relative error ≤ 1e-5.
@Suite struct AttentionKernelTests {
    @Test(arguments: [1, 4, 6])
    func attendMatchesNaiveAttention(rows: Int) {
        var rng = SeededRandom(seed: UInt64(rows))
        let headDim = 32, length = 37
        let padded = (length + 15) / 16 * 16
        let keys = rng.floats(length * headDim), values = rng.floats(length * headDim)
        let queries = rng.floats(rows * headDim)
        let lengths = (0..<rows).map { length - 2 * ($0 % 3) }
        // Pack as documented: keys [panel][d][16], values [d/16][padded][16].
        var packedKeys = [Float](repeating: 0, count: padded * headDim)
        var packedValues = [Float](repeating: 0, count: padded * headDim)
        for p in 0..<length {
            for d in 0..<headDim {
                packedKeys[(p / 16) * headDim * 16 + d * 16 + p % 16] = keys[p * headDim + d]
                packedValues[(d / 16) * padded * 16 + p * 16 + d % 16] = values[p * headDim + d]
            }
        }
        let stride = padded + 16
        var scores = [Float](repeating: .nan, count: rows * stride)
        var out = [Float](repeating: .nan, count: rows * headDim)
        scores.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                AttentionKernel.attend(queries: queries, rows: rows, headDim: headDim, lengths: lengths, packedKeys: packedKeys,
                                       packedValues: packedValues, paddedLength: padded, scores: s.baseAddress!,
                                       scoreStride: stride, out: o.baseAddress!)
            }
        }
        for r in 0..<rows {
            let dots = (0..<lengths[r]).map { p in (0..<headDim).reduce(0.0) { $0 + Double(queries[r * headDim + $1]) * Double(keys[p * headDim + $1]) } }
            let maximum = dots.max()!
            let e = dots.map { exp($0 - maximum) }
            let total = e.reduce(0, +)
            let expected = (0..<headDim).map { d in Float((0..<lengths[r]).reduce(0.0) { $0 + e[$1] / total * Double(values[$1 * headDim + d]) }) }
            #expect(relativeError(Array(out[(r * headDim)..<((r + 1) * headDim)]), expected) <= 1e-5, "row \(r)")
        }
    }
}
