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

extension KVCacheStorage {
    /// Positions rounded up to whole 16-position panels.
    public static func paddedLength(_ length: Int) -> Int { (length + 15) / 16 * 16 }

    /// Decodes head `kvHead` of positions `0..<length` of `layer` into the packed layouts of
    /// ``AttentionKernel`` (`keys` and `values` each hold `paddedLength(length) · headDim`
    /// floats; padding positions are zero). Requires `headDim % 16 == 0`.
    /// - Complexity: O(length · headDim).
    public func packHead(layer: Int, kvHead: Int, blockTable: UnsafeBufferPointer<Int32>, length: Int,
                         keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        precondition(headDim % 16 == 0, "KVCacheStorage.packHead: headDim \(headDim) is not a multiple of 16")
        precondition(length <= blockTable.count * blockSize, "KVCacheStorage.packHead: block table too short for \(length) positions")
        let padded = KVCacheStorage.paddedLength(length)
        if padded > length {
            let lastPanel = keys + (padded / 16 - 1) * headDim * 16
            lastPanel.update(repeating: 0, count: headDim * 16)
            for c in 0..<(headDim / 16) {
                (values + c * padded * 16 + length * 16).update(repeating: 0, count: (padded - length) * 16)
            }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * headDim) { scratch in
            let keyBuffer = scratch.baseAddress!, valueBuffer = keyBuffer + headDim
            for p in 0..<length {
                let block = Int(blockTable[p / blockSize]), slot = p % blockSize
                let key = readHead(UnsafeRawPointer(keyRow(layer: layer, block: block, slot: slot)), kvHead: kvHead, scratch: keyBuffer)
                let value = readHead(UnsafeRawPointer(valueRow(layer: layer, block: block, slot: slot)), kvHead: kvHead,
                                     scratch: valueBuffer)
                let keyPanel = keys + (p / 16) * headDim * 16 + p % 16
                for d in 0..<headDim { keyPanel[d * 16] = key[d] }
                for c in 0..<(headDim / 16) {
                    (values + c * padded * 16 + p * 16).update(from: value + c * 16, count: 16)
                }
            }
        }
    }
}
