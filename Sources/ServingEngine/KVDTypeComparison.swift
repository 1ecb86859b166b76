import Foundation
import KVCache
import Kernels
import LlamaModel

/// The two sides of choosing a KV element type: how many more tokens fit in the same memory,
/// and how far the model's next-token distributions move (KL divergence against f32 KV).
public enum KVDTypeComparison {
    /// Tokens of KV that fit in `bytes` with `dtype` divided by the same for f32.
    public static func capacityGain(_ dtype: KVDType, config: ModelConfig, blockSize: Int = 16, bytes: Int) -> Double {
        func blocks(_ t: KVDType) -> Int {
            bytes / KVCacheStorage.bytesPerBlock(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim,
                                                blockSize: blockSize, dtype: t)
        }
        return Double(blocks(dtype)) / Double(max(1, blocks(.f32)))
    }

    /// Mean KL(p_f32 ‖ p_dtype) in nats over every position of every prompt: each prompt is
    /// prefilled in one pass with logits at all positions, once with an f32 cache and once with
    /// `dtype` (later positions attend to the quantized keys and values of earlier ones).
    public static func meanKLDivergence(_ dtype: KVDType, weights: ModelWeights, prompts: [[Int32]],
                                        threads: Int = 1) throws -> Double {
        let c = weights.config
        let longest = prompts.map(\.count).max() ?? 1
        let blockSize = 16
        let blocks = (longest + blockSize - 1) / blockSize
        let pool = ThreadPool(threadCount: threads)
        let transformer = Transformer(weights: weights, maxBatchTokens: longest, maxLogitRows: longest, pool: pool)
        let reference = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                           blockCount: blocks, dtype: .f32)
        let quantized = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                           blockCount: blocks, dtype: dtype)
        let table = (0..<Int32(blocks)).map { $0 }
        var total = 0.0
        var count = 0
        for prompt in prompts {
            var batch = ForwardBatch()
            batch.append(tokens: prompt, startPosition: 0, blockTable: table, logits: .all)
            let p = softmaxRows(transformer.forward(batch, kv: reference), rows: prompt.count)
            let q = softmaxRows(transformer.forward(batch, kv: quantized), rows: prompt.count)
            for r in 0..<prompt.count {
                var kl = 0.0
                for i in 0..<c.vocabSize where p[r][i] > 0 {
                    kl += p[r][i] * (log(p[r][i]) - log(max(q[r][i], 1e-300)))
                }
                total += max(0, kl)
                count += 1
            }
        }
        return count == 0 ? 0 : total / Double(count)
    }

    static func softmaxRows(_ logits: Logits, rows: Int) -> [[Double]] {
        (0..<rows).map { r in
            let row = logits.row(r)
            let m = Double(row.max() ?? 0)
            var e = row.map { exp(Double($0) - m) }
            let s = e.reduce(0, +)
            for i in e.indices { e[i] /= s }
            return e
        }
    }
}
