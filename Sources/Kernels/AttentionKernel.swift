/// Attention of a few query rows over keys and values packed for the GEMM micro-kernels.
///
/// Layouts (`dh` = head dimension, a multiple of 16; positions padded to a multiple of 16):
/// - packed keys: `[position panel p][dh][16]` — element (d, j) of panel p is K[16p + j][d];
/// - packed values: `[dh / 16 column panels c][paddedLength][16]` — element (pos, j) of panel c
///   is V[pos][16c + j].
/// Scores are then a 6 × 16 register tile per key panel and the output a 6 × 16 tile per
/// value panel, the same kernels as ``MatrixMultiplier``'s blocked path.
public enum AttentionKernel {
    /// out[r] = softmax(q_r · K[0 ..< lengths[r]]ᵀ) · V[0 ..< lengths[r]] for `rows` ≤ 6 query
    /// rows (contiguous, `headDim` floats each, already multiplied by the softmax scale).
    /// `scores` holds `rows × scoreStride` floats, `scoreStride` ≥ max length rounded up to
    /// 16; `out` is `rows × headDim`, overwritten.
    /// - Complexity: O(rows · maxLength · headDim).
    public static func attend(queries: UnsafePointer<Float>, rows: Int, headDim: Int, lengths: UnsafePointer<Int>,
                              packedKeys: UnsafePointer<Float>, packedValues: UnsafePointer<Float>, paddedLength: Int,
                              scores: UnsafeMutablePointer<Float>, scoreStride: Int, out: UnsafeMutablePointer<Float>) {
        precondition(rows >= 1 && rows <= 6 && headDim % 16 == 0, "AttentionKernel: rows \(rows), headDim \(headDim)")
        var maxLength = 0
        for r in 0..<rows { maxLength = max(maxLength, lengths[r]) }
        let panels = (maxLength + 15) / 16
        // Scores: [rows × 16·panels].
        for p in 0..<panels {
            let keys = packedKeys + p * headDim * 16
            if rows == 6 {
                MatrixMultiplier.kernel6x16(queries, k: headDim, keys, kBlock: headDim, scores + p * 16, ldc: scoreStride,
                                            valid: 16, accumulate: false)
            } else {
                for r in 0..<rows {
                    MatrixMultiplier.kernel1x16(queries + r * headDim, keys, kBlock: headDim, scores + r * scoreStride + p * 16,
                                                valid: 16, accumulate: false)
                }
            }
        }
        // Softmax of each row over its own length; zero up to the longest row.
        for r in 0..<rows {
            let row = scores + r * scoreStride
            Softmax.apply(row, count: lengths[r])
            if lengths[r] < maxLength { (row + lengths[r]).update(repeating: 0, count: maxLength - lengths[r]) }
        }
        // Output: [rows × dh] = scores[rows × maxLength] · V[maxLength × dh].
        for c in 0..<(headDim / 16) {
            let values = packedValues + c * paddedLength * 16
            if rows == 6 {
                MatrixMultiplier.kernel6x16(scores, k: scoreStride, values, kBlock: maxLength, out + c * 16, ldc: headDim,
                                            valid: 16, accumulate: false)
            } else {
                for r in 0..<rows {
                    MatrixMultiplier.kernel1x16(scores + r * scoreStride, values, kBlock: maxLength, out + r * headDim + c * 16,
                                                valid: 16, accumulate: false)
                }
            }
        }
    }
}
