import Kernels

/// Vectorized attention readers over a block table.
///
/// Both take a group of `queryCount` query heads that share one KV head (grouped-query
/// attention), so each cached row is read — and, for f16/int8/int4, decoded — once per group
/// rather than once per query head. Position p lives in block `blockTable[p / blockSize]`,
/// slot `p % blockSize`.
extension KVCacheStorage {
    /// The largest head dimension the readers decode on the stack.
    public static let maxHeadDim = 256

    /// scores[q · scoreStride + p] = scale · (query_q · K_p[kvHead]) for the `queryCount`
    /// query vectors at `queries + q · headDim` and positions p in `0..<length`.
    /// - Complexity: O(queryCount · length · headDim).
    public func attentionScores(layer: Int, kvHead: Int, queries: UnsafePointer<Float>, queryCount: Int, scale: Float,
                                blockTable: UnsafeBufferPointer<Int32>, length: Int,
                                scores: UnsafeMutablePointer<Float>, scoreStride: Int) {
        precondition(headDim <= KVCacheStorage.maxHeadDim, "KVCacheStorage: headDim \(headDim) > \(KVCacheStorage.maxHeadDim)")
        precondition(length <= blockTable.count * blockSize,
                     "KVCacheStorage.attentionScores: \(length) positions but the block table covers \(blockTable.count * blockSize)")
        withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { decoded in
            let buffer = decoded.baseAddress!
            for p in 0..<length {
                let row = UnsafeRawPointer(keyRow(layer: layer, block: Int(blockTable[p / blockSize]), slot: p % blockSize))
                let key = readHead(row, kvHead: kvHead, scratch: buffer)
                for q in 0..<queryCount {
                    scores[q * scoreStride + p] = scale * VectorOps.dot(queries + q * headDim, key, count: headDim)
                }
            }
        }
    }

    /// out_q += Σ_p weights[q · weightStride + p] · V_p[kvHead] for the `queryCount` output
    /// vectors at `out + q · headDim` and positions p in `0..<length`.
    /// - Complexity: O(queryCount · length · headDim).
    public func accumulateValues(layer: Int, kvHead: Int, weights: UnsafePointer<Float>, weightStride: Int, queryCount: Int,
                                 blockTable: UnsafeBufferPointer<Int32>, length: Int, out: UnsafeMutablePointer<Float>) {
        precondition(headDim <= KVCacheStorage.maxHeadDim, "KVCacheStorage: headDim \(headDim) > \(KVCacheStorage.maxHeadDim)")
        precondition(length <= blockTable.count * blockSize,
                     "KVCacheStorage.accumulateValues: \(length) positions but the block table covers \(blockTable.count * blockSize)")
        withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { decoded in
            let buffer = decoded.baseAddress!
            for p in 0..<length {
                let row = UnsafeRawPointer(valueRow(layer: layer, block: Int(blockTable[p / blockSize]), slot: p % blockSize))
                let value = readHead(row, kvHead: kvHead, scratch: buffer)
                for q in 0..<queryCount {
                    VectorOps.axpy(weights[q * weightStride + p], value, out + q * headDim, count: headDim)
                }
            }
        }
    }

    /// Head `kvHead` of a cached row as floats: a pointer into the row for f32, else the row
    /// decoded into `scratch`.
    @inline(__always)
    private func readHead(_ row: UnsafeRawPointer, kvHead: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if dtype == .f32 {
            return row.assumingMemoryBound(to: Float.self) + kvHead * headDim
        }
        dtype.decode(row, offset: kvHead * headDim, count: headDim, into: scratch)
        return UnsafePointer(scratch)
    }
}
