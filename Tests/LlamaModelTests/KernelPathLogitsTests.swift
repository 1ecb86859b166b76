import Testing
import Kernels
import KVCache
@testable import LlamaModel

/// Same answers on every kernel path: a model's logits from the wider paths (AVX512-VNNI /
/// AVX-VNNI integer dots, the AVX-512 GEMM tile) against the build's own Swift kernels (avx2 or
/// generic), for a 40-token prefill (blocked GEMM) and single-token decode steps (streaming
/// integer kernels). The integer sums are exact on every path and only the float accumulation
/// order differs, so the tolerance is the one that holds between the two matrix paths (2e-5).
@Suite struct KernelPathLogitsTests {
    static let pool = ThreadPool(threadCount: 2)
    /// The Swift kernels of this build: the reference path.
    static let baseline: KernelPath = CPUFeatures.buildRequiresAVX2 ? .avx2 : .generic
    /// Wider paths this machine runs (none on a machine without AVX-VNNI / AVX-512: then these
    /// tests have no cases, and KernelPathTests prints the skipped paths).
    static let wider = KernelPath.supported.filter { $0 != baseline }

    /// Logits of the last prompt token and of each of `steps` greedy decode steps.
    func logits(_ weights: ModelWeights, path: KernelPath, prompt: [Int32], steps: Int) throws -> [[Float]] {
        let c = weights.config
        let transformer = Transformer(weights: weights, maxBatchTokens: 64, maxLogitRows: 1, pool: Self.pool)
        transformer.matmul.path = path
        let kv = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: 16, blockCount: 4, dtype: .f32)
        var batch = ForwardBatch()
        batch.append(tokens: prompt[...], startPosition: 0, blockTable: [0, 1, 2, 3], logits: .last)
        var rows = [Array(transformer.forward(batch, kv: kv).row(0))]
        for step in 0..<steps {
            // Feed a fixed token so that every path sees the same inputs whatever its argmax.
            batch.removeAll()
            batch.append(tokens: [Int32((step * 13 + 5) % c.vocabSize)], startPosition: prompt.count + step,
                         blockTable: [0, 1, 2, 3], logits: .last)
            rows.append(Array(transformer.forward(batch, kv: kv).row(0)))
        }
        return rows
    }

    @Test(arguments: [TensorType.q8_0, .q4_0, .f32, .f16], wider)
    func logitsAgreeWithTheBaselinePath(type: TensorType, path: KernelPath) throws {
        let weights = ModelPreset.tiny.makeWeights(type: type, seed: 5)
        let prompt = (0..<40).map { Int32(($0 * 31 + 7) % weights.config.vocabSize) }
        let reference = try logits(weights, path: Self.baseline, prompt: prompt, steps: 4)
        let wide = try logits(weights, path: path, prompt: prompt, steps: 4)
        for (i, (a, b)) in zip(wide, reference).enumerated() {
            let error = a.withUnsafeBufferPointer { relativeError($0, b) }
            #expect(error <= 2e-5, "\(type) \(path) vs \(Self.baseline), row \(i) (\(i == 0 ? "prefill" : "decode")): \(error)")
            #expect(a != [Float](repeating: 0, count: a.count), "\(type) \(path): logits all zero")
        }
    }
}
