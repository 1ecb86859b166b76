import Kernels
import KVCache
import LlamaModel

/// A drafter that runs a model: a separate small model, the target re-quantized, or the
/// target's first layers (see ``ModelWeights/earlyExit(layers:)`` and
/// ``ModelWeights/requantized(to:)``).
///
/// It owns a transformer and a private f32 KV cache with a fixed run of blocks per sequence
/// slot (`maxSequences` slots, each covering the model's `maxSeqLen`). Per sequence it records
/// the tokens whose K/V it holds; a call rolls that record back to the common prefix with the
/// context it is given (dropping rejected draft positions), feeds the missing tokens (prompt
/// on the first call, the accepted tail and the target's token afterwards) and then one token
/// per further draft position. All sequences advance together: draft position j of every
/// sequence is one batched forward pass, so a round costs γ forward passes (the first one also
/// carrying the catch-up tokens, split into several passes if they exceed `maxBatchTokens`).
public final class ModelDrafter: Drafter {
    public let name: String
    public let transformer: Transformer
    public let kv: KVCacheStorage
    public let maxSequences: Int
    public var runsModel: Bool { true }

    private let blocksPerSlot: Int
    private var slots: [UInt64: Slot] = [:]
    private var freeSlots: [Int]
    private var batch = ForwardBatch()
    private var probabilities: [Float]

    private struct Slot {
        var index: Int
        /// Tokens whose K/V sit at positions 0..<fed.count.
        var fed: [Int32] = []
    }

    /// - Parameters:
    ///   - maxSequences: sequences drafted for at once (slots).
    ///   - maxBatchTokens: token budget of one draft forward pass (≥ maxSequences).
    public init(name: String, weights: ModelWeights, maxSequences: Int, maxBatchTokens: Int = 512,
                pool: ThreadPool) throws(KVCacheStorageError) {
        let c = weights.config
        let blockSize = 16
        self.name = name
        self.maxSequences = maxSequences
        blocksPerSlot = (c.maxSeqLen + blockSize - 1) / blockSize
        kv = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                blockCount: maxSequences * blocksPerSlot, dtype: .f32)
        transformer = Transformer(weights: weights, maxBatchTokens: max(maxBatchTokens, maxSequences),
                                  maxLogitRows: maxSequences, pool: pool)
        freeSlots = Array((0..<maxSequences).reversed())
        probabilities = [Float](repeating: 0, count: c.vocabSize)
    }

    public func release(_ sequence: UInt64) {
        if let slot = slots.removeValue(forKey: sequence) { freeSlots.append(slot.index) }
    }

    /// Positions of `sequence` whose draft K/V is valid (for tests of the rollback).
    public func cachedLength(_ sequence: UInt64) -> Int { slots[sequence]?.fed.count ?? 0 }

    public func propose(_ requests: inout [DraftRequest], sampling: SamplingParameters) {
        let maxSeqLen = transformer.config.maxSeqLen
        // Tokens each request still has to feed before its next draft token comes out.
        var pending: [ArraySlice<Int32>] = []
        for i in requests.indices {
            requests[i].tokens = []
            requests[i].distributions = []
            let id = requests[i].sequence
            if slots[id] == nil {
                // Every slot taken (e.g. by preempted sequences): no draft this round.
                guard let free = freeSlots.popLast() else {
                    requests[i].count = 0
                    pending.append([])
                    continue
                }
                slots[id] = Slot(index: free)
            }
            let context = requests[i].context
            // Never draft past the model's context window.
            requests[i].count = max(0, min(requests[i].count, maxSeqLen - context.count))
            var slot = slots[id]!
            var common = 0
            let limit = min(slot.fed.count, context.count - 1)  // the last token is always re-fed for its logits
            while common < limit && slot.fed[common] == context[common] { common += 1 }
            slot.fed.removeLast(slot.fed.count - common)
            slots[id] = slot
            pending.append(requests[i].count > 0 ? context[common...] : [])
        }

        while true {
            batch.removeAll()
            var members: [(request: Int, fed: Int, last: Bool)] = []
            var budget = transformer.maxBatchTokens
            for i in requests.indices where !pending[i].isEmpty && budget > 0 {
                let take = min(pending[i].count, budget)
                budget -= take
                let slot = slots[requests[i].sequence]!
                let chunk = pending[i].prefix(take)
                let last = take == pending[i].count
                let blocks = (slot.index * blocksPerSlot)..<((slot.index + 1) * blocksPerSlot)
                batch.append(tokens: chunk, startPosition: slot.fed.count, blockTable: blocks.lazy.map { Int32($0) },
                             logits: last ? .last : .none)
                members.append((i, take, last))
            }
            if members.isEmpty { break }
            let logits = transformer.forward(batch, kv: kv)
            for (s, member) in members.enumerated() {
                let i = member.request, id = requests[i].sequence
                slots[id]!.fed.append(contentsOf: pending[i].prefix(member.fed))
                pending[i] = pending[i].dropFirst(member.fed)
                guard member.last else { continue }
                let row = logits.row(logits.rows(ofSequence: s).lowerBound)
                let token: Int
                if sampling.temperature > 0 {
                    probabilities.withUnsafeMutableBufferPointer { SamplingDistribution.fill(row, sampling, into: $0) }
                    token = probabilities.withUnsafeBufferPointer { SamplingDistribution.draw($0, using: &requests[i].rng) }
                    requests[i].distributions.append(contentsOf: probabilities)
                } else {
                    token = Sampler.argmax(row)
                }
                requests[i].tokens.append(Int32(token))
                if requests[i].tokens.count < requests[i].count { pending[i] = [Int32(token)] }
            }
        }
    }
}
