import Kernels
import KVCache

/// Timings and counts of one ``TextGenerator/generate(prompt:steps:sampler:stopAtEOS:onToken:)`` call.
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens: Int
    public var generatedTokens: Int
    /// Seconds spent in prefill steps (through the first sampled token).
    public var prefillSeconds: Double
    /// Seconds spent in decode steps.
    public var decodeSeconds: Double

    /// Prompt tokens per second of prefill.
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Generated tokens per second of decode (the first token comes from prefill).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(0, generatedTokens - 1)) / decodeSeconds : 0
    }
}

/// Single-sequence generation over the batched ``Transformer``, with a contiguous KV cache
/// sized for the model's full context: the prompt is prefilled in chunks of at most
/// `prefillChunk` tokens (logits only for its last position), then one token per decode step.
/// Everything is allocated at init; a generation allocates nothing per step.
public final class TextGenerator {
    public let transformer: Transformer
    public let kv: KVCacheStorage
    public let prefillChunk: Int
    /// Monotonic seconds, injected (for timing only; results never depend on it).
    private let clock: () -> Double
    private let blockTable: [Int32]
    private var batch = ForwardBatch()

    /// - Parameters:
    ///   - threads: worker threads of the pool the forward pass uses.
    ///   - prefillChunk: most prompt tokens per step.
    ///   - clock: monotonic time in seconds.
    public init(weights: ModelWeights, threads: Int, prefillChunk: Int = 512, kvType: KVDType = .f32,
                clock: @escaping () -> Double) throws(KVCacheStorageError) {
        let c = weights.config
        let blockSize = 16
        let blocks = (c.maxSeqLen + blockSize - 1) / blockSize
        kv = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                blockCount: blocks, dtype: kvType)
        self.prefillChunk = max(1, min(prefillChunk, c.maxSeqLen))
        transformer = Transformer(weights: weights, maxBatchTokens: self.prefillChunk, maxLogitRows: 1,
                                  pool: ThreadPool(threadCount: threads))
        blockTable = (0..<blocks).map(Int32.init)
        self.clock = clock
    }

    /// Feeds `prompt` (token ids, non-empty, each < V) and samples up to `steps` tokens,
    /// calling `onToken` with each as soon as it is sampled. Stops early at EOS when
    /// `stopAtEOS` is given (the EOS itself is not reported) or at the end of the context.
    /// Restarts from an empty cache on every call.
    public func generate(prompt: [Int], steps: Int, sampler: inout Sampler, stopAtEOS: Int? = nil,
                         onToken: (Int) -> Void) -> GenerationStats {
        let c = transformer.config
        precondition(!prompt.isEmpty && prompt.count < c.maxSeqLen, "prompt of \(prompt.count) tokens for a context of \(c.maxSeqLen)")
        var stats = GenerationStats(promptTokens: prompt.count, generatedTokens: 0, prefillSeconds: 0, decodeSeconds: 0)
        let budget = min(steps, c.maxSeqLen - prompt.count)
        guard budget > 0 else { return stats }

        let start = clock()
        var position = 0
        var logits: Logits?
        while position < prompt.count {
            let end = min(prompt.count, position + prefillChunk)
            batch.removeAll()
            batch.append(tokens: prompt[position..<end].lazy.map { Int32($0) }, startPosition: position,
                         blockTable: blockTable, logits: end == prompt.count ? .last : .none)
            logits = transformer.forward(batch, kv: kv)
            position = end
        }
        var token = sampler.sample(logits!.row(0))
        let prefillEnd = clock()
        stats.prefillSeconds = prefillEnd - start
        while true {
            if token == stopAtEOS { break }
            onToken(token)
            stats.generatedTokens += 1
            guard stats.generatedTokens < budget else { break }
            batch.removeAll()
            batch.append(tokens: CollectionOfOne(Int32(token)), startPosition: position, blockTable: blockTable, logits: .last)
            token = sampler.sample(transformer.forward(batch, kv: kv).row(0))
            position += 1
        }
        stats.decodeSeconds = clock() - prefillEnd
        return stats
    }
}
