#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// What one cached token costs the decode attention in each KV element type, measured with the
/// runtime's own readers (``KVCacheStorage/attentionScores(layer:kvHead:queries:queryCount:scale:blockTable:length:scores:scoreStride:)``
/// and ``KVCacheStorage/accumulateValues(layer:kvHead:weights:weightStride:queryCount:blockTable:length:out:)``).
/// The byte roofline says a narrower KV type makes attention cheaper; on a CPU the decoding of
/// int8/int4 rows can cost more than the bytes save (issue #14: int8 KV measured ×0.59 TPOT on a
/// stories110m run where the byte model said ×1.07). `profile` records these figures in the
/// trace header so the analyzer's R3 can price the change with the runtime's real kernels.
public enum KVAttentionProbe {
    /// Seconds, on one thread, to attend one sequence's queries over one cached token in every
    /// layer and KV head (scores plus value accumulation), for a cache of `context` tokens; best
    /// of `repetitions`. nil when the shape is not valid for `dtype`.
    /// - Complexity: O(repetitions · layers · heads · context · headDim).
    public static func secondsPerToken(layers: Int, kvHeads: Int, heads: Int, headDim: Int, dtype: KVDType,
                                       context: Int, blockSize: Int = 16, repetitions: Int = 3) -> Double? {
        let blocks = (context + blockSize - 1) / blockSize
        guard context > 0, heads % max(1, kvHeads) == 0,
              let kv = try? KVCacheStorage(layers: layers, kvHeads: kvHeads, headDim: headDim, blockSize: blockSize,
                                          blockCount: blocks, dtype: dtype) else { return nil }
        let kvDim = kvHeads * headDim
        let group = heads / kvHeads
        // Deterministic, non-constant rows (a fixed LCG) so quantization sees real ranges.
        var state: UInt32 = 0x9E37_79B9
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23)
        }
        var row = [Float](repeating: 0, count: kvDim)
        var value = [Float](repeating: 0, count: kvDim)
        for l in 0..<layers {
            for p in 0..<context {
                for i in 0..<kvDim { row[i] = next(); value[i] = next() }
                kv.store(layer: l, block: p / blockSize, slot: p % blockSize, key: row, value: value)
            }
        }
        let table = (0..<blocks).map { Int32($0) }
        var queries = [Float](repeating: 0, count: group * headDim)
        for i in queries.indices { queries[i] = next() }
        var scores = [Float](repeating: 0, count: group * context)
        var out = [Float](repeating: 0, count: group * headDim)
        let weight = 1 / Float(context)
        var best = Double.infinity
        table.withUnsafeBufferPointer { t in
            for _ in 0..<max(1, repetitions) {
                let start = HostProbe.now()
                for l in 0..<layers {
                    for h in 0..<kvHeads {
                        kv.attentionScores(layer: l, kvHead: h, queries: queries, queryCount: group, scale: 1,
                                           blockTable: t, length: context, scores: &scores, scoreStride: context)
                        for i in scores.indices { scores[i] = weight }
                        kv.accumulateValues(layer: l, kvHead: h, weights: scores, weightStride: context, queryCount: group,
                                            blockTable: t, length: context, out: &out)
                    }
                }
                best = min(best, HostProbe.now() - start)
            }
        }
        // Keep the result observable so the loops are not optimized away.
        if out.contains(where: { !$0.isFinite }) { return nil }
        return best / Double(context)
    }
}
