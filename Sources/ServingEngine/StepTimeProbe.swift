import KVCache
import Kernels
import LlamaModel
import TraceFormat
import Tracing

/// How the runtime's forward step grows with the rows it computes, measured on this host before the
/// run: a decode step of n sequences at the shortest context (n rows through every weight matrix
/// and the LM head; attention is priced separately by the KV attention probe), for n = 1 … 64,
/// with the run's thread count and with each share `--disaggregated` would give a worker.
///
/// The roofline calls a small-batch decode step memory-bound and nearly flat in the batch; on a
/// CPU it is not (issue #14: decode MFU ≈ 6%, yet a step of 4 rows costs ×2.8 one row on
/// stories15m), so batch growth (R2, R3, R10, R13), verification (R4) and the thread split (R6)
/// are priced on this curve when the trace header carries it (`probe.step_us.threads_<t>`).
public struct StepTimeProbeResult: Sendable, Equatable {
    /// Batch sizes measured, ascending.
    public static let batches = [1, 2, 4, 8, 16, 32, 64]
    /// Threads → seconds per step for each of ``batches``.
    public var seconds: [Int: [Double]]

    public init(seconds: [Int: [Double]]) { self.seconds = seconds }

    /// `probe.step_us.threads_<t>` = "1:2083.1,2:2410.5,…" (n:microseconds, 0.1 µs).
    public var headerOptions: [String: String] {
        var o: [String: String] = [:]
        for (t, s) in seconds {
            o["probe.step_us.threads_\(t)"] = zip(Self.batches, s).map { "\($0):\(formatNumber(($1 * 1e7).rounded() / 10))" }
                .joined(separator: ",")
        }
        return o
    }
}

extension ServingEngine {
    /// Measures ``StepTimeProbeResult`` and keeps it for the header (``stepTimeProbe``): for each
    /// thread count in {t, ⌊t/2⌋, t − ⌊t/2⌋} a transformer of this model runs decode steps of n
    /// sequences × 1 token at position 0, logits for every row, median of `repetitions` after one
    /// warm-up. ≈ 0.3 s for stories15m, ≈ 3 s for stories110m on 2 cores.
    /// - Complexity: O(threadCounts · repetitions · Σn · parameters).
    @discardableResult
    public func probeStepTime(repetitions: Int = 3) -> StepTimeProbeResult? {
        let c = model.weights.config
        let maxBatch = StepTimeProbeResult.batches.last!
        guard let storage = try? KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: options.blockSize,
                                                blockCount: maxBatch, dtype: options.dtype) else { return nil }
        let t = options.threads
        var counts = [t]
        if t >= 2 { counts += [t / 2, t - t / 2] }
        var result: [Int: [Double]] = [:]
        for threads in Set(counts).sorted() {
            let transformer = Transformer(weights: model.weights, maxBatchTokens: maxBatch, maxLogitRows: maxBatch,
                                          pool: ThreadPool(threadCount: threads))
            var times: [Double] = []
            for n in StepTimeProbeResult.batches {
                var batch = ForwardBatch()
                for i in 0..<n {
                    batch.append(tokens: [Int32(3 + i % max(1, c.vocabSize - 3))], startPosition: 0, blockTable: [Int32(i)], logits: .last)
                }
                _ = transformer.forward(batch, kv: storage)
                var samples: [Double] = []
                for _ in 0..<max(1, repetitions) {
                    let start = HostProbe.now()
                    _ = transformer.forward(batch, kv: storage)
                    samples.append(HostProbe.now() - start)
                }
                samples.sort()
                times.append(samples[samples.count / 2])
            }
            result[threads] = times
        }
        let r = StepTimeProbeResult(seconds: result)
        stepTimeProbe = r
        return r
    }
}
